/**
 * Telegram Updates → botflow's InboundEvents. Pure: no Bot API call, no state. A message
 * `/start` (or `/start <scenario-id>`, the deep-link payload) starts a dialogue, other text
 * answers it, an inline-button tap is a `choice` decoded from its callback_data.
 *
 * In a group or supergroup (group-chat.ts) each member's dialogue is its own conversation, and
 * the bot takes only what is addressed to it, so chatter never reaches the runtime (which would
 * answer it): `/start` and `/start@<this bot>` (not `/start@other_bot`), a reply to one of the
 * bot's messages, a message mentioning `@<this bot>` (the mention left out of the answer), and a
 * tap on a keyboard of the member's own question. A tap on another member's question gives no
 * event (`isForeignTap`: the channel tells the tapper it is someone else's). Plain `/start`
 * counts as addressed, as in grammY's own command matching: a privacy-mode bot receives it only
 * when Telegram judges it meant for this bot. Private chats: every text, as before.
 */
import type { Message, Update } from "grammy/types";
import type { InboundEvent } from "../../engine/types.ts";
import type { ParseResult } from "../port.ts";
import { decodeCallbackData } from "./callback-data.ts";
import { isGroupChat, memberConversation } from "./group-chat.ts";
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


const LOCALE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/;
const START = /^\/start(?:@([A-Za-z0-9_]+))?(?:\s+(\S+))?\s*$/;
/** A bot command at the start of a text, and the bot it names (`/help@other_bot`). */
const COMMAND = /^\/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?(?:\s|$)/;
const NONE: ParseResult = { ok: true, events: [] };

