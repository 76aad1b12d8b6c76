/**
 * The hazard the fault test can only hit by chance, made certain: a worker commits a batch
 * to PostgreSQL and dies before acknowledging its jobs. Another worker gets the same jobs
 * again once the dead worker's locks expire, writes them again, and the figures still count
 * every survey once.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { deleteKeys, generateSurveys } from "./fault-fixtures.ts";
import { TEST_DATABASE_URL } from "./worker-test-store.ts";

const prefix = `test-${randomUUID()}`;
const schema = `test_${randomUUID().replace(/-/g, "")}`;
const settings = { name: "surveys", prefix };
let redis: Redis;
let store: PgSurveyStore;

beforeAll(async () => {
  redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  store = new PgSurveyStore({ connectionString: TEST_DATABASE_URL, schema });
  await store.migrate();
});

afterAll(async () => {
  await store.close();
  await deleteKeys(redis, `${prefix}:*`);
  await redis.quit();
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

describe("a worker that dies between committing and acknowledging", () => {
  it("has its jobs redelivered to another worker, and nothing is counted twice", async () => {
    const { events, expected } = generateSurveys(40, "redeliver");
    const producer = new BullmqSurveyQueue({ connection: redis, settings });
    await producer.addBulk(events);

    // Worker A commits its first batch, then freezes forever before its jobs are acknowledged.
    const committedByA: SurveyEvent[] = [];
    const frozen = {
      migrate: () => store.migrate(),
      apply: async (batch: readonly SurveyEvent[]) => {
        await store.apply(batch);
        committedByA.push(...batch);
        await new Promise<never>(() => {});
      },
      close: async () => {},
    };
    const connectionA = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const a = new SurveyWorker({ connection: connectionA, store: frozen, settings, concurrency: 10, lockDurationMs: 1_000, stalledIntervalMs: 300, batch: { maxInFlight: 1 } });
    await a.start();
    await vi.waitFor(() => expect(committedByA.length).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
    // It dies: no more lock renewals, no acknowledgement (force close does not wait for its jobs).
    await a.worker.close(true);
    connectionA.disconnect();
    const active = await producer.queue.getActive();
    expect(active.length).toBeGreaterThanOrEqual(committedByA.length);

    // Worker B finds the stalled jobs once A's locks expire, and writes them again. (Every worker
    // on a queue must share stalledInterval: BullMQ skips stalled checks for the interval of whichever ran last.)
    const applied: SurveyEvent[] = [];
    const recording = { migrate: () => store.migrate(), apply: async (batch: readonly SurveyEvent[]) => (applied.push(...batch), store.apply(batch)), close: async () => {} };
    const b = new SurveyWorker({ connection: redis, store: recording, settings, concurrency: 10, stalledIntervalMs: 300 });
    await b.start();
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(events.length), { timeout: 20_000, interval: 50 });
    await b.close();
    await producer.close();

    const written = new Set(applied.map((e) => `${e.surveyId}.${e.kind}`));
    for (const e of committedByA) expect(written.has(`${e.surveyId}.${e.kind}`)).toBe(true); // really written twice
    const f = await store.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC", source: "auto" });
    expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, declined: f.declined, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
      dialogues: expected.dialogues,
      offered: expected.offered,
      answered: expected.answered,
      declined: expected.declined,
      surveys: expected.surveys,
      commented: expected.commented,
      distribution: expected.distribution,
    });
  });
});
