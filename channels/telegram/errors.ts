/**
 * What the Telegram channel says of a failed Bot API call: the method, Telegram's error code and
 * description. Never the request URL (it holds the bot token) and never the payload (user text).
 */
import { BotError, GrammyError, HttpError } from "grammy";

export interface ApiFailure {
  name: string;
  message: string;
  method?: string;
  status?: number;
}

/** The loggable summary of an error thrown by grammY (or by the runtime, inside a BotError). */
export function describeError(err: unknown): ApiFailure {
  const e = err instanceof BotError ? err.error : err;
  if (e instanceof GrammyError) return { name: "GrammyError", method: e.method, status: e.error_code, message: e.description };
  // grammY leaves the cause's message (which may quote the URL, and so the token) out unless sensitiveLogs is on.
  if (e instanceof HttpError) return { name: "HttpError", message: e.message };
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}

/** The error a BotError wraps (what the middleware threw), or the error itself. */
export function unwrap(err: unknown): unknown {
  return err instanceof BotError ? err.error : err;
}

/** True for a refusal retrying cannot fix: the chat is gone, the bot was blocked, the message cannot be edited. */
export function isPermanent(err: unknown): boolean {
  const e = unwrap(err);
  return e instanceof GrammyError && (e.error_code === 400 || e.error_code === 403);
}
