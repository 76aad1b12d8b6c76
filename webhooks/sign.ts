/**
 * The webhook signature: HMAC-SHA256 with BOTFLOW_WEBHOOK_SECRET over `<timestamp>.<body>`, sent
 * as `X-Botflow-Signature: sha256=<hex>` beside `X-Botflow-Timestamp: <unix seconds>`. Signing the
 * timestamp with the body lets a receiver refuse an old (replayed) request: the README's
 * verification snippet checks both, and test/webhooks runs that very snippet.
 *
 * @example
 * const headers = signatureHeaders(secret, body, clock.now());
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Botflow-Signature";
export const TIMESTAMP_HEADER = "X-Botflow-Timestamp";

/** `sha256=<hex>` of `<timestamp>.<body>`. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The two headers for a request sent at `nowMs`. */
export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: sign(secret, timestamp, body) };
}

/**
 * Whether a request is botflow's and fresh: the signature matches (constant time) and the
 * timestamp is within `toleranceSeconds` of `nowMs`. What a receiver written in TypeScript does.
 */
export function verifySignature(secret: string, body: string, timestamp: string | undefined, signature: string | undefined, nowMs: number, toleranceSeconds = 300): boolean {
  if (timestamp === undefined || signature === undefined || !/^[0-9]{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
