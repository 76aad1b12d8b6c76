/**
 * The token-bucket arithmetic every RateLimiter shares, as one pure function over plain state,
 * so the in-memory limiter and the in-process outbox call it directly and the Redis limiter's
 * Lua script is a line-for-line copy of it (the contract suite runs both on the same clock).
 *
 * A bucket holds up to `burst` tokens and refills at `ratePerSec`; it may be in debt (negative)
 * after a debit, and it may be paused until a time (a 429's retry_after).
 *
 * @example
 * const r = takeTokens([{ tokens: 0, at: 0, pausedUntil: 0 }], [{ key: "telegram:1", ratePerSec: 30, burst: 30 }], 1, 10, "acquire");
 * // r.ok === false, r.waitMs === 24: the token arrives 33.3 ms after the bucket was last empty
 */

/** One bucket's rule: `telegram:<botId>` at 30/s with a burst of 30, `telegram:<botId>:<chatId>` at 1/s. */
export interface RateLimitKey {
  key: string;
  ratePerSec: number;
  burst: number;
}

/** A bucket as stored: tokens at time `at` (ms), and until when it is paused (0: not paused). */
export interface BucketState {
  tokens: number;
  at: number;
  pausedUntil: number;
}

export type TakeResult = { ok: true; states: BucketState[] } | { ok: false; waitMs: number };

/** A bucket never seen (or forgotten after its TTL) is full. */
export function fullBucket(rule: RateLimitKey, now: number): BucketState {
  return { tokens: rule.burst, at: now, pausedUntil: 0 };
}

/** Tokens in the bucket at `now`: refilled since `at`, never above `burst`. */
export function refill(state: BucketState, rule: RateLimitKey, now: number): number {
  return Math.min(rule.burst, state.tokens + (Math.max(0, now - state.at) * rule.ratePerSec) / 1000);
}

/**
 * Takes `cost` tokens from every bucket at once, or from none. `acquire` succeeds only when no
 * bucket is paused and each holds `cost`; otherwise it says how long until that could be true
 * (rounded up, so a caller that sleeps that long never wakes early). `debit` always takes, and may
 * leave buckets in debt: a reply that must go now still counts against later sends.
 */
export function takeTokens(states: readonly BucketState[], rules: readonly RateLimitKey[], cost: number, now: number, mode: "acquire" | "debit"): TakeResult {
  const tokens = rules.map((rule, i) => refill(states[i] ?? fullBucket(rule, now), rule, now));
  if (mode === "acquire") {
    let waitMs = 0;
    rules.forEach((rule, i) => {
      const pausedFor = (states[i]?.pausedUntil ?? 0) - now;
      const short = cost - (tokens[i] ?? 0);
      waitMs = Math.max(waitMs, pausedFor, short > 0 ? Math.ceil((short * 1000) / rule.ratePerSec) : 0);
    });
    if (waitMs > 0) return { ok: false, waitMs };
  }
  return { ok: true, states: rules.map((_, i) => ({ tokens: (tokens[i] ?? 0) - cost, at: now, pausedUntil: states[i]?.pausedUntil ?? 0 })) };
}

/** How long a bucket must be kept before forgetting it is the same as keeping it: until it is full again and no longer paused. */
export function idleAfterMs(state: BucketState, rule: RateLimitKey, now: number): number {
  const toFull = Math.ceil(((rule.burst - state.tokens) * 1000) / rule.ratePerSec);
  return Math.max(0, toFull, state.pausedUntil - now);
}

/** Rejects rules a bucket cannot honour: a cost above the burst would wait for ever (a debit never waits, so it may exceed it). */
export function checkRules(rules: readonly RateLimitKey[], cost: number, mode: "acquire" | "debit" = "acquire"): void {
  if (!(cost > 0) || !Number.isFinite(cost)) throw new RangeError(`rate limit cost must be a positive number, got ${cost}`);
  for (const r of rules) {
    if (!(r.ratePerSec > 0) || !(r.burst > 0)) throw new RangeError(`rate limit ${r.key}: ratePerSec and burst must be positive (got ${r.ratePerSec}/s, burst ${r.burst})`);
    if (mode === "acquire" && cost > r.burst) throw new RangeError(`rate limit ${r.key}: a cost of ${cost} can never fit a burst of ${r.burst}; raise the burst or split the work`);
  }
}
