/**
 * Start-up and readiness probes for the production services, so an unreachable Redis or
 * PostgreSQL is reported plainly before anything starts.
 */
import { Redis } from "ioredis";
import pg from "pg";
import { redactUrl } from "./config.ts";

/** Resolves when Redis at `url` answers PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 3_000): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on("error", () => {}); // reported through the rejected connect below
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${redactUrl(url)} is not reachable (${errorText(err)}): start Redis or fix REDIS_URL`);
  } finally {
    redis.disconnect();
  }
}

/** Resolves when PostgreSQL at `url` answers `select 1` within `timeoutMs`. */
export async function pingPostgres(url: string, timeoutMs = 3_000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } catch (err) {
    throw new Error(`PostgreSQL at ${redactUrl(url)} is not reachable (${errorText(err)}): start PostgreSQL or fix DATABASE_URL`);
  } finally {
    await client.end().catch(() => {});
  }
}

function errorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
  if (err instanceof Error) return err.message || (err as { code?: string }).code || err.name;
  return String(err);
}
