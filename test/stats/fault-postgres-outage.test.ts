/**
 * Fault test (issue 3, "Done means"): PostgreSQL refuses connections for a while. A TCP
 * proxy sits between `botflow worker` (a real child process) and the real PostgreSQL; the
 * test makes it refuse new connections and cut the open ones, queues survey events, waits
 * until jobs have been retried, then lets traffic through again. Every event lands, once.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";
import { DATABASE_URL, deleteKeys, generateSurveys, REDIS_URL, waitUntil, WorkerProcess } from "./fault-fixtures.ts";

const EVENTS = 3_000;
const prefix = `test-${randomUUID()}`;
const schema = `test_${randomUUID().replace(/-/g, "")}`;
const settings = { name: "surveys", prefix, attempts: 15, backoffMs: 100, keepCompleted: 50_000 };
let redis: Redis;
let producer: BullmqSurveyQueue;
let store: PgSurveyStore;
let proxy: TcpProxy;
let worker: WorkerProcess | undefined;

async function storedSurveys(): Promise<number> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".survey`);
    return Number(r.rows[0]?.n);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  producer = new BullmqSurveyQueue({ connection: redis, settings });
  store = new PgSurveyStore({ connectionString: DATABASE_URL, schema });
  await store.migrate();
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
});

afterAll(async () => {
  worker?.kill("SIGKILL");
  await worker?.exited;
  await proxy.close();
  await producer.close();
  await deleteKeys(redis, `${prefix}:*`);
  await redis.quit();
  await store.close();
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

describe("botflow worker while PostgreSQL refuses connections", () => {
  it("retries the jobs with backoff and stores every event once PostgreSQL is back", { timeout: 90_000 }, async () => {
    worker = new WorkerProcess(
      ["--concurrency", "100", "--queue", settings.name, "--prefix", prefix, "--schema", schema],
      { REDIS_URL, DATABASE_URL: `postgres://postgres@${proxy.url}/test`, BOTFLOW_LOG_LEVEL: "info" },
    );
    await worker.started();
    expect(proxy.forwarded).toBeGreaterThan(0); // the worker really talks through the proxy

    await proxy.setMode("refuse");
    const { events, expected } = generateSurveys(EVENTS, "outage");
    await producer.addBulk(events);

    // Jobs fail, back off and come round again; nothing reaches the database meanwhile.
    await waitUntil(
      async () => {
        const delayed = await producer.queue.getJobs(["delayed"], 0, 99);
        return delayed.some((j) => (j?.attemptsMade ?? 0) >= 3);
      },
      30_000,
      "jobs retried at least three times",
    );
    expect(await storedSurveys()).toBe(0);
    expect(worker.output).toContain("could not be stored; it will be retried");

    await proxy.setMode("forward");
    await waitUntil(
      async () => {
        const c = await producer.counts();
        return c.waiting + c.active + c.delayed === 0;
      },
      60_000,
      "the queue to drain once PostgreSQL is back",
    );
    expect(await producer.counts()).toMatchObject({ completed: EVENTS, failed: 0, dead: 0 });

    const f = await store.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC" });
    expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, declined: f.declined, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
      dialogues: expected.dialogues,
      offered: expected.offered,
      answered: expected.answered,
      declined: expected.declined,
      surveys: expected.surveys,
      commented: expected.commented,
      distribution: expected.distribution,
    });
    expect(await storedSurveys()).toBe(expected.dialogues);

    worker.kill("SIGTERM");
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output).not.toContain("secret");
  });

  it("survives connections cut while batches are being written: no crash, every event lands once", { timeout: 90_000 }, async () => {
    const { events, expected } = generateSurveys(EVENTS, "cut");
    const cutSchema = `${schema}_cut`;
    const cutStore = new PgSurveyStore({ connectionString: DATABASE_URL, schema: cutSchema });
    await cutStore.migrate();
    const cutSettings = { ...settings, name: "cut-surveys" };
    const cutProducer = new BullmqSurveyQueue({ connection: redis, settings: cutSettings });
    const w = new WorkerProcess(
      ["--concurrency", "50", "--queue", cutSettings.name, "--prefix", prefix, "--schema", cutSchema],
      { REDIS_URL, DATABASE_URL: `postgres://postgres@${proxy.url}/test`, BOTFLOW_LOG_LEVEL: "info" },
    );
    try {
      await w.started();
      await cutProducer.addBulk(events);
      // Cut every open connection again and again while the worker is writing; new ones are let through.
      let cuts = 0;
      let exited = false;
      void w.exited.then(() => (exited = true));
      await waitUntil(
        async () => {
          if (exited) throw new Error(`botflow worker died while connections were cut:\n${w.output.slice(-2000)}`);
          const c = await cutProducer.counts();
          if (c.waiting + c.active + c.delayed === 0) return true;
          await proxy.setMode("reset");
          await proxy.setMode("forward");
          cuts++;
          return false;
        },
        60_000,
        "the queue to drain while connections are being cut",
      );
      expect(cuts).toBeGreaterThan(3);
      expect(await cutProducer.counts()).toMatchObject({ completed: EVENTS, failed: 0, dead: 0 });
      const f = await cutStore.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC" });
      expect({ dialogues: f.dialogues, answered: f.answered, surveys: f.surveys, distribution: f.distribution }).toEqual({
        dialogues: expected.dialogues,
        answered: expected.answered,
        surveys: expected.surveys,
        distribution: expected.distribution,
      });
      w.kill("SIGTERM");
      expect(await w.exited).toEqual({ code: 0, signal: null });
    } finally {
      w.kill("SIGKILL");
      await w.exited;
      await cutProducer.close();
      await cutStore.close();
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${cutSchema}" CASCADE`);
      await c.end();
    }
  });
});
