/**
 * The one reading of a channel's pacing variable (`TELEGRAM_MESSAGES_PER_SECOND`,
 * `WHATSAPP_CLOUD_MESSAGES_PER_SECOND`, …) and the one shape of the buckets a channel declares
 * through `Channel.pacing`: a bucket refilling just under the rate that holds a single token, so
 * no second ever sees more than the rate. (A burst of a second's allowance would let twice the rate
 * into the first second after a quiet spell, which is exactly what a messenger answers with 429:
 * bench/trigger-delivery.ts measured a quarter of 10,000 triggers refused that way.)
 *
 * @example
 * const perSecond = parseMessagesPerSecond(get, "TELEGRAM_MESSAGES_PER_SECOND", 30, problems);
 * pacing: (ref) => [perSecondBucket(`telegram:${botId}`, perSecond), perSecondBucket(`telegram:${botId}:${ref.conversationId}`, 1)]
 */
import type { RateLimitKey } from "./token-bucket.ts";

/** Above this a messenger would rate-ban long before: a typo (a missing decimal point), not a plan. */
export const MAX_MESSAGES_PER_SECOND = 10_000;

/** `name` as messages per second (a positive number, fractions allowed: 0.5 is one every 2 s); `fallback` when unset. */
export function parseMessagesPerSecond(get: (name: string) => string | undefined, name: string, fallback: number, problems: string[]): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const n = /^[0-9]+(\.[0-9]+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!(n > 0 && n <= MAX_MESSAGES_PER_SECOND)) {
    problems.push(`${name} "${raw.slice(0, 40)}" is not a rate: use messages per second, a number above 0 and at most ${MAX_MESSAGES_PER_SECOND} (default ${fallback})`);
    return fallback;
  }
  return n;
}

/**
 * Paced this much under the configured rate: evenly spaced sends at exactly the rate still put the
 * rate plus one into a closed one-second window, and a late timer bunches two; 3 % below keeps
 * every second within the limit (bench/trigger-delivery.ts: no 429 at 30/s).
 */
export const PACING_MARGIN = 0.97;

/** A bucket refilling just under `perSecond` that holds one message: evenly spaced sends, never a burst. */
export function perSecondBucket(key: string, perSecond: number): RateLimitKey {
  return { key, ratePerSec: perSecond * PACING_MARGIN, burst: 1 };
}
