/**
 * The web chat history on the two ChannelStorage implementations (memory; real Redis, a key
 * prefix of its own per run, cleaned up), where a second instance on the same keys (another web
 * process, or this one after a restart) reads what the first appended; and the Redis announcer
 * that tells the other processes' sockets of each append.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import { StoredWebchatHistory, type HistoryEntry, type WebchatHistory } from "../../channels/webchat/history.ts";
import type { ServerFrame } from "../../channels/webchat/protocol.ts";
import { RedisFrameAnnouncer } from "../../channels/webchat/redis-announcer.ts";

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

describe.each(implementations)("web chat history on %s ChannelStorage", (_name, make) => {
  it("knows nothing of a conversation it never saw", async () => {
    expect(await new StoredWebchatHistory(make()[0]).read("nobody")).toBeUndefined();
  });

  it("keeps frames in order, numbered and trimmed to the newest, per conversation, for another instance to read", async () => {
    const [mine, theirs] = make();
    const h = new StoredWebchatHistory(mine, { maxFrames: 3 });
    const first = await h.append("a", [msg("1"), msg("2")]);
    await h.append("b", [{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍 | pipe" }]);
    const second = await h.append("a", [msg("3"), msg("4")]);
    expect(first.map((e) => e.frame)).toEqual([msg("1"), msg("2")]);
    const seqs = [...first, ...second].map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(4);
    const other = new StoredWebchatHistory(theirs, { maxFrames: 3 });
    const a = await other.read("a");
    expect(frames(a)).toEqual([msg("2"), msg("3"), msg("4")]);
    expect(a?.map((e) => e.seq)).toEqual(seqs.slice(1));
    expect(frames(await other.read("b"))).toEqual([{ type: "edit", promptId: "p1", reason: "answered", answer: "Ünïcödé 👍 | pipe" }]);
    // The other instance numbers on from the stored history: nothing is reused.
    const third = await other.append("a", [msg("5")]);
    expect(third[0]?.seq).toBe((seqs.at(-1) as number) + 1);
  });

  it("returns a copy: changing what was read changes nothing stored", async () => {
    const h = new StoredWebchatHistory(make()[0]);
    await h.append("a", [msg("1")]);
    (await h.read("a"))?.push({ seq: 99, frame: msg("x") });
    expect(frames(await h.read("a"))).toEqual([msg("1")]);
  });

  it("numbers a history forgotten and started again above every number it gave before", async () => {
    const [storage] = make();
    let now = 1_000_000;
    const h = new StoredWebchatHistory(storage, { now: () => now });
    const before = await h.append("a", [msg("1"), msg("2")]);
    await storage.delete("a");
    now += 1;
    const after = await h.append("a", [msg("again")]);
    expect(after[0]?.seq).toBeGreaterThan(before.at(-1)?.seq as number);
  });

  it("reads what it does not recognise (an older version's, a foreign value) as absent", async () => {
    const [storage] = make();
    await storage.set("a", { list: [] }, 60_000);
    await storage.set("b", [[1, { type: "message", text: "kept" }], "junk", ["2", {}]], 60_000);
    const h = new StoredWebchatHistory(storage);
    expect(await h.read("a")).toBeUndefined();
    expect(frames(await h.read("b"))).toEqual([msg("kept")]);
  });
});

describe("web chat history on memory ChannelStorage", () => {
  it("forgets the conversations written longest ago beyond the storage's bound", async () => {
    const h = new StoredWebchatHistory(new MemoryChannelStorage({ maxEntries: 2 }));
    await h.append("a", [msg("a")]);
    await h.append("b", [msg("b")]);
    await h.append("a", [msg("a2")]); // a is written again: b is now the oldest
    await h.append("c", [msg("c")]);
    expect([frames(await h.read("a")), await h.read("b"), frames(await h.read("c"))]).toEqual([[msg("a"), msg("a2")], undefined, [msg("c")]]);
  });

  it("lets an idle conversation's history expire", async () => {
    let now = 1_000_000;
    const h = new StoredWebchatHistory(new MemoryChannelStorage({ now: () => now }), { ttlMs: 60_000 });
    await h.append("c", [msg("1")]);
    now += 59_999;
    expect(frames(await h.read("c"))).toEqual([msg("1")]);
    now += 1;
    expect(await h.read("c")).toBeUndefined();
  });
});

describe("web chat history on Redis ChannelStorage", () => {
  it("lets an idle conversation's history expire", async () => {
    const h = new StoredWebchatHistory(new RedisChannelStorage(redis, { keyPrefix: `${prefix}ttl:` }), { ttlMs: 300 });
    await h.append("c", [msg("1")]);
    expect(frames(await h.read("c"))).toEqual([msg("1")]);
    await expect.poll(() => h.read("c"), { timeout: 3_000, interval: 50 }).toBeUndefined();
  });

  it("announces appends to the other processes' histories, in order, and not to its own", async () => {
    const keyPrefix = `${prefix}${randomUUID()}:`;
    const channel = `${keyPrefix}appended`;
    const a = new StoredWebchatHistory(new RedisChannelStorage(redis, { keyPrefix }), { announcer: new RedisFrameAnnouncer(redis, { channel }) });
    const b = new StoredWebchatHistory(new RedisChannelStorage(redis, { keyPrefix }), { announcer: new RedisFrameAnnouncer(redis, { channel }) });
    opened.push(a, b);
    expect([a.shared, b.shared]).toEqual([true, true]);
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
    const first = one[0]?.seq as number;
    expect(one.map((e) => e.seq)).toEqual([first, first + 1]);
    expect(two.map((e) => e.seq)).toEqual([first + 2]);
    expect(heardByA).toEqual([]);
    expect(await b.read("conv")).toEqual([...one, ...two]);
  });
});
