/**
 * Paces outbound messages with token buckets shared by everyone who sends for the same bot:
 * `acquire` waits until every named bucket holds the cost and takes it from all of them at once,
 * `debit` takes without waiting (an interactive reply goes now but still counts), and `pause`
 * stops a bucket for everyone for as long as the messenger's 429 `retry_after` asked.
 *
 * Implementations pass test/channels/rate-limit-contract.ts: MemoryRateLimiter (one process, the
 * embedded default) and RedisRateLimiter (every web process and worker of a deployment).
 *
 * Deliberately left out: fairness between waiters (whoever polls first after a token appears
 * takes it: a waiter sleeps exactly until its tokens should be there, so nobody spins), priorities,
 * cancelling a wait, and knowing the messengers' limits: callers name the keys and rates
 * (`telegram:<botId>` 30/s, `telegram:<botId>:<chatId>` 1/s, `whatsapp-cloud:<phoneNumberId>` 80/s).
 *
 * @example
 * await limiter.acquire([{ key: `telegram:${botId}`, ratePerSec: 30, burst: 30 }, { key: `telegram:${botId}:${chatId}`, ratePerSec: 1, burst: 1 }]);
 * await api.sendMessage(chatId, text); // on a 429: await limiter.pause(`telegram:${botId}`, retryAfterMs)
 */
import type { RateLimitKey } from "./token-bucket.ts";

export type { RateLimitKey } from "./token-bucket.ts";

export interface RateLimiter {
  /** Waits until no bucket is paused and each holds `cost` tokens (default 1), then takes them from all at once. */
  acquire(keys: readonly RateLimitKey[], cost?: number): Promise<void>;
  /** Takes `cost` tokens from every bucket now, paused or not; buckets may go into debt, which later acquires wait out. */
  debit(keys: readonly RateLimitKey[], cost?: number): Promise<void>;
  /** No acquire on `key` succeeds for the next `ms` (an earlier, longer pause is kept). */
  pause(key: string, ms: number): Promise<void>;
}
