/**
 * The RateLimiter contract, run against the memory limiter and the Redis one (real Redis at
 * 127.0.0.1:6379, a key prefix of its own per test, removed after). Both run on virtual time
 * (the Redis script takes the injected time instead of TIME), so every wait is asserted exactly;
 * one Redis test runs on the server's own clock with only a lower bound on real time.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryRateLimiter } from "../../channels/rate-limit/memory-rate-limiter.ts";
import type { RateLimiter, RateLimitKey } from "../../channels/rate-limit/rate-limiter.ts";
import { RedisRateLimiter } from "../../channels/rate-limit/redis-rate-limiter.ts";
import { takeTokens } from "../../channels/rate-limit/token-bucket.ts";
import { deleteKeys } from "../stats/fault-fixtures.ts";
import { VirtualTime } from "./rate-limit-virtual-time.ts";

const prefix = `test-${randomUUID()}:`;
let redis: Redis;
beforeAll(() => {
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}*`);
  await redis.quit();
});

const implementations: [string, (time: VirtualTime) => RateLimiter][] = [
  ["memory", (time) => new MemoryRateLimiter({ clock: time, sleep: time.sleep })],
  // A long TTL margin: virtual time runs ahead of the real time Redis expires keys by.
  ["redis", (time) => new RedisRateLimiter(redis, { keyPrefix: `${prefix}${randomUUID()}:`, clock: time, sleep: time.sleep, ttlMarginMs: 600_000 })],
];

const bot: RateLimitKey = { key: "telegram:1", ratePerSec: 30, burst: 30 };
const chat = (id: number): RateLimitKey => ({ key: `telegram:1:${id}`, ratePerSec: 1, burst: 1 });

describe.each(implementations)("%s RateLimiter", (_name, make) => {
  it("lets a burst through at once, then one token per 1/rate", async () => {
    const time = new VirtualTime();
    const limiter = make(time);
    const start = time.now();
    const key = { key: "k", ratePerSec: 10, burst: 3 };
    const times = await time.drive(Array.from({ length: 7 }, () => limiter.acquire([key]).then(() => time.now() - start)));
    expect(times.sort((a, b) => a - b)).toEqual([0, 0, 0, 100, 200, 300, 400]);
  });

  it("takes from every bucket of a call or from none: a send waiting on its chat holds no bot token", async () => {
    const time = new VirtualTime();
    const limiter = make(time);
    const start = time.now();
    const at = () => time.now() - start;
    await limiter.acquire([bot, chat(7)]);
    const second = limiter.acquire([bot, chat(7)]).then(at);
    const otherChat = limiter.acquire([bot, chat(8)]).then(at);
    // 30 − 1 (chat 7) − 1 (chat 8) = 28 left at once only if the waiting send took none.
    const rest = limiter.acquire([bot], 28).then(at);
    expect(await time.drive([second, otherChat, rest])).toEqual([1000, 0, 0]);
  });

  it("spaces many concurrent sends to one chat a second apart", async () => {
    const time = new VirtualTime();
    const limiter = make(time);
    const start = time.now();
    const times = await time.drive(Array.from({ length: 5 }, () => limiter.acquire([bot, chat(1)]).then(() => time.now() - start)));
    expect(times.sort((a, b) => a - b)).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it("debits without waiting, into debt that later acquires wait out", async () => {
    const time = new VirtualTime();
    const limiter = make(time);
    const start = time.now();
    const key = { key: "reply", ratePerSec: 1, burst: 2 };
    await limiter.pause("reply", 60_000);
    await time.drive([limiter.debit([key], 2), limiter.debit([key], 3)]);
    expect(time.now() - start).toBe(0);
    // Paused for 60 s, −3 tokens: the pause ends before the debt (4 s to one token) is paid, so the pause decides.
    expect(await time.drive([limiter.acquire([key]).then(() => time.now() - start)])).toEqual([60_000]);
    const other = { key: "reply2", ratePerSec: 1, burst: 2 };
    await limiter.debit([other], 2);
    await limiter.debit([other], 2);
    const t0 = time.now();
    expect(await time.drive([limiter.acquire([other]).then(() => time.now() - t0)])).toEqual([3000]);
  });

  it("pauses a key for everyone; a shorter later pause does not shorten it; other keys go on", async () => {
    const time = new VirtualTime();
    const limiter = make(time);
    const start = time.now();
    await limiter.acquire([bot]);
    await limiter.pause(bot.key, 2_500);
    await limiter.pause(bot.key, 100);
    const at = () => time.now() - start;
    const results = await time.drive([limiter.acquire([bot, chat(1)]).then(at), limiter.acquire([bot]).then(at), limiter.acquire([{ key: "whatsapp-cloud:9", ratePerSec: 80, burst: 80 }]).then(at)]);
    expect(results).toEqual([2_500, 2_500, 0]);
  });

  it("refuses a cost no bucket can hold and rates that are not positive", async () => {
    const limiter = make(new VirtualTime());
    await expect(limiter.acquire([{ key: "k", ratePerSec: 1, burst: 2 }], 3)).rejects.toBeInstanceOf(RangeError);
    await expect(limiter.acquire([{ key: "k", ratePerSec: 0, burst: 2 }])).rejects.toBeInstanceOf(RangeError);
    await expect(limiter.debit([{ key: "k", ratePerSec: 1, burst: 1 }], 0)).rejects.toBeInstanceOf(RangeError);
  });
});

describe("RedisRateLimiter on Redis's own clock", () => {
  it("paces with TIME and lets a bucket expire once it is full again", async () => {
    const keyPrefix = `${prefix}${randomUUID()}:`;
    const limiter = new RedisRateLimiter(redis, { keyPrefix, ttlMarginMs: 200 });
    const key = { key: "k", ratePerSec: 20, burst: 1 };
    const started = performance.now();
    for (let i = 0; i < 5; i++) await limiter.acquire([key]);
    // Four tokens after the first, 50 ms apart: never sooner, however idle the machine (a slow one only adds).
    expect(performance.now() - started).toBeGreaterThanOrEqual(195);
    const ttl = await redis.pttl(`${keyPrefix}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(250);
  });
});

describe("MemoryRateLimiter", () => {
  it("forgets buckets that are full again and not paused", async () => {
    const time = new VirtualTime();
    const limiter = new MemoryRateLimiter({ clock: time, sleep: time.sleep, sweepAt: 10 });
    for (let i = 0; i < 9; i++) await limiter.acquire([chat(i)]);
    await limiter.pause("paused", 10_000);
    expect(limiter.size).toBe(10);
    time.drive([time.sleep(1_000)]);
    await new Promise((r) => setTimeout(r, 20));
    await limiter.acquire([chat(100)]);
    // Chats 0–8 are full again after 1 s; the paused key and the one just taken stay.
    expect(limiter.size).toBe(2);
  });
});

describe("takeTokens", () => {
  it("rounds a wait up so a sleeper never wakes before its token", () => {
    const r = takeTokens([{ tokens: 0, at: 0, pausedUntil: 0 }], [{ key: "k", ratePerSec: 30, burst: 30 }], 1, 10, "acquire");
    expect(r).toEqual({ ok: false, waitMs: 24 });
    const later = takeTokens([{ tokens: 0, at: 0, pausedUntil: 0 }], [{ key: "k", ratePerSec: 30, burst: 30 }], 1, 34, "acquire");
    expect(later.ok).toBe(true);
  });
});
