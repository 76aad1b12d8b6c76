/**
 * Real supergroup Update fixtures (test/fixtures/telegram/group-*.json) re-addressed to a test's
 * group and members: each test runs in its own group, so the statistics of one shared store
 * tell the tests apart (a member's conversation is `<group>:<user>`).
 */
import type { InlineKeyboardMarkup, Update } from "grammy/types";
import { fixture } from "./telegram-fake-bot-api.ts";

let nextUpdateId = 716_400_000 + Math.floor(Math.random() * 1_000_000);
let nextMessageId = 9_000;

/** Two members as the fixtures have them. */
export const ADA = { id: 381234567, is_bot: false, first_name: "Ada", last_name: "Lovelace", username: "ada_l", language_code: "en" } as const;
export const GRACE = { id: 392345678, is_bot: false, first_name: "Grace", last_name: "Hopper", username: "grace_h", language_code: "en" } as const;
export type Member = typeof ADA | typeof GRACE;

/** A fresh supergroup id (-100 followed by ten digits, as Telegram gives them). */
export function newGroup(): number {
  return -(1_001_000_000_000 + Math.floor(Math.random() * 900_000_000));
}

function chatOf(group: number): { id: number; title: string; type: "supergroup" } {
  return { id: group, title: "Acme support", type: "supergroup" };
}

function message(name: string, group: number, from: Member, text: string): Update {
  return fixture(name, (u) => {
    u.update_id = nextUpdateId++;
    const m = u.message;
    if (!m) throw new Error(`fixture ${name} has no message`);
    m.message_id = nextMessageId++;
    m.chat = chatOf(group);
    m.from = { ...from };
    m.text = text;
    // A bot_command entity at the start, as Telegram marks commands; none otherwise.
    const command = /^\/[A-Za-z0-9_@]+/.exec(text);
    if (command) m.entities = [{ offset: 0, length: command[0].length, type: "bot_command" }];
    else delete m.entities;
  });
}

/** `/start@botflow_test_bot` (or `text`, another command) from `from` in the group. */
export function groupCommand(group: number, from: Member, text = "/start@botflow_test_bot"): Update {
  return message("group-message-start", group, from, text);
}

/** An ordinary message in the group: addressed to nobody. */
export function groupChatter(group: number, from: Member, text: string): Update {
  return message("group-message-text", group, from, text);
}

/** A message with an `@username` mention entity where the text has one. */
export function groupMention(group: number, from: Member, text: string, username = "botflow_test_bot"): Update {
  const u = message("group-message-text", group, from, text);
  const at = text.indexOf(`@${username}`);
  if (u.message && at >= 0) u.message.entities = [{ offset: at, length: username.length + 1, type: "mention" }];
  return u;
}

/** A reply to message `messageId` of `author` (the bot by default: its getMe user in the fixture). */
export function groupReply(group: number, from: Member, text: string, messageId: number, author?: Member): Update {
  return fixture("group-message-reply", (u) => {
    u.update_id = nextUpdateId++;
    const m = u.message;
    if (!m || !m.reply_to_message) throw new Error("fixture group-message-reply has no reply");
    m.message_id = nextMessageId++;
    m.chat = chatOf(group);
    m.from = { ...from };
    m.text = text;
    const replied = m.reply_to_message;
    replied.message_id = messageId;
    replied.chat = chatOf(group);
    if (author) replied.from = { ...author };
  });
}

/** A tap by `from` on button `data` of the bot's message `messageId` showing `keyboard`. */
export function groupTap(group: number, from: Member, data: string, messageId: number, keyboard: InlineKeyboardMarkup): Update {
  return fixture("group-callback-query", (u) => {
    u.update_id = nextUpdateId++;
    const cb = u.callback_query;
    if (!cb || !cb.message) throw new Error("fixture group-callback-query has no message");
    cb.id = `${Math.abs(group)}${nextUpdateId}`;
    cb.from = { ...from };
    cb.data = data;
    cb.message.message_id = messageId;
    cb.message.chat = chatOf(group);
    (cb.message as { reply_markup?: unknown }).reply_markup = keyboard;
  });
}
