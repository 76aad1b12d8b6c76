/**
 * The web chat history contract, run against the memory history and the Redis one (real
 * Redis, a key prefix of its own per run, cleaned up).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryWebchatHistory, type WebchatHistory } from "../../channels/webchat/history.ts";
import type { ServerFrame } from "../../channels/webchat/protocol.ts";
import { RedisWebchatHistory } from "../../channels/webchat/redis-history.ts";

const prefix = `test-${randomUUID()}:webchat:`;
const redis = new Redis("redis://127.0.0.1:6379");
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const msg = (text: string): ServerFrame => ({ type: "message", text });

const implementations: [string, (maxFrames: number) => WebchatHistory][] = [
  ["MemoryWebchatHistory", (maxFrames) => new MemoryWebchatHistory({ maxFrames })],
  ["RedisWebchatHistory", (maxFrames) => new RedisWebchatHistory(redis, { keyPrefix: `${prefix}${randomUUID()}:`, maxFrames })],
];

describe.each(implementations)("%s", (_name, make) => {
  it("knows nothing of a conversation it never saw", async () => {
    expect(await make(10).read("nobody")).toBeUndefined();
  });

  it("keeps frames in order, trimmed to the newest, per conversation", async () => {
    const h = make(3);
    await h.append("a", [msg("1"), msg("2")]);
    await h.append("b", [{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍" }]);
    await h.append("a", [msg("3"), msg("4")]);
    expect(await h.read("a")).toEqual([msg("2"), msg("3"), msg("4")]);
    expect(await h.read("b")).toEqual([{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍" }]);
  });

  it("returns a copy: changing what was read changes nothing stored", async () => {
    const h = make(10);
    await h.append("a", [msg("1")]);
    (await h.read("a"))?.push(msg("x"));
    expect(await h.read("a")).toEqual([msg("1")]);
  });
});

describe("RedisWebchatHistory", () => {
  it("lets an idle conversation's history expire", async () => {
    const keyPrefix = `${prefix}ttl:`;
    await new RedisWebchatHistory(redis, { keyPrefix, ttlMs: 60_000 }).append("c", [msg("1")]);
    const ttl = await redis.pttl(`${keyPrefix}c`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

describe("MemoryWebchatHistory", () => {
  it("forgets the least recently used conversations beyond its limit", async () => {
    const h = new MemoryWebchatHistory({ maxConversations: 2 });
    await h.append("a", [msg("a")]);
    await h.append("b", [msg("b")]);
    await h.read("a"); // a is used again: b is now the oldest
    await h.append("c", [msg("c")]);
    expect([await h.read("a"), await h.read("b"), await h.read("c")]).toEqual([[msg("a")], undefined, [msg("c")]]);
  });
});
