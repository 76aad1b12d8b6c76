/**
 * Telegram groups and supergroups: several people share one chat, and a survey is one person's.
 * So in a group each member's dialogue is a conversation of its own, `<chat id>:<user id>`; a
 * private chat stays the chat id alone (it is the user's id too). The engine keys state by the
 * conversation id (engine/runtime.ts `conversationKey`), so two members can each answer their
 * own survey in one group at the same time, and nobody's message reaches another's dialogue.
 *
 * The same id is a trigger's `to` for a member (proactive.ts) and the id an erasure names
 * (app/user-erasure.ts), as every channel's conversation id is.
 *
 * @example
 * memberConversation("-1001234567890", "381234567"); // "-1001234567890:381234567"
 * parseConversation("-1001234567890:381234567");     // { chatId: "-1001234567890", member: "381234567" }
 * parseConversation("381234567");                    // { chatId: "381234567" }
 */

/** Whether a chat (an Update's `chat`) is a group or supergroup, where the bot speaks only when addressed. */
export function isGroupChat(chat: { type?: unknown } | undefined): boolean {
  return chat?.type === "group" || chat?.type === "supergroup";
}

/** The conversation of member `userId`'s dialogue in group `chatId`. */
export function memberConversation(chatId: string, userId: string): string {
  return `${chatId}:${userId}`;
}

/** Where a conversation is: its chat, and in a group the member whose dialogue it is. */
export interface TelegramConversation {
  chatId: string;
  member?: string;
}

/** The chat (and member) of a conversation id this channel made; an id without `:` is a private chat's. */
export function parseConversation(conversationId: string): TelegramConversation {
  const colon = conversationId.indexOf(":");
  if (colon < 0) return { chatId: conversationId };
  return { chatId: conversationId.slice(0, colon), member: conversationId.slice(colon + 1) };
}
