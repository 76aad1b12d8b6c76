/**
 * What the Teams channel remembers per conversation, beyond the engine's state: where to reach
 * it (the conversation reference: serviceUrl, tenant, bot and user) and which activity carries
 * each question card, so that closing a prompt can update that card in place.
 *
 * Kept in the ChannelStorage the module is given: in production that is Redis, so a card sent by
 * one web process is updated when the answer reaches another (or the same one after a restart),
 * and a timeout or a trigger reaches the conversation whichever process fires it. Two keys per
 * conversation: `ref:<conversation>` (the reference, refreshed by every inbound activity) and
 * `cards:<conversation>` (the last CARDS_PER_CONVERSATION cards, oldest first). Both are written
 * while the runtime holds the conversation's lock (a turn, a timeout), so the read-modify-write
 * of the card list never races another process. Even with an entry lost (memory past its bound),
 * a card submit names its card (`replyToId`), so answering by tapping still closes it.
 */
import { DEFAULT_CHANNEL_TTL_MS, type ChannelStorage, type StoredValue } from "../storage/channel-storage.ts";

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

/** Cards remembered per conversation: prompts are answered in order, old ones are only ever stale. */
export const CARDS_PER_CONVERSATION = 8;

export interface TeamsConversationsOptions {
  /** How long an idle conversation's reference and cards are kept; default 30 days, like conversation state. */
  ttlMs?: number;
  /** Cards remembered per conversation; default CARDS_PER_CONVERSATION. */
  maxCards?: number;
}

/** [promptId, activityId, question text]: the smallest JSON for one card. */
type CardTuple = [string, string, string];

/**
 * References and question cards of Teams conversations, on ChannelStorage.
 *
 * @example
 * const conversations = new TeamsConversations(deps.storage);
 * await conversations.saveReference(activity.conversation.id, reference);
 */
export class TeamsConversations {
  private readonly ttlMs: number;
  private readonly maxCards: number;

  constructor(
    private readonly storage: ChannelStorage,
    o: TeamsConversationsOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? DEFAULT_CHANNEL_TTL_MS;
    this.maxCards = o.maxCards ?? CARDS_PER_CONVERSATION;
  }

  async saveReference(conversationId: string, reference: StoredReference): Promise<void> {
    // Plain JSON data already: strings and booleans, absent fields left out (referenceOf).
    await this.storage.set(`ref:${conversationId}`, reference as unknown as StoredValue, this.ttlMs);
  }

  async reference(conversationId: string): Promise<StoredReference | undefined> {
    const v = await this.storage.get(`ref:${conversationId}`);
    return isReference(v) ? v : undefined;
  }

  async savePromptCard(conversationId: string, promptId: string, card: PromptCard): Promise<void> {
    const cards = (await this.cards(conversationId)).filter(([p]) => p !== promptId);
    cards.push([promptId, card.activityId, card.text]);
    await this.storage.set(`cards:${conversationId}`, cards.slice(-this.maxCards), this.ttlMs);
  }

  async promptCard(conversationId: string, promptId: string): Promise<PromptCard | undefined> {
    const found = (await this.cards(conversationId)).find(([p]) => p === promptId);
    return found ? { activityId: found[1], text: found[2] } : undefined;
  }

  private async cards(conversationId: string): Promise<CardTuple[]> {
    const v = await this.storage.get(`cards:${conversationId}`);
    if (!Array.isArray(v)) return [];
    // Written by this or an older version: keep only well-formed entries.
    return v.filter((c): c is CardTuple => Array.isArray(c) && c.length === 3 && c.every((x) => typeof x === "string"));
  }
}

function isReference(v: unknown): v is StoredReference {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Partial<Record<keyof StoredReference, unknown>>;
  const idOf = (x: unknown) => (typeof x === "object" && x !== null ? (x as { id?: unknown }).id : undefined);
  return typeof r.channelId === "string" && typeof r.serviceUrl === "string" && typeof idOf(r.conversation) === "string" && typeof idOf(r.bot) === "string" && typeof idOf(r.user) === "string";
}
