/**
 * Fault test (issue 3, "Done means"): 20,000 survey events queued on the real Redis,
 * `botflow worker` (a real child process) stores them in the real PostgreSQL, and is
 * SIGKILLed twice mid-run — with jobs in flight, which may be committed and not yet acknowledged —
 * and restarted; then stopped gracefully (SIGTERM) with work queued, which must leave no job
 * in flight behind it. Once the queue is drained the stored totals equal exactly what was
 * sent: nothing lost, nothing counted twice.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { DATABASE_URL, deleteKeys, generateSurveys, REDIS_URL, waitUntil, WorkerProcess } from "./fault-fixtures.ts";

const EVENTS = 20_000;
const prefix = `test-${randomUUID()}`;
const schema = `test_${randomUUID().replace(/-/g, "")}`;
const settings = { name: "surveys", prefix, attempts: 10, backoffMs: 200, keepCompleted: 50_000 };
let redis: Redis;
let producer: BullmqSurveyQueue;
let store: PgSurveyStore;
const children: WorkerProcess[] = [];

function startWorker(): WorkerProcess {
  const w = new WorkerProcess(
    ["--concurrency", "100", "--queue", settings.name, "--prefix", prefix, "--schema", schema, "--lock-duration", "3s", "--stalled-interval", "1s"],
    { REDIS_URL, DATABASE_URL, BOTFLOW_LOG_LEVEL: "info" },
  );
  children.push(w);
  return w;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  producer = new BullmqSurveyQueue({ connection: redis, settings });
  store = new PgSurveyStore({ connectionString: DATABASE_URL, schema });
  await store.migrate();
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await producer.close();
  await deleteKeys(redis, `${prefix}:*`);
  await redis.quit();
  await store.close();
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

describe("botflow worker killed with SIGKILL mid-run", () => {
  it("stores every one of 20,000 events exactly once across two kills, a graceful stop and restarts", { timeout: 120_000 }, async () => {
    const { events, expected } = generateSurveys(EVENTS, "kill");
    expect(events).toHaveLength(EVENTS);
    // The last fifth is queued later, so the graceful stop below happens with work still queued.
    const early = EVENTS * 0.8;
    await producer.addBulk(events.slice(0, early));
    expect((await producer.counts()).waiting).toBe(early);

    const completed = async (): Promise<number> => (await producer.counts()).completed;
    let orphans: string[] = [];
    for (const threshold of [EVENTS * 0.2, EVENTS * 0.55]) {
      const w = startWorker();
      await w.started();
      await waitUntil(async () => (await completed()) >= threshold, 60_000, `${threshold} completed jobs`);
      w.kill("SIGKILL");
      expect(await w.exited).toEqual({ code: null, signal: "SIGKILL" });
      // The killed worker left jobs active (locked): exactly the ones at risk of loss or double counting.
      orphans = (await producer.queue.getActive()).flatMap((j) => (j?.id ? [j.id] : []));
      expect(orphans.length).toBeGreaterThan(0);
    }

    // A graceful stop mid-run (SIGTERM) finishes its jobs in flight: none is left active behind it.
    // (First the next worker must have recovered the last kill's orphans, which stay active until their locks expire.)
    const stopped = startWorker();
    await stopped.started();
    await waitUntil(
      async () => (await Promise.all(orphans.map((id) => producer.queue.getJobState(id)))).every((s) => s === "completed"),
      60_000,
      "the killed worker's jobs to be recovered and completed",
    );
    await producer.addBulk(events.slice(early));
    await waitUntil(async () => (await completed()) >= early + 500, 60_000, `${early + 500} completed jobs`);
    stopped.kill("SIGTERM");
    expect(await stopped.exited).toEqual({ code: 0, signal: null });
    const afterStop = await producer.counts();
    expect(afterStop.active).toBe(0);
    expect(afterStop.waiting).toBeGreaterThan(0);

    const last = startWorker();
    await last.started();
    await waitUntil(
      async () => {
        const c = await producer.counts();
        return c.waiting + c.active + c.delayed === 0;
      },
      90_000,
      "the queue to drain",
    );
    last.kill("SIGTERM");
    expect(await last.exited).toEqual({ code: 0, signal: null });

    const counts = await producer.counts();
    expect(counts).toMatchObject({ completed: EVENTS, failed: 0, dead: 0 });
    for (const source of ["auto", "surveys"] as const) {
      const f = await store.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC", source });
      expect({
        dialogues: f.dialogues,
        offered: f.offered,
        answered: f.answered,
        declined: f.declined,
        surveys: f.surveys,
        rated: f.rated,
        commented: f.commented,
        distribution: f.distribution,
      }).toEqual({
        dialogues: expected.dialogues,
        offered: expected.offered,
        answered: expected.answered,
        declined: expected.declined,
        surveys: expected.surveys,
        rated: expected.rated,
        commented: expected.commented,
        distribution: expected.distribution,
      });
      expect(f.average).toBeCloseTo(expected.scoreSum / expected.rated, 10);
    }
    const logs = children.map((c) => c.output).join("\n");
    expect(logs).not.toContain("secret");
  });
});
