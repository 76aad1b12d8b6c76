/**
 * What a database error means for the code that got it, for both drivers (`pg` and PGlite carry
 * the SQLSTATE in `code`): the data was refused (write it without the offending part, or fail
 * that item alone), or the database is away or busy (retry later; isolating items would only
 * hammer it).
 */

/** Whether the database refused the data itself (SQLSTATE class 22: invalid text, JSON, numbers, ranges). */
export function isDataError(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("22");
}

const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Whether an error says the database is unavailable or busy (connection refused or lost,
 * shutting down, too many connections, deadlock, serialization) rather than that the data was refused.
 */
export function isTransient(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (TRANSIENT_NODE_CODES.has(code)) return true;
    if (/^(08|53|57|40)/.test(code) || code === "55P03") return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === "string" && /connection|terminat|timeout|timed out|not queryable|ECONNREFUSED/i.test(message);
}
