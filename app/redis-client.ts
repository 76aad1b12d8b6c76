/**
 * The Redis connection of the web process, shared by conversation state, channel storage and the
 * survey queue's producer. Built to answer fast while Redis is away rather than to wait for it:
 * - no offline queue: a command while disconnected fails at once (a StateStore turns that into
 *   StoreUnavailableError, so a webhook answers 503 with Retry-After and the messenger delivers
 *   again), instead of waiting in ioredis's queue for the webhook's whole deadline;
 * - a command that gets no answer fails after `commandTimeoutMs` (a hung network, not a refusal);
 * - reconnects on a capped exponential backoff with jitter (stats/retry-backoff.ts): 50–100 ms,
 *   doubling, then every 1–2 s, for as long as it takes;
 * - one warning when Redis goes away and one info line when it is back, with the outage's length
 *   and the reconnect attempts it took — not a line per attempt.
 *
 * @example
 * const redis = await openRedis(config.redisUrl, { logger });
 */
import { Redis } from "ioredis";
import { errorSummary } from "../engine/errors.ts";
import type { Logger } from "../engine/ports.ts";
import { retryDelay, type RetryBackoff } from "../stats/retry-backoff.ts";

export interface RedisClientOptions {
  logger: Logger;
  /** How the URL may be shown in logs (no password). */
  shown: string;
  /**
   * `web` (default): fail fast as described above. `worker`: a BullMQ worker's connection, whose
   * blocking commands wait for jobs, so it keeps ioredis's offline queue and has no command timeout
   * (BullMQ requires `maxRetriesPerRequest: null`); it reconnects and logs the same way.
   */
  role?: "web" | "worker";
  /** A command with no answer after this long fails (web role; default 2 s). */
  commandTimeoutMs?: number;
  /** Reconnect delays (default 50–100 ms, doubling, capped at 1–2 s). */
  backoff?: RetryBackoff;
}

export const REDIS_RECONNECT_BACKOFF: RetryBackoff = { baseMs: 100, capMs: 2_000 };

/** Connects (resolving once Redis is ready) and watches the connection as described above. */
export async function openRedis(url: string, o: RedisClientOptions): Promise<Redis> {
  const backoff = o.backoff ?? REDIS_RECONNECT_BACKOFF;
  const reconnects = { count: 0 };
  const retryStrategy = (times: number) => {
    reconnects.count = times;
    return retryDelay(times, backoff);
  };
  const redis =
    o.role === "worker"
      ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, connectTimeout: 2_000, retryStrategy })
      : new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: o.commandTimeoutMs ?? 2_000, retryStrategy });
  watchOutages(redis, o, reconnects);
  await redis.connect();
  return redis;
}

/** One warning when the connection goes away, one info line when it is ready again. */
function watchOutages(redis: Redis, o: Pick<RedisClientOptions, "logger" | "shown">, reconnects: { count: number }): void {
  let downSince: number | undefined;
  const wentAway = (err?: unknown) => {
    if (downSince !== undefined || redis.status === "end") return;
    downSince = Date.now();
    o.logger.warn(
      { redis: o.shown, ...(err !== undefined ? { err: errorSummary(err) } : {}) },
      "Redis unreachable: requests that need it are answered 503 (messengers deliver again) while the client reconnects with backoff",
    );
  };
  redis.on("error", (err: unknown) => wentAway(err));
  redis.on("close", () => {
    if (redis.status !== "end") wentAway();
  });
  redis.on("ready", () => {
    if (downSince === undefined) return;
    o.logger.info({ redis: o.shown, outageMs: Date.now() - downSince, reconnects: reconnects.count }, "Redis is back");
    downSince = undefined;
    reconnects.count = 0;
  });
}
