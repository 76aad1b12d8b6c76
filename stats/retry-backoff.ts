/**
 * Capped exponential backoff with jitter, for anything that retries a dependency that went
 * away (the worker's store probe, the `pg` pool's connection attempts). Delay number `n`
 * (1-based) is drawn from [d/2, d] where d = min(cap, base · 2^(n−1)): "equal jitter" keeps a
 * floor, so a fleet of workers never retries faster than half the curve, and spreads them so
 * they do not all knock at once when the server comes back.
 *
 * @example
 * const delay = retryDelay(attempt, { baseMs: 200, capMs: 1_000 }); // 100–200, 200–400, 400–800, 500–1000 … ms
 */

export interface RetryBackoff {
  /** The first delay's upper bound. */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
}

/**
 * The default for store outages: 100–200 ms after the failure, doubling, then an attempt every
 * 0.5–1 s once the curve reaches its cap, so the store's return is noticed within a second and
 * an outage of 10 s costs 11–21 attempts (against thousands when every job retried on its own).
 */
export const STORE_RETRY_BACKOFF: RetryBackoff = { baseMs: 200, capMs: 1_000 };

/** Delay before attempt `n` (1-based) after failures; `random` in [0, 1) (injected in tests). */
export function retryDelay(n: number, o: RetryBackoff, random: () => number = Math.random): number {
  const d = Math.min(o.capMs, o.baseMs * 2 ** Math.min(30, Math.max(0, n - 1)));
  return Math.round(d / 2 + random() * (d / 2));
}
