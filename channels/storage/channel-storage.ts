/**
 * ChannelStorage: the small memory a channel keeps beside the engine's conversation state —
 * which Telegram message carries a prompt's keyboard, which prompt a WhatsApp poll stands for —
 * as a bounded key/value port with a time to live. The embedded default keeps it in this
 * process (MemoryChannelStorage, bounded); production keeps it in Redis (RedisChannelStorage),
 * so any web process can close a keyboard or count a vote that another process sent, and a
 * restart loses nothing. Both pass one contract (test/channels/channel-storage.test.ts).
 *
 * Values are JSON (objects, arrays, strings, numbers, booleans); readers check what they get
 * back, since a value may have been written by an older version.
 *
 * Deliberately left out: listing and counting keys (nothing on a hot path needs them, and
 * Redis would have to scan), transactions across keys, and any guarantee that an entry lives
 * its whole TTL in memory (the oldest are dropped past the bound; a lost entry only means a
 * keyboard is not closed in place or an old vote is ignored, never a double answer).
 *
 * @example
 * const prompts = storage.scope("telegram:prompt:");
 * await prompts.set(`${chatId}:${promptId}`, { messageId }, 30 * 86_400_000);
 * const entry = await prompts.take(`${chatId}:${promptId}`); // read once, then gone
 */

/** A JSON value, as ChannelStorage keeps it. */
export type StoredValue = string | number | boolean | null | StoredValue[] | { [key: string]: StoredValue };

export interface ChannelStorage {
  /** The value under `key`, undefined when there is none or it expired. */
  get(key: string): Promise<unknown>;
  /** Stores `value` under `key` for `ttlMs`, replacing what was there. */
  set(key: string, value: StoredValue, ttlMs: number): Promise<void>;
  /** The value under `key`, removed in the same step: two processes never both take it. */
  take(key: string): Promise<unknown>;
  delete(key: string): Promise<void>;
  /**
   * Deletes every key that starts with `prefix` and ends with `suffix` (a person's erasure: the
   * prompts of one chat, a user's window on any business number); resolves to how many. Walks
   * every key (Redis: SCAN), so it is for rare requests, never for a hot path.
   */
  deleteMatching(prefix: string, suffix?: string): Promise<number>;
  /** The same storage with `prefix` put before every key (one namespace per channel and use). */
  scope(prefix: string): ChannelStorage;
}

/** How long channel memory lives unless a channel says otherwise: as long as conversation state (30 days). */
export const DEFAULT_CHANNEL_TTL_MS = 30 * 86_400_000;

/** Wraps `inner` so that every key gets `prefix` (used by both implementations' `scope`). */
export function scopedStorage(inner: Omit<ChannelStorage, "scope">, prefix: string): ChannelStorage {
  return {
    get: (key) => inner.get(prefix + key),
    set: (key, value, ttlMs) => inner.set(prefix + key, value, ttlMs),
    take: (key) => inner.take(prefix + key),
    delete: (key) => inner.delete(prefix + key),
    deleteMatching: (start, end) => inner.deleteMatching(prefix + start, end),
    scope: (more) => scopedStorage(inner, prefix + more),
  };
}

/** `key` starts with `prefix` and ends with `suffix`, the two not overlapping. */
export function matchesAround(key: string, prefix: string, suffix: string): boolean {
  return key.length >= prefix.length + suffix.length && key.startsWith(prefix) && key.endsWith(suffix);
}
