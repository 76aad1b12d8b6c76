/**
 * Real Update fixtures (test/fixtures/telegram/) re-addressed to a test's chat: each test runs in
 * its own chat so the statistics of one shared store tell the tests apart.
 */
import type { Update } from "grammy/types";
import { fixture } from "./telegram-fake-bot-api.ts";

let nextUpdateId = 715_400_000 + Math.floor(Math.random() * 1_000_000);

/** A fresh chat (private: the chat id is the user id). */
export function newChat(): number {
  return 400_000_000 + Math.floor(Math.random() * 500_000_000);
}

function address(u: Update, chat: number, languageCode: string | undefined): void {
  const target = u.message ?? u.callback_query?.message;
  if (target) target.chat.id = chat;
  const from = u.message?.from ?? u.callback_query?.from;
  if (from) {
    from.id = chat;
    if (languageCode === undefined) delete from.language_code;
    else from.language_code = languageCode;
  }
}

export interface UpdateOptions {
  updateId?: number;
  languageCode?: string;
}

/** `/start` (or `/start <payload>`) from the chat. */
export function startUpdate(chat: number, payload?: string, o: UpdateOptions = {}): Update {
  return fixture("message-start", (u) => {
    u.update_id = o.updateId ?? nextUpdateId++;
    address(u, chat, o.languageCode ?? "en");
    if (payload !== undefined && u.message) u.message.text = `/start ${payload}`;
  });
}

/** A typed message. */
export function textUpdate(chat: number, text: string, o: UpdateOptions = {}): Update {
  return fixture("message-text", (u) => {
    u.update_id = o.updateId ?? nextUpdateId++;
    address(u, chat, o.languageCode ?? "en");
    if (u.message) u.message.text = text;
  });
}

/** A tap on an inline button with `data`, on the bot's message `messageId` showing `keyboard`. */
export function tapUpdate(chat: number, data: string, messageId: number, keyboard: unknown, o: UpdateOptions & { queryId?: string } = {}): Update {
  return fixture("callback-query", (u) => {
    u.update_id = o.updateId ?? nextUpdateId++;
    address(u, chat, o.languageCode ?? "en");
    const cb = u.callback_query;
    if (!cb || !cb.message) throw new Error("fixture callback-query has no message");
    cb.id = o.queryId ?? String(BigInt(chat) * 1000n + BigInt(nextUpdateId));
    cb.data = data;
    cb.message.message_id = messageId;
    (cb.message as { reply_markup?: unknown }).reply_markup = keyboard;
  });
}
