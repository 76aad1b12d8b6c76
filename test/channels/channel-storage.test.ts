/**
 * The ChannelStorage contract, run against the memory storage and the Redis one (real Redis at
 * 127.0.0.1:6379, a key prefix of its own per run, removed after).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import { StoreUnavailableError } from "../../engine/errors.ts";

const prefix = `test-${randomUUID()}:`;
let redis: Redis;
beforeAll(() => {
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const implementations: [string, () => ChannelStorage][] = [
  ["memory", () => new MemoryChannelStorage()],
  ["redis", () => new RedisChannelStorage(redis, { keyPrefix: `${prefix}${randomUUID()}:` })],
];

describe.each(implementations)("%s ChannelStorage", (_name, make) => {
  it("keeps a JSON value under its key and gives a copy back", async () => {
    const s = make();
    expect(await s.get("a")).toBeUndefined();
    const value = { messageId: 5001, freeText: false, labels: ["1", "👍"] };
    await s.set("a", value, 60_000);
    value.messageId = 1;
    expect(await s.get("a")).toEqual({ messageId: 5001, freeText: false, labels: ["1", "👍"] });
    await s.set("a", "replaced", 60_000);
    expect(await s.get("a")).toBe("replaced");
  });

  it("takes a value once: the second take finds nothing", async () => {
    const s = make();
    await s.set("p", { promptId: "p1" }, 60_000);
    const [first, second] = await Promise.all([s.take("p"), s.take("p")]);
    expect([first, second].filter((v) => v !== undefined)).toEqual([{ promptId: "p1" }]);
    expect(await s.get("p")).toBeUndefined();
  });

  it("deletes the keys between a prefix and a suffix, counting them, within its scope only", async () => {
    const s = make();
    const telegram = s.scope("telegram:prompt:");
    await telegram.set("42:p1", [1, 0], 60_000);
    await telegram.set("42:p2", [2, 0], 60_000);
    await telegram.set("421:p1", [3, 0], 60_000);
    await s.scope("whatsapp-cloud:window:").set("111:380501234567", { closesAt: 1 }, 60_000);
    await s.scope("whatsapp-cloud:window:").set("222:380501234567", { closesAt: 1 }, 60_000);
    await s.scope("whatsapp-cloud:window:").set("111:1380501234567", { closesAt: 1 }, 60_000);
    // Glob characters are literal, not patterns.
    await s.set("x*:1", 1, 60_000);
    await s.set("xy:1", 1, 60_000);
    expect(await telegram.deleteMatching("42:")).toBe(2);
    expect(await telegram.get("421:p1")).toEqual([3, 0]);
    expect(await s.scope("whatsapp-cloud:").deleteMatching("window:", ":380501234567")).toBe(2);
    expect(await s.get("whatsapp-cloud:window:111:1380501234567")).toEqual({ closesAt: 1 });
    expect(await s.deleteMatching("x*")).toBe(1);
    expect(await s.get("xy:1")).toBe(1);
    expect(await telegram.deleteMatching("42:")).toBe(0);
  });

  it("deletes, and keeps scopes apart", async () => {
    const s = make();
    const a = s.scope("telegram:");
    const b = s.scope("whatsapp:");
    await a.set("1", 1, 60_000);
    await b.set("1", 2, 60_000);
    expect(await a.get("1")).toBe(1);
    expect(await b.get("1")).toBe(2);
    expect(await s.get("telegram:1")).toBe(1);
    expect(await a.scope("x:").get("1")).toBeUndefined();
    await a.delete("1");
    expect(await a.get("1")).toBeUndefined();
    expect(await b.get("1")).toBe(2);
  });

  it("forgets a value after its TTL", async () => {
    const s = make();
    await s.set("short", "v", 30);
    await s.set("long", "v", 60_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(await s.get("short")).toBeUndefined();
    expect(await s.take("short")).toBeUndefined();
    expect(await s.get("long")).toBe("v");
  });
});

describe("MemoryChannelStorage", () => {
  it("is bounded: past maxEntries the oldest written go first", async () => {
    const s = new MemoryChannelStorage({ maxEntries: 3 });
    for (const k of ["a", "b", "c"]) await s.set(k, k, 60_000);
    await s.set("a", "a again", 60_000);
    await s.set("d", "d", 60_000);
    expect(s.size).toBe(3);
    expect(await s.get("b")).toBeUndefined();
    expect(await s.get("a")).toBe("a again");
    expect(await s.get("d")).toBe("d");
  });

  it("expires on the injected clock", async () => {
    let now = 1_000;
    const s = new MemoryChannelStorage({ now: () => now });
    await s.set("k", true, 500);
    now += 499;
    expect(await s.get("k")).toBe(true);
    now += 1;
    expect(await s.get("k")).toBeUndefined();
  });
});

describe("RedisChannelStorage", () => {
  it("says the store is unavailable (StoreUnavailableError) when Redis is away", async () => {
    const away = new Redis("redis://127.0.0.1:1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    away.on("error", () => {});
    const s = new RedisChannelStorage(away, { keyPrefix: `${prefix}away:` });
    await expect(s.get("k")).rejects.toBeInstanceOf(StoreUnavailableError);
    away.disconnect();
  });
});
