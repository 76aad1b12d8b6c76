/**
 * The production RateLimiter: buckets in Redis, shared by every web process and worker, so
 * 30 messages/s per bot holds however many processes send. One Lua script per call reads,
 * refills and takes every bucket of the call atomically (the arithmetic of token-bucket.ts,
 * copied line for line), on Redis's own clock (`TIME`), so the hosts' clocks never matter.
 * Each bucket is a hash `<prefix><key>` {t: tokens, a: at ms, p: paused until ms} that expires
 * once it would be full again and unpaused (a missing bucket is full).
 *
 * Deliberately left out: Redis Cluster slots (one call's keys must share a slot; use a
 * `{botId}` hash tag in the keys there) and a local cache: every acquire is one round trip.
 *
 * @example
 * const limiter = new RedisRateLimiter(redis, { keyPrefix: "botflow:rate:" });
 * await limiter.acquire([{ key: "telegram:42", ratePerSec: 30, burst: 30 }, { key: "telegram:42:1001", ratePerSec: 1, burst: 1 }]);
 */
import type { Redis } from "ioredis";
import { StoreUnavailableError } from "../../engine/errors.ts";
import type { Clock } from "../../engine/ports.ts";
import { defaultSleep } from "../retry.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { checkRules, type RateLimitKey } from "./token-bucket.ts";

export interface RedisRateLimiterOptions {
  /** Prepended to every bucket key (default `botflow:rate:`); tests use their own. */
  keyPrefix?: string;
  /** Time for the buckets instead of Redis's TIME (tests drive a virtual clock through it). */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Kept past the moment a bucket is full again, against clock steps (default 1 s). */
  ttlMarginMs?: number;
}

/**
 * KEYS: the buckets. ARGV: mode ("acquire" | "debit"), cost, now in ms ("" = Redis TIME),
 * TTL margin in ms, then rate and burst of each bucket. Returns 0 once taken, else the wait in ms.
 */
const TAKE_SCRIPT = `
local mode, cost, margin = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])
local now = tonumber(ARGV[3])
if not now then local t = redis.call("TIME"); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local tokens, paused = {}, {}
local wait = 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local v = redis.call("HMGET", key, "t", "a", "p")
  local t, a, p = tonumber(v[1]) or burst, tonumber(v[2]) or now, tonumber(v[3]) or 0
  t = math.min(burst, t + math.max(0, now - a) * rate / 1000)
  tokens[i], paused[i] = t, p
  if mode == "acquire" then
    local short = cost - t
    wait = math.max(wait, p - now, short > 0 and math.ceil(short * 1000 / rate) or 0)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[3 + 2 * i]), tonumber(ARGV[4 + 2 * i])
  local t = tokens[i] - cost
  redis.call("HSET", key, "t", tostring(t), "a", tostring(now), "p", tostring(paused[i]))
  local idle = math.max(0, math.ceil((burst - t) * 1000 / rate), paused[i] - now)
  redis.call("PEXPIRE", key, math.floor(idle + margin))
end
return 0
`;

/** KEYS[1]: the bucket. ARGV: pause ms, now ms ("" = Redis TIME), TTL margin ms. */
const PAUSE_SCRIPT = `
local now = tonumber(ARGV[2])
if not now then local t = redis.call("TIME"); now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local untilMs = now + tonumber(ARGV[1])
local p = tonumber(redis.call("HGET", KEYS[1], "p")) or 0
if untilMs <= p then return 0 end
redis.call("HSET", KEYS[1], "p", tostring(untilMs))
local ttl = redis.call("PTTL", KEYS[1])
local want = math.floor(untilMs - now + tonumber(ARGV[3]))
if ttl < want then redis.call("PEXPIRE", KEYS[1], want) end
return 1
`;

type ScriptedRedis = Redis & {
  botflowRateTake(n: number, ...args: (string | number)[]): Promise<number>;
  botflowRatePause(n: number, ...args: (string | number)[]): Promise<number>;
};

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly clock: Clock | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly margin: number;

  /** `redis` is the caller's (the web process's shared connection); it is not closed here. */
  constructor(redis: Redis, o: RedisRateLimiterOptions = {}) {
    // defineCommand sends EVALSHA and falls back to EVAL once per connection: one round trip per call.
    if (!("botflowRateTake" in redis)) {
      redis.defineCommand("botflowRateTake", { lua: TAKE_SCRIPT });
      redis.defineCommand("botflowRatePause", { lua: PAUSE_SCRIPT });
    }
    this.redis = redis as ScriptedRedis;
    this.prefix = o.keyPrefix ?? "botflow:rate:";
    this.clock = o.clock;
    this.sleep = o.sleep ?? defaultSleep;
    this.margin = o.ttlMarginMs ?? 1_000;
  }

  async acquire(keys: readonly RateLimitKey[], cost = 1): Promise<void> {
    checkRules(keys, cost);
    for (;;) {
      const waitMs = await this.take(keys, cost, "acquire");
      if (waitMs === 0) return;
      await this.sleep(waitMs);
    }
  }

  async debit(keys: readonly RateLimitKey[], cost = 1): Promise<void> {
    checkRules(keys, cost, "debit");
    await this.take(keys, cost, "debit");
  }

  async pause(key: string, ms: number): Promise<void> {
    try {
      await this.redis.botflowRatePause(1, this.prefix + key, Math.max(0, Math.ceil(ms)), this.now(), this.margin);
    } catch (err) {
      throw new StoreUnavailableError("the rate limiter (Redis)", { cause: err });
    }
  }

  private async take(keys: readonly RateLimitKey[], cost: number, mode: "acquire" | "debit"): Promise<number> {
    const args: (string | number)[] = [...keys.map((k) => this.prefix + k.key), mode, cost, this.now(), this.margin];
    for (const k of keys) args.push(k.ratePerSec, k.burst);
    try {
      return Number(await this.redis.botflowRateTake(keys.length, ...args));
    } catch (err) {
      throw new StoreUnavailableError("the rate limiter (Redis)", { cause: err });
    }
  }

  private now(): string {
    return this.clock ? String(this.clock.now()) : "";
  }
}
