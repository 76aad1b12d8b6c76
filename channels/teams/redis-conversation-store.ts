/**
 * Teams conversation references and question cards in Redis (production): shared by every web
 * process, so a card answered by typing is updated, and a timeout reaches its conversation,
 * whichever process takes the event.
 *
 * One hash per conversation, `<prefix>{<conversation>}`: field `ref` (the reference JSON) and
 * `card:<promptId>` fields, with `<prefix>{<conversation>}:cards` listing the card fields
 * oldest first so only the last few are kept. Both expire with the conversation.
 *
 * @example
 * const store = new RedisTeamsConversationStore(redis, { keyPrefix: "botflow:teams:" });
 */
import type { Redis } from "ioredis";
import { CARDS_PER_CONVERSATION, type PromptCard, type StoredReference, type TeamsConversationStore } from "./conversation-store.ts";

export interface RedisTeamsConversationStoreOptions {
  /** Prepended to every key; default `botflow:teams:`. */
  keyPrefix?: string;
  /** Idle conversations are forgotten after this long; default 30 days, like conversation state. */
  ttlMs?: number;
  /** Cards remembered per conversation; default CARDS_PER_CONVERSATION. */
  maxCards?: number;
}

// KEYS: hash, order list. ARGV: field, card JSON, maxCards, ttlMs.
const SAVE_CARD = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
while redis.call('LLEN', KEYS[2]) > tonumber(ARGV[3]) do
  redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`;

interface Commands {
  botflowTeamsSaveCard(hash: string, order: string, field: string, card: string, maxCards: number, ttlMs: number): Promise<number>;
}

export class RedisTeamsConversationStore implements TeamsConversationStore {
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly maxCards: number;

  constructor(
    private readonly redis: Redis,
    options: RedisTeamsConversationStoreOptions = {},
  ) {
    this.prefix = options.keyPrefix ?? "botflow:teams:";
    this.ttlMs = options.ttlMs ?? 30 * 86_400_000;
    this.maxCards = options.maxCards ?? CARDS_PER_CONVERSATION;
    if (!("botflowTeamsSaveCard" in redis)) redis.defineCommand("botflowTeamsSaveCard", { numberOfKeys: 2, lua: SAVE_CARD });
  }

  private key(conversationId: string): string {
    // The braces keep both keys of a conversation in one cluster slot.
    return `${this.prefix}{${conversationId}}`;
  }

  async saveReference(conversationId: string, reference: StoredReference): Promise<void> {
    const key = this.key(conversationId);
    await this.redis.multi().hset(key, "ref", JSON.stringify(reference)).pexpire(key, this.ttlMs).pexpire(`${key}:cards`, this.ttlMs).exec();
  }

  async reference(conversationId: string): Promise<StoredReference | undefined> {
    const raw = await this.redis.hget(this.key(conversationId), "ref");
    return raw === null ? undefined : (JSON.parse(raw) as StoredReference);
  }

  async savePromptCard(conversationId: string, promptId: string, card: PromptCard): Promise<void> {
    const key = this.key(conversationId);
    await (this.redis as unknown as Commands).botflowTeamsSaveCard(key, `${key}:cards`, `card:${promptId}`, JSON.stringify(card), this.maxCards, this.ttlMs);
  }

  async promptCard(conversationId: string, promptId: string): Promise<PromptCard | undefined> {
    const raw = await this.redis.hget(this.key(conversationId), `card:${promptId}`);
    return raw === null ? undefined : (JSON.parse(raw) as PromptCard);
  }
}
