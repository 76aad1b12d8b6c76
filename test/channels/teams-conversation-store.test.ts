/**
 * What the Teams channel remembers (conversation references, question cards), on the two
 * ChannelStorage implementations: memory, and Redis (real Redis at 127.0.0.1:6379, a key prefix
 * of its own per run, removed after), where a second instance on the same keys (another web
 * process, or this one after a restart) sees what the first stored.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import { CARDS_PER_CONVERSATION, TeamsConversations, type StoredReference } from "../../channels/teams/conversation-store.ts";

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

/** A storage, and a second handle on the same entries (another process's, for Redis; the same object in memory). */
const implementations: [string, () => [ChannelStorage, ChannelStorage]][] = [
  [
    "memory",
    () => {
      const s = new MemoryChannelStorage();
      return [s, s];
    },
  ],
  [
    "redis",
    () => {
      const keyPrefix = `${prefix}${randomUUID()}:`;
      return [new RedisChannelStorage(redis, { keyPrefix }), new RedisChannelStorage(redis, { keyPrefix })];
    },
  ],
];

describe.each(implementations)("Teams conversations on %s ChannelStorage", (_name, make) => {
  it("keeps the latest reference of each conversation, seen by another instance", async () => {
    const [mine, theirs] = make();
    const store = new TeamsConversations(mine);
    expect(await store.reference("a:1")).toBeUndefined();
    await store.saveReference("a:1", reference("https://smba.example/emea/"));
    await store.saveReference("a:2", reference("https://smba.example/amer/"));
    await store.saveReference("a:1", reference("https://smba.example/apac/"));
    const other = new TeamsConversations(theirs);
    expect(await other.reference("a:1")).toEqual(reference("https://smba.example/apac/"));
    expect((await other.reference("a:2"))?.serviceUrl).toBe("https://smba.example/amer/");
  });

  it("remembers the last cards of a conversation by prompt, forgetting the oldest", async () => {
    const [mine, theirs] = make();
    const store = new TeamsConversations(mine);
    await store.saveReference("a:1", reference("https://smba.example/emea/"));
    const n = CARDS_PER_CONVERSATION + 2;
    for (let i = 1; i <= n; i++) await store.savePromptCard("a:1", `p${i}`, { activityId: `act-${i}`, text: `question ${i}` });
    await store.savePromptCard("a:2", "p1", { activityId: "other", text: "q" });
    const other = new TeamsConversations(theirs);
    expect(await other.promptCard("a:1", "p1")).toBeUndefined();
    expect(await other.promptCard("a:1", "p2")).toBeUndefined();
    expect(await other.promptCard("a:1", "p3")).toEqual({ activityId: "act-3", text: "question 3" });
    expect(await other.promptCard("a:1", `p${n}`)).toEqual({ activityId: `act-${n}`, text: `question ${n}` });
    expect(await other.promptCard("a:2", "p1")).toEqual({ activityId: "other", text: "q" });
    expect((await other.reference("a:1"))?.serviceUrl).toBe("https://smba.example/emea/");
  });

  it("takes a re-sent card of the same prompt as its newest", async () => {
    const [mine] = make();
    const store = new TeamsConversations(mine);
    await store.savePromptCard("a:1", "p1", { activityId: "first", text: "q" });
    await store.savePromptCard("a:1", "p1", { activityId: "again", text: "q" });
    expect(await store.promptCard("a:1", "p1")).toEqual({ activityId: "again", text: "q" });
  });

  it("reads what it does not recognise (an older version's, a foreign value) as absent", async () => {
    const [mine] = make();
    await mine.set("ref:a:1", { serviceUrl: 3 }, 60_000);
    await mine.set("cards:a:1", [["p1", "act"], "junk", ["p2", "act-2", "q"]], 60_000);
    const store = new TeamsConversations(mine);
    expect(await store.reference("a:1")).toBeUndefined();
    expect(await store.promptCard("a:1", "p1")).toBeUndefined();
    expect(await store.promptCard("a:1", "p2")).toEqual({ activityId: "act-2", text: "q" });
  });
});

describe("Teams conversations on memory ChannelStorage", () => {
  it("forgets the conversations written longest ago beyond the storage's bound", async () => {
    const store = new TeamsConversations(new MemoryChannelStorage({ maxEntries: 2 }));
    await store.saveReference("a:1", reference("u1"));
    await store.saveReference("a:2", reference("u2"));
    await store.saveReference("a:1", reference("u1")); // a:1 written again (its next activity)
    await store.saveReference("a:3", reference("u3"));
    expect(await store.reference("a:2")).toBeUndefined();
    expect((await store.reference("a:1"))?.serviceUrl).toBe("u1");
    expect((await store.reference("a:3"))?.serviceUrl).toBe("u3");
  });

  it("forgets an idle conversation after its time to live", async () => {
    let now = 1_000_000;
    const store = new TeamsConversations(new MemoryChannelStorage({ now: () => now }), { ttlMs: 60_000 });
    await store.saveReference("a:1", reference("u1"));
    await store.savePromptCard("a:1", "p1", { activityId: "x", text: "q" });
    now += 59_999;
    expect((await store.reference("a:1"))?.serviceUrl).toBe("u1");
    expect(await store.promptCard("a:1", "p1")).toEqual({ activityId: "x", text: "q" });
    now += 1;
    expect(await store.reference("a:1")).toBeUndefined();
    expect(await store.promptCard("a:1", "p1")).toBeUndefined();
  });
});

describe("Teams conversations on Redis ChannelStorage", () => {
  it("lets a conversation's entries expire with it", async () => {
    const store = new TeamsConversations(new RedisChannelStorage(redis, { keyPrefix: `${prefix}${randomUUID()}:` }), { ttlMs: 300 });
    await store.saveReference("a:1", reference("u1"));
    await store.savePromptCard("a:1", "p1", { activityId: "x", text: "q" });
    expect((await store.reference("a:1"))?.serviceUrl).toBe("u1");
    await expect.poll(async () => [await store.reference("a:1"), await store.promptCard("a:1", "p1")], { timeout: 3_000, interval: 50 }).toEqual([undefined, undefined]);
  });
});
