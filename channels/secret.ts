/**
 * The one secret comparison of the channels (webhook secret tokens, verify tokens, signatures):
 * both sides are hashed first, so the comparison takes the same time whatever the lengths and
 * where they differ, and neither length leaks.
 *
 * @example
 * if (!sameSecret(req.headers["x-telegram-bot-api-secret-token"], secret)) return 401;
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Whether `given` (a header, a query parameter; anything else is false) equals `expected`; constant time. */
export function sameSecret(given: unknown, expected: string | Buffer): boolean {
  const value = typeof given === "string" || Buffer.isBuffer(given) ? given : undefined;
  // Always hash and compare, even for a missing value, so absence takes as long as a wrong guess.
  const equal = timingSafeEqual(digest(value ?? ""), digest(expected));
  return value !== undefined && equal;
}

function digest(s: string | Buffer): Buffer {
  return createHash("sha256").update(s).digest();
}
