/**
 * Which Telegram message carries each chat's open prompt, so its keyboard can be closed when the
 * prompt is answered by typing, times out or is re-asked (a tap carries its own message).
 *
 * Kept in this process's memory, bounded: after a restart, or on another web process, a prompt's
 * keyboard is not removed by a typed answer or a timeout; a later tap on it is still only answered
 * "This survey is closed" by the runtime's stale-prompt check, so nothing can be answered twice.
 */

export interface PromptMessage {
  promptId: string;
  messageId: number;
  /** The prompt takes free text (wait_for_response): a typed answer is not echoed into its keyboard. */
  freeText: boolean;
}

export class PromptMessages {
  /** chat id → its open prompt; Map order is insertion order, so the oldest is dropped first. */
  private readonly byChat = new Map<string, PromptMessage>();

  constructor(private readonly capacity = 100_000) {}

  remember(chatId: string, entry: PromptMessage): void {
    this.byChat.delete(chatId);
    this.byChat.set(chatId, entry);
    if (this.byChat.size > this.capacity) {
      const oldest = this.byChat.keys().next();
      if (!oldest.done) this.byChat.delete(oldest.value);
    }
  }

  /** The message of `promptId` in the chat, forgotten as it is returned (a prompt closes once). */
  take(chatId: string, promptId: string): PromptMessage | undefined {
    const entry = this.byChat.get(chatId);
    if (!entry || entry.promptId !== promptId) return undefined;
    this.byChat.delete(chatId);
    return entry;
  }

  get size(): number {
    return this.byChat.size;
  }
}
