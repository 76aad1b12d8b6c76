/**
 * The one reading of a channel's pacing variable (`TELEGRAM_MESSAGES_PER_SECOND`,
 * `WHATSAPP_CLOUD_MESSAGES_PER_SECOND`, …) and the one shape of the buckets a channel declares
 * through `Channel.pacing`: a bucket whose burst is its rate (a second's worth of messages), so a
 * quiet bot may send one second's allowance at once and never more than the rate after that.
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

/** A bucket refilling at `perSecond` that holds at most one second's messages (at least one). */
export function perSecondBucket(key: string, perSecond: number): RateLimitKey {
  return { key, ratePerSec: perSecond, burst: Math.max(1, Math.floor(perSecond)) };
}
