/**
 * Telegram Updates → botflow's InboundEvents. Pure: no Bot API call, no state. A message
 * `/start` (or `/start <scenario-id>`, the deep-link payload) starts a dialogue, other text
 * answers it, an inline-button tap is a `choice` decoded from its callback_data.
 */
import type { Update } from "grammy/types";
import type { InboundEvent } from "../../engine/types.ts";
import type { ParseResult } from "../port.ts";
import { decodeCallbackData } from "./callback-data.ts";
import { isScenarioId } from "../../engine/schema/scenario-schema.ts";

export const TELEGRAM = "telegram";

export interface ParseOptions {
  /** The bot's user id: conversations are kept per bot. */
  botId?: string;
  /** The bot's @username, so `/start@<username>` in groups is recognised. */
  username?: string;
  /** The scenario a plain `/start` runs on this channel; default the runtime's. */
  scenarioId?: string;
}


const START = /^\/start(?:@([A-Za-z0-9_]+))?(?:\s+(\S+))?\s*$/;

/** Whether `body` looks like an Update (an object with a numeric update_id); the rest is read defensively. */
export function isUpdate(body: unknown): body is Update {
  return typeof body === "object" && body !== null && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/** The events of one Update; updates botflow has no use for (stickers, edits, joins) give none. */
export function parseUpdate(update: Update, options: ParseOptions = {}): ParseResult {
  if (!isUpdate(update)) return { ok: false, reason: "not a Telegram Update: update_id is missing" };
  const dedupeKey = `tg:${update.update_id}`;
  const common = options.botId !== undefined ? { channel: TELEGRAM, botId: options.botId, dedupeKey } : { channel: TELEGRAM, dedupeKey };

  const cb = update.callback_query;
  if (cb) {
    const chat = cb.message?.chat;
    const target = decodeCallbackData(cb.data);
    // A tap on an inline-mode message has no chat, and data this channel did not write answers nothing:
    // the channel answers the query as closed without asking the runtime.
    if (!chat || !target || !cb.from) return { ok: true, events: [] };
    return {
      ok: true,
      events: [
        {
          ...common,
          conversationId: String(chat.id),
          userId: String(cb.from.id),
          kind: "choice",
          promptId: target.promptId,
          buttonIndex: target.buttonIndex,
          ...locale(cb.from.language_code),
        },
      ],
    };
  }

  const msg = update.message;
  if (!msg || typeof msg.text !== "string" || !msg.chat) return { ok: true, events: [] };
  const base = {
    ...common,
    conversationId: String(msg.chat.id),
    userId: String(msg.from?.id ?? msg.chat.id),
    ...locale(msg.from?.language_code),
  };
  const start = START.exec(msg.text.trim());
  if (start && (start[1] === undefined || options.username === undefined || start[1].toLowerCase() === options.username.toLowerCase())) {
    const requested = start[2] !== undefined && isScenarioId(start[2]) ? start[2] : options.scenarioId;
    const event: InboundEvent = { ...base, kind: "start" };
    if (requested !== undefined) event.scenarioId = requested;
    return { ok: true, events: [event] };
  }
  // Another bot's /start in a group, or any other text: an answer to the question in progress.
  return { ok: true, events: [{ ...base, kind: "text", text: msg.text }] };
}

function locale(code: string | undefined): { locale?: string } {
  return typeof code === "string" && /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/.test(code) ? { locale: code } : {};
}
