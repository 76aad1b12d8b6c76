/**
 * Web chat history in Redis (production): shared by every web process, so a tab reconnecting
 * to another process, or after a restart, resumes its conversation; and announced on a
 * pub/sub channel, so frames one process delivers reach the sockets other processes hold.
 *
 * One Lua script numbers, appends, trims and publishes, so the announcements come in the
 * order of the history. Keys: `<prefix>{<conversation>}` (list of "seq|frame JSON") and
 * `<prefix>{<conversation>}:seq` (one cluster slot), both expiring with the conversation;
 * channel `<prefix>appended`.
 *
 * @example
 * const history = new RedisWebchatHistory(redis, { keyPrefix: "botflow:webchat:" });
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { HistoryEntry, RemoteAppendListener, WebchatHistory } from "./history.ts";
import type { ServerFrame } from "./protocol.ts";

export interface RedisWebchatHistoryOptions {
  /** Prepended to every key and to the channel; default `botflow:webchat:`. */
  keyPrefix?: string;
  maxFrames?: number;
  /** Idle histories expire after this long; default 30 days, like conversation state. */
  ttlMs?: number;
}

// KEYS: list, seq. ARGV: maxFrames, ttlMs, channel, message head (JSON without entries), frames…
const APPEND = `
local n = #ARGV - 4
local last = redis.call('INCRBY', KEYS[2], n)
local entries = {}
for i = 1, n do
  local seq = last - n + i
  redis.call('RPUSH', KEYS[1], seq .. '|' .. ARGV[4 + i])
  entries[i] = '{"seq":' .. seq .. ',"frame":' .. ARGV[4 + i] .. '}'
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. '[' .. table.concat(entries, ',') .. ']}')
return last
`;

interface Commands {
  botflowWebchatAppend(list: string, seq: string, ...args: (string | number)[]): Promise<number>;
}

export class RedisWebchatHistory implements WebchatHistory {
  readonly shared = true;
  private readonly prefix: string;
  private readonly maxFrames: number;
  private readonly ttlMs: number;
  /** Tells this process's announcements from the others'. */
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;

  /** `redis` stays the caller's; `subscribe` opens (and `close` quits) a connection of its own. */
  constructor(
    private readonly redis: Redis,
    o: RedisWebchatHistoryOptions = {},
  ) {
    this.prefix = o.keyPrefix ?? "botflow:webchat:";
    this.maxFrames = o.maxFrames ?? 200;
    this.ttlMs = o.ttlMs ?? 30 * 86_400_000;
    redis.defineCommand("botflowWebchatAppend", { numberOfKeys: 2, lua: APPEND });
  }

  async append(conversationId: string, frames: readonly ServerFrame[]): Promise<HistoryEntry[]> {
    if (frames.length === 0) return [];
    const key = this.key(conversationId);
    const head = `{"origin":${JSON.stringify(this.origin)},"conversationId":${JSON.stringify(conversationId)},"entries":`;
    const json = frames.map((f) => JSON.stringify(f));
    const last = await (this.redis as Redis & Commands).botflowWebchatAppend(key, `${key}:seq`, this.maxFrames, this.ttlMs, this.channel, head, ...json);
    return frames.map((frame, i) => ({ seq: Number(last) - frames.length + 1 + i, frame }));
  }

  async read(conversationId: string): Promise<HistoryEntry[] | undefined> {
    const items = await this.redis.lrange(this.key(conversationId), 0, -1);
    if (items.length === 0) return undefined;
    return items.map((s) => {
      const bar = s.indexOf("|");
      return { seq: Number(s.slice(0, bar)), frame: JSON.parse(s.slice(bar + 1)) as ServerFrame };
    });
  }

  async subscribe(listener: RemoteAppendListener): Promise<void> {
    // Its own connection; it queues the subscribe until connected and re-subscribes after a reconnect.
    const sub = this.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true });
    this.subscriber = sub;
    sub.on("error", () => {}); // the main connection's error handler reports outages
    sub.on("message", (_channel: string, message: string) => {
      let m: { origin?: unknown; conversationId?: unknown; entries?: unknown };
      try {
        m = JSON.parse(message) as typeof m;
      } catch {
        return;
      }
      if (m.origin === this.origin || typeof m.conversationId !== "string" || !Array.isArray(m.entries)) return;
      listener(m.conversationId, m.entries as HistoryEntry[]);
    });
    await sub.subscribe(this.channel);
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (!sub) return;
    if (sub.status === "ready") await sub.quit().catch(() => sub.disconnect());
    else sub.disconnect();
  }

  private key(conversationId: string): string {
    return `${this.prefix}{${conversationId}}`;
  }

  private get channel(): string {
    return `${this.prefix}appended`;
  }
}
