/**
 * Which Telegram message carries each open prompt's keyboard, so the keyboard can be closed when
 * the prompt is answered by typing, times out or is re-asked (a tap carries its own message).
 *
 * Kept in ChannelStorage: in production that is Redis, so a keyboard sent by one web process is
 * closed when the typed answer reaches another, or the same one after a restart. One key per
 * prompt, `<conversation>:<prompt>` (the chat id, or a group member's `<chat>:<user>`: prompt ids
 * are per conversation, so two members' `p1` in one group are two keys), taken once (a prompt closes once). Were an entry lost (memory past
 * its bound), a later tap on the keyboard is still only answered "This survey is closed" by the
 * runtime's stale-prompt check, so nothing can be answered twice.
 */
import { DEFAULT_CHANNEL_TTL_MS, type ChannelStorage } from "../storage/channel-storage.ts";

export interface PromptMessage {
  promptId: string;
  messageId: number;
  /** The prompt takes free text (wait_for_response): a typed answer is not echoed into its keyboard. */
  freeText: boolean;
}

export class PromptMessages {
  constructor(
    private readonly storage: ChannelStorage,
    private readonly ttlMs = DEFAULT_CHANNEL_TTL_MS,
  ) {}

  async remember(conversationId: string, entry: PromptMessage): Promise<void> {
    // [message id, 1 when free text]: the smallest JSON, since one is kept per open keyboard.
    await this.storage.set(`${conversationId}:${entry.promptId}`, [entry.messageId, entry.freeText ? 1 : 0], this.ttlMs);
  }

  /** The message of `promptId` in the conversation, forgotten as it is returned (a prompt closes once). */
  async take(conversationId: string, promptId: string): Promise<PromptMessage | undefined> {
    const v = await this.storage.take(`${conversationId}:${promptId}`);
    if (!Array.isArray(v) || typeof v[0] !== "number") return undefined;
    return { promptId, messageId: v[0], freeText: v[1] === 1 };
  }
}