/** Whether `body` looks like an Update (an object with a numeric update_id); the rest is read defensively. */
export function isUpdate(body: unknown): body is Update {
  return typeof body === "object" && body !== null && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/**
 * Why an Update cannot be used, or undefined when the parts botflow reads have the types the Bot
 * API gives them: integer update, chat, user and message ids, string texts and callback data, an
 * inline keyboard of rows of buttons. The webhook drops (and counts) an Update that fails this, so
 * a retyped id never becomes a conversation key like "[object Object]" and a malformed keyboard
 * never fails on every redelivery.
 */
export function updateProblem(body: unknown): string | undefined {
  if (!isObject(body) || !Number.isSafeInteger(body.update_id)) return "not a Telegram Update (no integer update_id)";
  if (body.message !== undefined) {
    const m = body.message;
    if (!isObject(m) || !Number.isSafeInteger(m.message_id)) return "message: not a Message with an integer message_id";
    if (!isObject(m.chat) || !Number.isSafeInteger(m.chat.id)) return "message.chat.id is not an integer";
    if (m.from !== undefined && (!isObject(m.from) || !Number.isSafeInteger(m.from.id))) return "message.from.id is not an integer";
    if (m.text !== undefined && typeof m.text !== "string") return "message.text is not a string";
    if (isObject(m.from) && m.from.language_code !== undefined && typeof m.from.language_code !== "string") return "message.from.language_code is not a string";
  }
  if (body.callback_query !== undefined) {
    const cb = body.callback_query;
    if (!isObject(cb) || typeof cb.id !== "string") return "callback_query: not a CallbackQuery with a string id";
    if (!isObject(cb.from) || !Number.isSafeInteger(cb.from.id)) return "callback_query.from.id is not an integer";
    if (cb.from.language_code !== undefined && typeof cb.from.language_code !== "string") return "callback_query.from.language_code is not a string";
    if (cb.data !== undefined && typeof cb.data !== "string") return "callback_query.data is not a string";
    const m = cb.message;
    if (m !== undefined) {
      if (!isObject(m) || !Number.isSafeInteger(m.message_id)) return "callback_query.message: no integer message_id";
      if (!isObject(m.chat) || !Number.isSafeInteger(m.chat.id)) return "callback_query.message.chat.id is not an integer";
      if (m.reply_markup !== undefined && !isInlineKeyboard(m.reply_markup)) return "callback_query.message.reply_markup is not an inline keyboard";
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> & { [k: string]: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isInlineKeyboard(v: unknown): boolean {
  if (!isObject(v) || !Array.isArray(v.inline_keyboard)) return false;
  return v.inline_keyboard.every((row) => Array.isArray(row) && row.every((b) => isObject(b) && typeof b.text === "string"));
}

/** The events of one Update; updates botflow has no use for (stickers, edits, joins) give none. */
export function parseUpdate(update: Update, options: ParseOptions = {}): ParseResult {
  if (!isUpdate(update)) return { ok: false, reason: "not a Telegram Update: update_id is missing" };
  const dedupeKey = `tg:${update.update_id}`;

  const cb = update.callback_query;
  if (cb) {
    const chat = cb.message?.chat;
    const target = decodeCallbackData(cb.data);
    // A tap on an inline-mode message has no chat, and data this channel did not write answers nothing:
    // the channel answers the query as closed without asking the runtime.
    if (!chat || !target || !cb.from) return { ok: true, events: [] };
    const userId = String(cb.from.id);
    let conversationId = String(chat.id);
    if (isGroupChat(chat)) {
      // Only the member the question is for answers it. A keyboard naming no member was sent
      // before groups had members' conversations: its dialogue is gone, so it is answered as closed.
      if (target.member !== userId) return NONE;
      conversationId = memberConversation(conversationId, userId);
    }
    const event: InboundEvent = {
      channel: TELEGRAM,
      dedupeKey,
      conversationId,
      userId,
      kind: "choice",
      promptId: target.promptId,
      buttonIndex: target.buttonIndex,
    };
    return { ok: true, events: [withCommon(event, options.botId, cb.from.language_code)] };
  }

  const msg = update.message;
  if (!msg || typeof msg.text !== "string" || !msg.chat) return { ok: true, events: [] };
  if (isGroupChat(msg.chat)) return parseGroupMessage(msg as Message & { text: string }, dedupeKey, options);
  const conversationId = String(msg.chat.id);
  const userId = String(msg.from?.id ?? msg.chat.id);
  const start = START.exec(msg.text.trim());
  if (start && (start[1] === undefined || options.username === undefined || start[1].toLowerCase() === options.username.toLowerCase())) {
    const requested = start[2] !== undefined && isScenarioId(start[2]) ? start[2] : options.scenarioId;
    const event: InboundEvent = { channel: TELEGRAM, dedupeKey, conversationId, userId, kind: "start" };
    if (requested !== undefined) event.scenarioId = requested;
    return { ok: true, events: [withCommon(event, options.botId, msg.from?.language_code)] };
  }
  // Any other text (in a private chat even `/start@other_bot`): an answer to the question in progress.
  const event: InboundEvent = { channel: TELEGRAM, dedupeKey, conversationId, userId, kind: "text", text: msg.text };
  return { ok: true, events: [withCommon(event, options.botId, msg.from?.language_code)] };
}

/**
 * A group message's event, if it is addressed to this bot (see the file's comment); none for
 * chatter, for a command naming another bot, and for a message with no sender (sent on behalf of
 * a channel), whose dialogue would be nobody's.
 */
function parseGroupMessage(msg: Message & { text: string }, dedupeKey: string, options: ParseOptions): ParseResult {
  if (!msg.from) return NONE;
  const text = msg.text.trim();
  const named = COMMAND.exec(text)?.[1];
  if (named !== undefined && !isThisBot(named, options.username)) return NONE;
  const userId = String(msg.from.id);
  const conversationId = memberConversation(String(msg.chat.id), userId);
  const start = START.exec(text);
  if (start) {
    const requested = start[2] !== undefined && isScenarioId(start[2]) ? start[2] : options.scenarioId;
    const event: InboundEvent = { channel: TELEGRAM, dedupeKey, conversationId, userId, kind: "start" };
    if (requested !== undefined) event.scenarioId = requested;
    return { ok: true, events: [withCommon(event, options.botId, msg.from.language_code)] };
  }
  const mentions = mentionsOf(msg, options.username);
  if (mentions.length === 0 && !repliesToThisBot(msg, options)) return NONE;
  const event: InboundEvent = { channel: TELEGRAM, dedupeKey, conversationId, userId, kind: "text", text: withoutRanges(msg.text, mentions).trim() };
  return { ok: true, events: [withCommon(event, options.botId, msg.from.language_code)] };
}

/** Whether a command's `@name` is this bot; before getMe told the username, any name is taken as it was. */
function isThisBot(name: string, username: string | undefined): boolean {
  return username === undefined || name.toLowerCase() === username.toLowerCase();
}

/** Whether the message replies to one of this bot's own messages (by the token's id, else the username). */
function repliesToThisBot(msg: Message, options: ParseOptions): boolean {
  // Read defensively: polling hands over Updates the webhook's updateProblem never checked.
  const to: unknown = msg.reply_to_message?.from;
  if (typeof to !== "object" || to === null || (to as { is_bot?: unknown }).is_bot !== true) return false;
  const { id, username } = to as { id?: unknown; username?: unknown };
  if (options.botId !== undefined) return typeof id === "number" && String(id) === options.botId;
  return options.username !== undefined && typeof username === "string" && username.toLowerCase() === options.username.toLowerCase();
}

/** The `@<this bot>` mentions of a text, as [start, end) in UTF-16 units (entity offsets are). */
function mentionsOf(msg: Message & { text: string }, username: string | undefined): [number, number][] {
  if (username === undefined || !Array.isArray(msg.entities)) return [];
  const want = `@${username.toLowerCase()}`;
  const out: [number, number][] = [];
  for (const e of msg.entities) {
    if (typeof e !== "object" || e === null || e.type !== "mention" || !Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.length)) continue;
    if (msg.text.slice(e.offset, e.offset + e.length).toLowerCase() === want) out.push([e.offset, e.offset + e.length]);
  }
  return out;
}

/** `text` without the given ranges (sorted, not overlapping: Telegram's entities are). */
function withoutRanges(text: string, ranges: readonly [number, number][]): string {
  if (ranges.length === 0) return text;
  let out = "";
  let at = 0;
  for (const [start, end] of ranges) {
    out += text.slice(at, start);
    at = end;
  }
  return out + text.slice(at);
}

/**
 * Whether `update` is a tap in a group on the keyboard of another member's question: it gives no
 * event, and the channel answers it "This survey is for someone else" without asking the runtime,
 * so nothing of either member's dialogue changes.
 */
export function isForeignTap(update: Update): boolean {
  const cb = update.callback_query;
  if (!cb || !isGroupChat(cb.message?.chat)) return false;
  const member = decodeCallbackData(cb.data)?.member;
  return member !== undefined && member !== String(cb.from.id);
}

/**
 * The event with the bot's id and the user's locale when known, set key by key on the literal:
 * not `{ ...common, kind, … }`, since on Node 20 every key added to a spread copy takes V8's slow
 * path (about 0.7 µs each, 4 µs of a 5 µs parse; see engine/runtime.ts withTime).
 */
function withCommon(event: InboundEvent, botId: string | undefined, languageCode: string | undefined): InboundEvent {
  if (botId !== undefined) event.botId = botId;
  if (typeof languageCode === "string" && LOCALE.test(languageCode)) event.locale = languageCode;
  return event;
}

