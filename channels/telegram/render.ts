/**
 * How botflow's messages look on Telegram: plain text (no parse_mode, so a scenario's `*`, `_`
 * or `<` can never break a message) and inline keyboards laid out by the scenario's rows.
 */
import type { InlineKeyboardMarkup } from "grammy/types";
import type { OutMessage } from "../../engine/types.ts";
import { CLOSED_CALLBACK_DATA, encodeCallbackData } from "./callback-data.ts";

/** Telegram's longest message text, in UTF-16 code units. */
export const MAX_TELEGRAM_TEXT = 4096;

/** The text as Telegram takes it: cut to its limit on a code-point boundary, never empty. */
export function telegramText(text: string): string {
  if (text.length <= MAX_TELEGRAM_TEXT) return text.length > 0 ? text : "…";
  let cut = MAX_TELEGRAM_TEXT - 1;
  // Do not split a surrogate pair (an emoji) in two.
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${text.slice(0, cut)}…`;
}

/**
 * The inline keyboard of a prompt, row by row as the scenario lays it out; undefined for no
 * buttons. In a group, `member` is the user the question is for: their id goes into every
 * button's callback_data, so a tap by anyone else is recognised (callback-data.ts).
 */
export function inlineKeyboard(message: OutMessage, member?: string): InlineKeyboardMarkup | undefined {
  const promptId = message.promptId;
  if (promptId === undefined || !message.buttons || message.buttons.length === 0) return undefined;
  const rows = message.rows && message.rows.length > 0 ? message.rows : [message.buttons];
  return {
    inline_keyboard: rows.map((row) => row.map((b) => ({ text: b.label, callback_data: encodeCallbackData(promptId, b.index, member) }))),
  };
}

/**
 * What a closed prompt's keyboard becomes: one inert button showing the answer when it was a
 * button, nothing otherwise (timeouts, re-asks, and a typed comment, which is never echoed).
 */
export function closedKeyboard(answerLabel: string | undefined, isButton: boolean): InlineKeyboardMarkup {
  if (answerLabel === undefined || !isButton) return { inline_keyboard: [] };
  return { inline_keyboard: [[{ text: `✓ ${answerLabel}`, callback_data: CLOSED_CALLBACK_DATA }]] };
}

/** The labels of a keyboard Telegram sent back with a callback query (its message's reply_markup). */
export function labelsOf(markup: InlineKeyboardMarkup | undefined): string[] {
  const labels: string[] = [];
  // Read defensively: the markup comes back from the wire (the webhook checked its shape, polling did not).
  const rows: unknown = markup?.inline_keyboard;
  if (!Array.isArray(rows)) return labels;
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    for (const b of row) if (typeof b === "object" && b !== null && "callback_data" in b && typeof b.text === "string") labels.push(b.text);
  }
  return labels;
}
