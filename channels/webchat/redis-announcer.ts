/**
 * Live fan-out of web chat frames between web processes (production): each append is published
 * on one Redis pub/sub channel, so frames one process delivers reach the sockets another process
 * holds. Only the announcement goes through here; the frames themselves are kept in
 * ChannelStorage (history.ts), which is what a reconnecting tab reads.
 *
 * Announcements of one conversation are published in the order of its history: appends happen
 * while the runtime holds the conversation's lock, and each publishes before its delivery ends.
 *
 * @example
 * const announcer = new RedisFrameAnnouncer(redis, { channel: "botflow:webchat:appended" });
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { FrameAnnouncer, HistoryEntry, RemoteAppendListener } from "./history.ts";

export interface RedisFrameAnnouncerOptions {
  /** The pub/sub channel; default `botflow:webchat:appended`. */
  channel?: string;
}

export class RedisFrameAnnouncer implements FrameAnnouncer {
  readonly shared = true;
  private readonly channel: string;
  /** Tells this process's announcements from the others'. */
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;

  /** `redis` stays the caller's; `subscribe` opens (and `close` quits) a connection of its own. */
  constructor(
    private readonly redis: Redis,
    o: RedisFrameAnnouncerOptions = {},
  ) {
    this.channel = o.channel ?? "botflow:webchat:appended";
  }

  async publish(conversationId: string, entries: readonly HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.redis.publish(this.channel, JSON.stringify({ origin: this.origin, conversationId, entries }));
    } catch {
      // The frames are stored: a socket elsewhere gets them with the next announcement (it fills
      // gaps from the history) or on reconnect. Failing the delivery would store them twice.
    }
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
}
