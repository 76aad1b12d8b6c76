/**
 * ChannelStorage in Redis (production): one string key per entry, `<keyPrefix><key>`, holding the
 * value's JSON and expiring with its TTL (SET … PX), so Redis bounds it; `take` is GETDEL, so of
 * two processes closing the same prompt only one gets its message.
 *
 * @example
 * const storage = new RedisChannelStorage(redis, { keyPrefix: "botflow:channel:" });
 */
import type { Redis } from "ioredis";
import { StoreUnavailableError } from "../../engine/errors.ts";
import { matchesAround, scopedStorage, type ChannelStorage, type StoredValue } from "./channel-storage.ts";

export interface RedisChannelStorageOptions {
  /** Put before every key; default `botflow:channel:`. */
  keyPrefix?: string;
}

export class RedisChannelStorage implements ChannelStorage {
  private readonly prefix: string;

  /** `redis` stays the caller's to close. */
  constructor(
    private readonly redis: Redis,
    o: RedisChannelStorageOptions = {},
  ) {
    this.prefix = o.keyPrefix ?? "botflow:channel:";
  }

  async get(key: string): Promise<unknown> {
    return parse(await this.call(() => this.redis.get(this.prefix + key)));
  }

  async set(key: string, value: StoredValue, ttlMs: number): Promise<void> {
    await this.call(() => this.redis.set(this.prefix + key, JSON.stringify(value), "PX", Math.max(1, Math.round(ttlMs))));
  }

  async take(key: string): Promise<unknown> {
    return parse(await this.call(() => this.redis.getdel(this.prefix + key)));
  }

  async delete(key: string): Promise<void> {
    await this.call(() => this.redis.del(this.prefix + key));
  }

  async deleteMatching(prefix: string, suffix = ""): Promise<number> {
    const start = this.prefix + prefix;
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await this.call(() => this.redis.scan(cursor, "MATCH", `${globEscape(start)}*${globEscape(suffix)}`, "COUNT", 1000));
      cursor = next;
      keys.push(...batch.filter((k) => matchesAround(k, start, suffix)));
    } while (cursor !== "0");
    if (keys.length === 0) return 0;
    return this.call(() => this.redis.del(...keys));
  }

  scope(prefix: string): ChannelStorage {
    return scopedStorage(this, prefix);
  }

  /** Redis errors become StoreUnavailableError, so a webhook answers 503 and the messenger delivers again. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError("the channel storage (Redis)", { cause: err });
    }
  }
}

/** `s` as a literal in a Redis glob pattern (SCAN MATCH). */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function parse(raw: string | null): unknown {
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined; // not ours (or corrupted): as if absent
  }
}
