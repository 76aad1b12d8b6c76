/**
 * How the Telegram channel reads grammY's errors: which refusals are permanent, and the status to
 * put on a ChannelError. Logs use engine/errors.ts's errorSummary (Telegram's method, error code
 * and description; never the request URL, which holds the bot token, nor the payload).
 */
import { BotError, GrammyError } from "grammy";

/** The status Telegram answered a failed call with, for a ChannelError's options. */
export function statusOf(err: unknown): { status?: number } {
  const e = unwrap(err);
  return e instanceof GrammyError ? { status: e.error_code } : {};
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
