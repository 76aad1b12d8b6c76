/**
 * The environment of a production-mode web process (or worker) for tests, on the machine's
 * shared Redis and PostgreSQL: its own queue, key prefixes and schema, and a `cleanup` that
 * removes every Redis key and the schema it used.
 *
 * @example
 * const prod = productionEnv();
 * afterAll(() => prod.cleanup());
 * const t = await startTestApp({ ...prod.env, TELEGRAM_BOT_TOKEN: TOKEN });
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";

export const TEST_REDIS_URL = "redis://127.0.0.1:6379";
export const TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface ProductionEnv {
  /** The unique part of every name: `test-<id>` queue and prefixes, `test_<id>` schema. */
  id: string;
  env: {
    REDIS_URL: string;
    DATABASE_URL: string;
    BOTFLOW_QUEUE: string;
    BOTFLOW_QUEUE_PREFIX: string;
    BOTFLOW_STATE_PREFIX: string;
    BOTFLOW_DB_SCHEMA: string;
  };
  cleanup(): Promise<void>;
}

export function productionEnv(redisUrl = TEST_REDIS_URL, databaseUrl = TEST_DATABASE_URL): ProductionEnv {
  const id = randomUUID().replace(/-/g, "").slice(0, 12);
  return {
    id,
    env: {
      REDIS_URL: redisUrl,
      DATABASE_URL: databaseUrl,
      BOTFLOW_QUEUE: `test-${id}`,
      BOTFLOW_QUEUE_PREFIX: `test-${id}`,
      BOTFLOW_STATE_PREFIX: `test-${id}:`,
      BOTFLOW_DB_SCHEMA: `test_${id}`,
    },
    async cleanup() {
      const redis = new Redis(TEST_REDIS_URL);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `test-${id}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      await db.query(`drop schema if exists test_${id} cascade`);
      await db.end();
    },
  };
}
