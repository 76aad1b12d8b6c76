/**
 * The embedded default RateLimiter: buckets in a Map of this process, with the shared
 * token-bucket arithmetic (token-bucket.ts). Buckets that are full again and not paused are
 * forgotten (a forgotten bucket is full), so per-chat keys do not pile up.
 *
 * @example
 * const limiter = new MemoryRateLimiter();
 * await limiter.acquire([{ key: "telegram:42", ratePerSec: 30, burst: 30 }]);
 */
import { systemClock, type Clock } from "../../engine/ports.ts";
import { defaultSleep } from "../retry.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { checkRules, fullBucket, refill, takeTokens, type BucketState, type RateLimitKey } from "./token-bucket.ts";

export interface MemoryRateLimiterOptions {
  clock?: Clock;
  /** How to wait for tokens; tests pass a virtual-time sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Sweep forgettable buckets once the map holds this many (default 10,000). */
  sweepAt?: number;
}

interface Entry {
  state: BucketState;
  /** The rule last used with the key, to tell when it is full again. */
  rule: RateLimitKey;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly sweepAt: number;
  private nextSweep: number;

  constructor(o: MemoryRateLimiterOptions = {}) {
    this.clock = o.clock ?? systemClock;
    this.sleep = o.sleep ?? defaultSleep;
    this.sweepAt = o.sweepAt ?? 10_000;
    this.nextSweep = this.sweepAt;
  }

  async acquire(keys: readonly RateLimitKey[], cost = 1): Promise<void> {
    checkRules(keys, cost);
    for (;;) {
      const waitMs = this.tryTake(keys, cost, "acquire");
      if (waitMs === 0) return;
      await this.sleep(waitMs);
    }
  }

  async debit(keys: readonly RateLimitKey[], cost = 1): Promise<void> {
    checkRules(keys, cost, "debit");
    this.tryTake(keys, cost, "debit");
  }

  async pause(key: string, ms: number): Promise<void> {
    const now = this.clock.now();
    const entry = this.buckets.get(key);
    // A bucket never seen gets a placeholder rule: it is paused, and full when the pause ends.
    const e = entry ?? { state: { tokens: 1, at: now, pausedUntil: 0 }, rule: { key, ratePerSec: 1, burst: 1 } };
    e.state = { ...e.state, pausedUntil: Math.max(e.state.pausedUntil, now + ms) };
    this.buckets.set(key, e);
  }

  /** Buckets currently remembered (tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes the tokens now and returns 0, or returns how long to wait before trying again. */
  private tryTake(keys: readonly RateLimitKey[], cost: number, mode: "acquire" | "debit"): number {
    const now = this.clock.now();
    const states = keys.map((k) => this.buckets.get(k.key)?.state ?? fullBucket(k, now));
    const r = takeTokens(states, keys, cost, now, mode);
    if (!r.ok) return r.waitMs;
    r.states.forEach((state, i) => {
      const rule = keys[i];
      if (rule) this.buckets.set(rule.key, { state, rule });
    });
    if (this.buckets.size >= this.nextSweep) this.sweep(now);
    return 0;
  }

  private sweep(now: number): void {
    for (const [key, e] of this.buckets) if (e.state.pausedUntil <= now && refill(e.state, e.rule, now) >= e.rule.burst) this.buckets.delete(key);
    // Sweep again only once the map doubled past what survived, so a busy map costs O(1) per take on average.
    this.nextSweep = Math.max(this.sweepAt, this.buckets.size * 2);
  }
}
