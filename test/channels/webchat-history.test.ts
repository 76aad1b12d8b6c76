/**
 * The web chat history contract, run against the memory history and the Redis one (real
 * Redis, a key prefix of its own per run, cleaned up); and the Redis one's announcements.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryWebchatHistory, type HistoryEntry, type WebchatHistory } from "../../channels/webchat/history.ts";
import type { ServerFrame } from "../../channels/webchat/protocol.ts";
import { RedisWebchatHistory } from "../../channels/webchat/redis-history.ts";

const prefix = `test-${randomUUID()}:webchat:`;
const redis = new Redis("redis://127.0.0.1:6379");
const opened: WebchatHistory[] = [];
afterAll(async () => {
  for (const h of opened) await h.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const msg = (text: string): ServerFrame => ({ type: "message", text });
const frames = (entries: HistoryEntry[] | undefined) => entries?.map((e) => e.frame);

const implementations: [string, (maxFrames: number) => WebchatHistory][] = [
  ["MemoryWebchatHistory", (maxFrames) => new MemoryWebchatHistory({ maxFrames })],
  ["RedisWebchatHistory", (maxFrames) => new RedisWebchatHistory(redis, { keyPrefix: `${prefix}${randomUUID()}:`, maxFrames })],
];

describe.each(implementations)("%s", (_name, make) => {
  it("knows nothing of a conversation it never saw", async () => {
    expect(await make(10).read("nobody")).toBeUndefined();
  });

  it("keeps frames in order, numbered and trimmed to the newest, per conversation", async () => {
    const h = make(3);
    const first = await h.append("a", [msg("1"), msg("2")]);
    await h.append("b", [{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍 | pipe" }]);
    const second = await h.append("a", [msg("3"), msg("4")]);
    expect(first.map((e) => e.frame)).toEqual([msg("1"), msg("2")]);
    const seqs = [...first, ...second].map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(4);
    const a = await h.read("a");
    expect(frames(a)).toEqual([msg("2"), msg("3"), msg("4")]);
    expect(a?.map((e) => e.seq)).toEqual(seqs.slice(1));
    expect(frames(await h.read("b"))).toEqual([{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍 | pipe" }]);
  });

  it("returns a copy: changing what was read changes nothing stored", async () => {
    const h = make(10);
    await h.append("a", [msg("1")]);
    (await h.read("a"))?.push({ seq: 99, frame: msg("x") });
    expect(frames(await h.read("a"))).toEqual([msg("1")]);
  });
});

describe("RedisWebchatHistory", () => {
  it("lets an idle conversation's history expire", async () => {
    const keyPrefix = `${prefix}ttl:`;
    await new RedisWebchatHistory(redis, { keyPrefix, ttlMs: 60_000 }).append("c", [msg("1")]);
    for (const key of [`${keyPrefix}{c}`, `${keyPrefix}{c}:seq`]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
  });

  it("announces appends to the other processes' histories, in order, and not to its own", async () => {
    const keyPrefix = `${prefix}${randomUUID()}:`;
    const a = new RedisWebchatHistory(redis, { keyPrefix });
    const b = new RedisWebchatHistory(redis, { keyPrefix });
    opened.push(a, b);
    const heardByA: [string, HistoryEntry[]][] = [];
    const heardByB: [string, HistoryEntry[]][] = [];
    await a.subscribe((c, e) => heardByA.push([c, e]));
    await b.subscribe((c, e) => heardByB.push([c, e]));
    const one = await a.append("conv", [msg("1"), msg("2")]);
    const two = await a.append("conv", [msg("3")]);
    await expect.poll(() => heardByB.length).toBe(2);
    expect(heardByB).toEqual([
      ["conv", one],
      ["conv", two],
    ]);
    expect(one.map((e) => e.seq)).toEqual([1, 2]);
    expect(two.map((e) => e.seq)).toEqual([3]);
    expect(heardByA).toEqual([]);
  });
});

describe("MemoryWebchatHistory", () => {
  it("forgets the least recently used conversations beyond its limit", async () => {
    const h = new MemoryWebchatHistory({ maxConversations: 2 });
    await h.append("a", [msg("a")]);
    await h.append("b", [msg("b")]);
    await h.read("a"); // a is used again: b is now the oldest
    await h.append("c", [msg("c")]);
    expect([frames(await h.read("a")), await h.read("b"), frames(await h.read("c"))]).toEqual([[msg("a")], undefined, [msg("c")]]);
  });
});
