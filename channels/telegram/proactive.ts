/**
 * Telegram's side of proactive delivery (the trigger API): who a `to` is, and what a refused
 * first message means. Pure, so both are tested without a Bot API.
 *
 * A bot can write to a private chat only after the user has pressed Start once, and to a group
 * it is a member of; Telegram says so on the first sendMessage (403 / 400), which is where the
 * channel learns it: `resolve` only checks the id, so it costs no call.
 */
import { GrammyError } from "grammy";
import { ChannelError, errorSummary, type RecipientProblem } from "../../engine/errors.ts";
import type { ProactiveRequest, ProactiveTarget } from "../port.ts";
import { unwrap } from "./errors.ts";
import { TELEGRAM } from "./inbound.ts";

/** A Telegram chat id: an integer, negative for groups and channels (at most 52 bits). */
const CHAT_ID = /^-?[1-9][0-9]{0,15}$/;

/**
 * The conversation a trigger starts for chat `to`: the very ref a later answer from that chat
 * produces (parseUpdate: conversation = chat id, bot = the token's id; in a private chat the
 * user id is the chat id), so the answer finds the dialogue.
 */
export function resolveChat(request: ProactiveRequest, botId: string | undefined): ProactiveTarget {
  const to = request.to;
  if (!CHAT_ID.test(to) || !Number.isSafeInteger(Number(to))) {
    return { ok: false, status: 422, problem: "unknown_recipient", reason: "`to` is not a Telegram chat id (an integer, negative for a group)" };
  }
  if (request.options !== undefined && Object.keys(request.options).length > 0) {
    return { ok: false, status: 422, problem: "invalid_options", reason: "Telegram takes no channel options" };
  }
  return { ok: true, ref: { channel: TELEGRAM, conversationId: to, userId: to, ...(botId !== undefined ? { botId } : {}) } };
}

/** What a refusal of a first message says of its recipient, or undefined when it says nothing of them. */
function recipientOf(e: GrammyError): RecipientProblem | undefined {
  const d = e.description.toLowerCase();
  if (e.error_code === 403) return d.includes("can't initiate conversation") ? "not_allowed" : "blocked";
  if (e.error_code === 400 && (d.includes("chat not found") || d.includes("user not found") || d.includes("peer_id_invalid"))) return "unknown_recipient";
  return undefined;
}

/**
 * The ChannelError of a failed proactive sendMessage. 403 (blocked, deactivated, kicked) and 400
 * "chat not found": `recipient` set, not retryable, so the trigger records why. 429: retryable
 * with `retryAfterMs` (Telegram's retry_after), so the outbox paces instead of this request
 * sleeping. Other 4xx: not retryable; 5xx and network errors: retryable.
 */
export function proactiveSendError(err: unknown): ChannelError {
  const e = unwrap(err);
  const message = errorSummary(err).message;
  if (!(e instanceof GrammyError)) return new ChannelError(TELEGRAM, "sendMessage", message, { retryable: true, cause: err });
  const status = e.error_code;
  const recipient = recipientOf(e);
  if (recipient !== undefined) return new ChannelError(TELEGRAM, "sendMessage", message, { status, retryable: false, recipient, cause: err });
  if (status === 429) {
    const after = e.parameters?.retry_after;
    return new ChannelError(TELEGRAM, "sendMessage", message, { status, retryable: true, ...(typeof after === "number" ? { retryAfterMs: after * 1000 } : {}), cause: err });
  }
  return new ChannelError(TELEGRAM, "sendMessage", message, { status, retryable: status >= 500, cause: err });
}
