/**
 * What the Teams channel remembers per conversation, beyond the engine's state: where to reach
 * it (the conversation reference: serviceUrl, tenant, bot and user) and which activity carries
 * each question card, so that closing a prompt can update that card in place.
 *
 * Two implementations pass the same contract (test/channels/teams-conversation-store.test.ts):
 * this process's memory, bounded (the embedded default), and Redis, shared by every web
 * process (production). Even with memory alone, every inbound activity refreshes the reference
 * and a card submit names its card (`replyToId`), so answering by tapping works anywhere.
 */

/** A Bot Framework conversation reference, as plain data (no SDK type crosses the port). */
export interface StoredReference {
  channelId: string;
  serviceUrl: string;
  conversation: { id: string; tenantId?: string; conversationType?: string; isGroup?: boolean };
  bot: { id: string; name?: string };
  user: { id: string; name?: string; aadObjectId?: string };
  locale?: string;
}

/** The activity that shows a question card, and the question, for the closed card. */
export interface PromptCard {
  activityId: string;
  text: string;
}

export interface TeamsConversationStore {
  saveReference(conversationId: string, reference: StoredReference): Promise<void>;
  reference(conversationId: string): Promise<StoredReference | undefined>;
  savePromptCard(conversationId: string, promptId: string, card: PromptCard): Promise<void>;
  promptCard(conversationId: string, promptId: string): Promise<PromptCard | undefined>;
}

interface Entry {
  reference?: StoredReference;
  cards: Map<string, PromptCard>;
}

/** Cards remembered per conversation: prompts are answered in order, old ones are only ever stale. */
export const CARDS_PER_CONVERSATION = 8;

/** The in-memory store: least recently used conversations are forgotten beyond `maxConversations`. */
export class MemoryTeamsConversationStore implements TeamsConversationStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxConversations = 50_000) {}

  async saveReference(conversationId: string, reference: StoredReference): Promise<void> {
    this.touch(conversationId).reference = reference;
  }

  async reference(conversationId: string): Promise<StoredReference | undefined> {
    return this.entries.get(conversationId)?.reference;
  }

  async savePromptCard(conversationId: string, promptId: string, card: PromptCard): Promise<void> {
    const cards = this.touch(conversationId).cards;
    cards.set(promptId, card);
    for (const oldest of cards.keys()) {
      if (cards.size <= CARDS_PER_CONVERSATION) break;
      cards.delete(oldest);
    }
  }

  async promptCard(conversationId: string, promptId: string): Promise<PromptCard | undefined> {
    return this.entries.get(conversationId)?.cards.get(promptId);
  }

  private touch(conversationId: string): Entry {
    const entry = this.entries.get(conversationId) ?? { cards: new Map<string, PromptCard>() };
    // Re-inserting moves the conversation to the young end of the Map's order.
    this.entries.delete(conversationId);
    this.entries.set(conversationId, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxConversations) break;
      this.entries.delete(oldest);
    }
    return entry;
  }
}
