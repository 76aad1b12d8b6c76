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

/**
 * A private chat's id (the user's: a positive integer), or a group member's conversation
 * `<group id>:<user id>` (group-chat.ts; group ids are negative). At most 52 bits each.
 */
const RECIPIENT = /^(?:[1-9][0-9]{0,15}|-[1-9][0-9]{0,15}:[1-9][0-9]{0,15})$/;
const GROUP_ID = /^-[1-9][0-9]{0,15}$/;

/**
 * The conversation a trigger starts for `to`: the very ref a later answer produces (parseUpdate:
 * conversation = the private chat's id, or `<group>:<member>` in a group; bot = the token's id;
 * user = the person answering), so the answer finds the dialogue. A group id alone names nobody:
 * a survey there is one member's, so the trigger says whose.
 */
export function resolveChat(request: ProactiveRequest, botId: string | undefined): ProactiveTarget {
  const to = request.to;
  const ids = to.split(":");
  if (!RECIPIENT.test(to) || !ids.every((id) => Number.isSafeInteger(Number(id)))) {
    const group = GROUP_ID.test(to);
    const reason = group
      ? "a survey in a group is one member's: `to` is <group chat id>:<member's user id>, e.g. -1001234567890:381234567"
      : "`to` is not a Telegram recipient: a private chat id (a positive integer), or <group chat id>:<member's user id> for a group member";
    return { ok: false, status: 422, problem: "unknown_recipient", reason };
  }
  if (request.options !== undefined && Object.keys(request.options).length > 0) {
    return { ok: false, status: 422, problem: "invalid_options", reason: "Telegram takes no channel options" };
  }
  const userId = ids[ids.length - 1] as string;
  return { ok: true, ref: { channel: TELEGRAM, conversationId: to, userId, ...(botId !== undefined ? { botId } : {}) } };
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
