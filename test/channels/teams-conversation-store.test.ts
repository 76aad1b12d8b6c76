/**
 * The Teams conversation store contract, run against the memory store and the Redis one
 * (real Redis at 127.0.0.1:6379, a key prefix of its own per run, removed after).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CARDS_PER_CONVERSATION, MemoryTeamsConversationStore, type StoredReference, type TeamsConversationStore } from "../../channels/teams/conversation-store.ts";
import { RedisTeamsConversationStore } from "../../channels/teams/redis-conversation-store.ts";

const prefix = `test-${randomUUID()}:teams:`;
let redis: Redis;
beforeAll(() => {
  redis = new Redis("redis://127.0.0.1:6379", { lazyConnect: false, maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const reference = (serviceUrl: string): StoredReference => ({
  channelId: "msteams",
  serviceUrl,
  conversation: { id: "a:1", tenantId: "t", conversationType: "personal" },
  bot: { id: "28:bot", name: "botflow" },
  user: { id: "29:user", aadObjectId: "u" },
  locale: "uk-UA",
});

const implementations: [string, () => TeamsConversationStore][] = [
  ["memory", () => new MemoryTeamsConversationStore()],
  ["redis", () => new RedisTeamsConversationStore(redis, { keyPrefix: `${prefix}${randomUUID()}:` })],
];

describe.each(implementations)("%s Teams conversation store", (_name, make) => {
  it("keeps the latest reference of each conversation", async () => {
    const store = make();
    expect(await store.reference("a:1")).toBeUndefined();
    await store.saveReference("a:1", reference("https://smba.example/emea/"));
    await store.saveReference("a:2", reference("https://smba.example/amer/"));
    await store.saveReference("a:1", reference("https://smba.example/apac/"));
    expect(await store.reference("a:1")).toEqual(reference("https://smba.example/apac/"));
    expect((await store.reference("a:2"))?.serviceUrl).toBe("https://smba.example/amer/");
  });

  it("remembers the last cards of a conversation by prompt, forgetting the oldest", async () => {
    const store = make();
    await store.saveReference("a:1", reference("https://smba.example/emea/"));
    const n = CARDS_PER_CONVERSATION + 2;
    for (let i = 1; i <= n; i++) await store.savePromptCard("a:1", `p${i}`, { activityId: `act-${i}`, text: `question ${i}` });
    await store.savePromptCard("a:2", "p1", { activityId: "other", text: "q" });
    expect(await store.promptCard("a:1", "p1")).toBeUndefined();
    expect(await store.promptCard("a:1", "p2")).toBeUndefined();
    expect(await store.promptCard("a:1", "p3")).toEqual({ activityId: "act-3", text: "question 3" });
    expect(await store.promptCard("a:1", `p${n}`)).toEqual({ activityId: `act-${n}`, text: `question ${n}` });
    expect(await store.promptCard("a:2", "p1")).toEqual({ activityId: "other", text: "q" });
    expect((await store.reference("a:1"))?.serviceUrl).toBe("https://smba.example/emea/");
  });
});

describe("memory Teams conversation store", () => {
  it("forgets the least recently used conversations beyond its bound", async () => {
    const store = new MemoryTeamsConversationStore(2);
    await store.saveReference("a:1", reference("u1"));
    await store.saveReference("a:2", reference("u2"));
    await store.savePromptCard("a:1", "p1", { activityId: "x", text: "q" }); // a:1 used again
    await store.saveReference("a:3", reference("u3"));
    expect(await store.reference("a:2")).toBeUndefined();
    expect((await store.reference("a:1"))?.serviceUrl).toBe("u1");
    expect((await store.reference("a:3"))?.serviceUrl).toBe("u3");
  });
});

describe("Redis Teams conversation store", () => {
  it("expires a conversation's keys with it", async () => {
    const keyPrefix = `${prefix}${randomUUID()}:`;
    const store = new RedisTeamsConversationStore(redis, { keyPrefix, ttlMs: 60_000 });
    await store.saveReference("a:1", reference("u1"));
    await store.savePromptCard("a:1", "p1", { activityId: "x", text: "q" });
    const keys = (await redis.keys(`${keyPrefix}*`)).sort();
    expect(keys).toEqual([`${keyPrefix}{a:1}`, `${keyPrefix}{a:1}:cards`]);
    for (const k of keys) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });
});
