/**
 * ChannelStorage in this process's memory (the embedded default): at most `maxEntries` keys,
 * the least recently written dropped first, each expiring after its TTL on the injected clock.
 */
import { matchesAround, scopedStorage, type ChannelStorage, type StoredValue } from "./channel-storage.ts";

export interface MemoryChannelStorageOptions {
  /** Keys kept at most (default 100,000); the oldest written go first. */
  maxEntries?: number;
  /** Milliseconds since the epoch; tests pass a simulated clock. */
  now?: () => number;
}

interface Entry {
  json: string;
  expiresAt: number;
}

export class MemoryChannelStorage implements ChannelStorage {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: MemoryChannelStorageOptions = {}) {
    this.maxEntries = o.maxEntries ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  async get(key: string): Promise<unknown> {
    const entry = this.live(key);
    // Kept as JSON, like Redis: a caller never shares an object with the store.
    return entry ? JSON.parse(entry.json) : undefined;
  }

  async set(key: string, value: StoredValue, ttlMs: number): Promise<void> {
    // Re-inserting moves the key to the young end of the Map's order.
    this.entries.delete(key);
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: this.now() + ttlMs });
    if (this.entries.size <= this.maxEntries) return;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  async take(key: string): Promise<unknown> {
    const entry = this.live(key);
    this.entries.delete(key);
    return entry ? JSON.parse(entry.json) : undefined;
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async deleteMatching(prefix: string, suffix = ""): Promise<number> {
    let n = 0;
    for (const key of [...this.entries.keys()]) {
      if (!matchesAround(key, prefix, suffix)) continue;
      if (this.live(key)) n++;
      this.entries.delete(key);
    }
    return n;
  }

  scope(prefix: string): ChannelStorage {
    return scopedStorage(this, prefix);
  }

  /** Keys held, expired ones included until they are next read (metrics, tests). */
  get size(): number {
    return this.entries.size;
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
