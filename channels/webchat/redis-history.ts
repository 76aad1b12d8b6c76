/**
 * Web chat history in Redis (production): shared by every web process, so a tab reconnecting
 * to another process, or after a restart, resumes its conversation. One list per conversation,
 * trimmed to the newest frames and expiring with the conversation.
 *
 * @example
 * const history = new RedisWebchatHistory(redis, { keyPrefix: "botflow:webchat:" });
 */
import type { Redis } from "ioredis";
import type { WebchatHistory } from "./history.ts";
import type { ServerFrame } from "./protocol.ts";

export interface RedisWebchatHistoryOptions {
  /** Prepended to `<conversationId>`; default `botflow:webchat:`. */
  keyPrefix?: string;
  maxFrames?: number;
  /** Idle histories expire after this long; default 30 days, like conversation state. */
  ttlMs?: number;
}

export class RedisWebchatHistory implements WebchatHistory {
  private readonly prefix: string;
  private readonly maxFrames: number;
  private readonly ttlMs: number;

  /** `redis` stays the caller's: it is neither connected nor closed here. */
  constructor(
    private readonly redis: Redis,
    o: RedisWebchatHistoryOptions = {},
  ) {
    this.prefix = o.keyPrefix ?? "botflow:webchat:";
    this.maxFrames = o.maxFrames ?? 200;
    this.ttlMs = o.ttlMs ?? 30 * 86_400_000;
  }

  async append(conversationId: string, frames: readonly ServerFrame[]): Promise<void> {
    if (frames.length === 0) return;
    const key = this.prefix + conversationId;
    const results = await this.redis
      .multi()
      .rpush(key, ...frames.map((f) => JSON.stringify(f)))
      .ltrim(key, -this.maxFrames, -1)
      .pexpire(key, this.ttlMs)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw new Error(`web chat history append failed: ${failed?.[0]?.message ?? "transaction discarded"}`);
  }

  async read(conversationId: string): Promise<ServerFrame[] | undefined> {
    const items = await this.redis.lrange(this.prefix + conversationId, 0, -1);
    if (items.length === 0) return undefined;
    return items.map((s) => JSON.parse(s) as ServerFrame);
  }
}
