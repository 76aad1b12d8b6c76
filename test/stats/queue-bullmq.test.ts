import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { surveyBatchJobId, surveyJobId, type SurveyEvent } from "../../stats/events.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import type { SurveyQueueSettings } from "../../stats/queue/survey-queue-settings.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingLogger } from "../helpers/recorders.ts";
import { ControlledStore, EventLogStore, testEvent } from "./worker-test-store.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const schema = `test_${randomUUID().replace(/-/g, "")}`;
let redis: Redis;
let prefix: string;
let settings: Partial<SurveyQueueSettings>;
let producer: BullmqSurveyQueue;
let base: EventLogStore;
let store: ControlledStore;
const workers: SurveyWorker[] = [];

async function deleteKeys(r: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await r.del(...keys);
  } while (cursor !== "0");
}

function startWorker(o: { concurrency?: number; logger?: RecordingLogger } = {}): SurveyWorker {
  const w = new SurveyWorker({ connection: redis, store, settings, concurrency: o.concurrency ?? 20, ...(o.logger ? { logger: o.logger } : {}) });
  workers.push(w);
  return w;
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  base = new EventLogStore(schema);
  await base.migrate();
});
afterAll(async () => {
  await base.close();
  await EventLogStore.dropSchema(schema);
  await redis.quit();
});
beforeEach(async () => {
  prefix = `test-${randomUUID()}`;
  settings = { prefix, name: "surveys", attempts: 3, backoffMs: 5 };
  producer = new BullmqSurveyQueue({ connection: redis, settings });
  await base.pool.query(`TRUNCATE "${schema}".events`);
  // The worker closes its store on shutdown; the shared pool must outlive each test.
  store = new ControlledStore({ migrate: () => base.migrate(), apply: (e) => base.apply(e), close: async () => {} });
});
afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  await producer.close();
  await deleteKeys(redis, `${prefix}:*`);
});

describe("BullmqSurveyQueue and SurveyWorker on the real Redis", () => {
  it("keeps one job when the same event is queued twice, and stores it once", async () => {
    const e = testEvent(1);
    await producer.add(e);
    await producer.add({ ...e });
    await producer.addBulk([e, testEvent(2), testEvent(2)]);
    expect((await producer.counts()).waiting).toBe(2);
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(2), { timeout: 10_000, interval: 20 });
    expect(store.timesGiven(surveyJobId(e))).toBe(1);
    expect(await base.jobIds()).toEqual(["s1.completed", "s2.completed"]);
    // Queued again after it completed: still recognised while the completed job is kept.
    await producer.add(e);
    expect((await producer.counts()).waiting).toBe(0);
  });

  it("holds an event while the store is away, using no attempts, and stores it once a probe answers", async () => {
    store.down = true; // writes and probes (ping) fail
    const logger = new RecordingLogger();
    await producer.add(testEvent(1));
    const w = startWorker({ logger });
    await w.start();
    await vi.waitFor(() => expect(w.held).toBe(1), { timeout: 10_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 300)); // a few probes fail meanwhile
    expect(store.calls).toHaveLength(2); // the write and its immediate retry; then it waits
    store.down = false;
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(1), { timeout: 10_000, interval: 20 });
    const job = await producer.queue.getJob("s1.completed");
    expect(job?.attemptsMade).toBe(1); // BullMQ counts the successful attempt; the outage used none
    expect(store.calls).toHaveLength(3);
    expect(await base.jobIds()).toEqual(["s1.completed"]);
    expect((await producer.counts())).toMatchObject({ dead: 0, failed: 0 });
    expect(logger.lines.filter((l) => l.level !== "debug").map((l) => [l.level, l.msg?.split(":")[0]])).toEqual([
      ["warn", "statistics store unreachable"],
      ["info", "statistics store is back"],
    ]);
    expect(w.availability).toMatchObject({ up: true, outages: 1 });
  });

  it("retries with an attempt a transient failure while the store answers its probe (busy, not away)", async () => {
    store.failNext = 3; // ECONNREFUSED-shaped, but ping answers: e.g. one connection lost twice, then again
    const logger = new RecordingLogger();
    await producer.add(testEvent(1));
    const w = startWorker({ logger });
    await w.start();
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(1), { timeout: 10_000, interval: 20 });
    const job = await producer.queue.getJob("s1.completed");
    expect(job?.attemptsMade).toBe(2); // the first attempt failed (write, retry at once), the second stored it
    expect(store.calls).toHaveLength(4);
    expect(w.availability.outages).toBe(0);
    expect(logger.lines.filter((l) => l.level === "warn").map((l) => l.msg)).toEqual(["survey event could not be stored; it will be retried"]);
  });

  it("hands the jobs it holds for an outage back to the queue on close, unused, for the next worker", async () => {
    store.down = true;
    await producer.addBulk([testEvent(1), testEvent(2), testEvent(3)]);
    const w = startWorker();
    await w.start();
    await vi.waitFor(() => expect(w.held).toBe(3), { timeout: 10_000, interval: 20 });
    await w.close(); // does not wait for the store
    const c = await producer.counts();
    expect(c.waiting + c.delayed).toBe(3);
    expect(c).toMatchObject({ active: 0, failed: 0, dead: 0, completed: 0 });
    for (const j of await producer.queue.getJobs(["waiting", "delayed"])) expect(j?.attemptsMade).toBe(0);

    store.down = false;
    const next = startWorker();
    await next.start();
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(3), { timeout: 10_000, interval: 20 });
    expect(await base.jobIds()).toEqual(["s1.completed", "s2.completed", "s3.completed"]);
  });

  it("moves an event whose row is refused on every attempt to the dead letter, and replay stores it", async () => {
    store.refuse = (e) => e.surveyId === "s7";
    const logger = new RecordingLogger();
    await producer.add(testEvent(7, { comment: "my private words" }));
    const w = startWorker({ logger });
    await w.start();
    await vi.waitFor(async () => expect((await producer.counts()).dead).toBe(1), { timeout: 10_000, interval: 20 });
    await vi.waitFor(async () => expect((await producer.counts()).failed).toBe(1), { timeout: 5_000, interval: 20 });
    const [dead] = await producer.deadLetters();
    expect(dead).toMatchObject({ jobId: "s7.completed", attemptsMade: 3, unrecoverable: false, event: { surveyId: "s7", comment: "my private words" } });
    expect(dead?.failedReason).toMatch(/row refused/);
    expect(store.timesGiven("s7.completed")).toBe(3);
    expect(await base.count()).toBe(0);
    expect(JSON.stringify(logger.lines)).not.toContain("my private words");
    expect(logger.lines.some((l) => l.msg?.includes("dead letter"))).toBe(true);

    store.refuse = () => false;
    expect(await producer.replayDead()).toBe(1);
    await vi.waitFor(async () => expect(await base.jobIds()).toEqual(["s7.completed"]), { timeout: 10_000, interval: 20 });
    const counts = await producer.counts();
    expect(counts.dead).toBe(0);
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(1), { timeout: 5_000, interval: 20 });
  });

  it("queues an update's events as one job of the batch shape, a batch of one as an event job, and batches added at once as one job", async () => {
    const update = [testEvent(31, { kind: "dialogue_started" }), testEvent(31, { kind: "offered" }), testEvent(31, { kind: "answered", score: 4 })];
    await producer.addBatch(update);
    await producer.addBatch([testEvent(32)]);
    const jobs = await producer.queue.getJobs(["wait"], 0, -1, true);
    expect(jobs.map((j) => j.id).sort()).toEqual([surveyBatchJobId(update), "s32.completed"].sort());
    const batch = jobs.find((j) => j.id === surveyBatchJobId(update));
    expect(batch?.name).toBe("batch");
    expect((batch?.data as { events: unknown[] }).events).toHaveLength(3);
    expect(jobs.find((j) => j.id === "s32.completed")?.data).toMatchObject({ kind: "completed", surveyId: "s32" });
    // Requests in flight together: their batches share one job.
    await Promise.all([33, 34, 35, 36].map((n) => producer.addBatch([testEvent(n, { kind: "offered" }), testEvent(n)])));
    expect((await producer.counts()).waiting).toBeLessThanOrEqual(4);
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect(await base.count()).toBe(3 + 1 + 8), { timeout: 10_000, interval: 20 });
    await vi.waitFor(async () => expect((await producer.counts()).waiting + (await producer.counts()).active).toBe(0), { timeout: 10_000, interval: 20 });
  });

  it("redelivers one update's whole batch: the same job twice, then a job whose events were partly applied, each event stored once", async () => {
    const update = [testEvent(41, { kind: "offered" }), testEvent(41, { kind: "answered", score: 2 }), testEvent(41, { kind: "commented", comment: "again" })];
    const w = startWorker();
    await w.start();
    await producer.addBatch(update);
    // The same batch while the job is kept: BullMQ takes it as the same job.
    await producer.addBatch(update.map((e) => ({ ...e })));
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(1), { timeout: 10_000, interval: 20 });
    // Past the kept window (the completed copy gone), the same job runs a second time.
    expect(await producer.queue.remove(surveyBatchJobId(update))).toBe(1);
    await producer.addBatch(update);
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(1), { timeout: 10_000, interval: 20 });
    for (const e of update) expect(store.timesGiven(surveyJobId(e))).toBe(2);
    // Part of an update stored by an earlier single-event job, then the whole update as a batch.
    const next = [testEvent(42, { kind: "offered" }), testEvent(42, { kind: "answered", score: 5 }), testEvent(42)];
    await producer.add(next[0] as SurveyEvent);
    await vi.waitFor(async () => expect(await base.jobIds()).toContain("s42.offered"), { timeout: 10_000, interval: 20 });
    await producer.addBatch(next);
    await vi.waitFor(async () => expect(await base.count()).toBe(6), { timeout: 10_000, interval: 20 });
    expect(await base.jobIds()).toEqual(["s41.answered", "s41.commented", "s41.offered", "s42.answered", "s42.completed", "s42.offered"]);
    expect(store.timesGiven("s42.offered")).toBe(2);
  });

  it("folds a job of the shape earlier versions queued (one event, its own id) beside batch jobs", async () => {
    const old = testEvent(51);
    await producer.queue.add(old.kind, old, { jobId: surveyJobId(old), attempts: 3 });
    await producer.addBatch([testEvent(52, { kind: "offered" }), testEvent(52)]);
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect(await base.jobIds()).toEqual(["s51.completed", "s52.completed", "s52.offered"]), { timeout: 10_000, interval: 20 });
  });

  it("stores a batch job's good events and sends the job to the dead letter when one of its events is malformed", async () => {
    await producer.queue.add("batch", { events: [testEvent(61), { kind: "completed", surveyId: "bad id" }, testEvent(62)] }, { jobId: "batch.bad", attempts: 5, backoff: { type: "exponential", delay: 5 } });
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect(await producer.counts()).toMatchObject({ dead: 1, failed: 1 }), { timeout: 10_000, interval: 20 });
    expect(await base.jobIds()).toEqual(["s61.completed", "s62.completed"]);
    const [dead] = await producer.deadLetters();
    expect(dead).toMatchObject({ jobId: "batch.bad", attemptsMade: 1, unrecoverable: true });
    expect(dead?.failedReason).toMatch(/event 1: surveyId/);
  });

  it("sends a malformed event straight to the dead letter as an UnrecoverableError, without retries", async () => {
    await producer.queue.add("completed", { kind: "completed", surveyId: "bad id with spaces" }, { jobId: "bad.1", attempts: 5, backoff: { type: "exponential", delay: 5 } });
    await producer.add(testEvent(2));
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect(await producer.counts()).toMatchObject({ dead: 1, failed: 1, completed: 1 }), { timeout: 10_000, interval: 20 });
    const [dead] = await producer.deadLetters();
    expect(dead).toMatchObject({ jobId: "bad.1", attemptsMade: 1, unrecoverable: true });
    expect(dead?.failedReason).toMatch(/surveyId/);
    const job = await producer.queue.getJob("bad.1");
    expect(job?.attemptsMade).toBe(1);
    expect(store.calls.flat().map((e) => e.surveyId)).toEqual(["s2"]);
  });

  it("replays a poison job once per call: it fails again and is back in the dead letter, no loop", async () => {
    await producer.queue.add("completed", { kind: "completed", surveyId: "" }, { jobId: "poison.1", attempts: 1 });
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect((await producer.counts()).dead).toBe(1), { timeout: 10_000, interval: 20 });
    for (let round = 0; round < 3; round++) {
      expect(await producer.replayDead()).toBe(1);
      await vi.waitFor(async () => expect(await producer.counts()).toMatchObject({ dead: 1, failed: 1, waiting: 0, active: 0 }), { timeout: 10_000, interval: 20 });
    }
    expect((await producer.deadLetters()).map((d) => [d.jobId, d.unrecoverable])).toEqual([["poison.1", true]]);
    expect(store.calls).toEqual([]);
  });

  it("adopts into the dead letter a job BullMQ failed outside the survey processor, and replays it", async () => {
    // A worker that is not a SurveyWorker stands in for a job that failed without passing
    // through the processor's error path (as one failed for stalling too often does).
    const other = new Worker("surveys", async () => {
      throw new Error("crashed elsewhere");
    }, { connection: redis, prefix, autorun: false });
    await producer.queue.add("completed", testEvent(3), { jobId: "s3.completed", attempts: 1 });
    void other.run();
    await vi.waitFor(async () => expect((await producer.counts()).failed).toBe(1), { timeout: 10_000, interval: 20 });
    await other.close();
    expect(await producer.dead.count()).toBe(0);
    const dead = await producer.deadLetters();
    expect(dead).toMatchObject([{ jobId: "s3.completed", failedReason: "crashed elsewhere", attemptsMade: 1, event: { surveyId: "s3" } }]);
    expect(await producer.deadLetters()).toHaveLength(1); // adopting twice keeps one copy

    expect(await producer.replayDead()).toBe(1);
    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect(await base.jobIds()).toEqual(["s3.completed"]), { timeout: 10_000, interval: 20 });
    await vi.waitFor(async () => expect(await producer.counts()).toMatchObject({ failed: 0, dead: 0, completed: 1 }), { timeout: 5_000, interval: 20 });
  });

  it("finishes the jobs in flight on close, then closes the store; a new worker takes the rest, none lost", async () => {
    const n = 60;
    await producer.addBulk(Array.from({ length: n }, (_, i) => testEvent(i)));
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    const first = startWorker({ concurrency: 10 });
    await first.start();
    await vi.waitFor(() => expect(store.calls.length).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });
    const closing = first.close();
    release();
    store.gate = undefined;
    await closing;
    expect(store.closed).toBe(true);
    expect(store.appliesDoneAtClose).toBe(store.calls.length);
    const counts = await producer.counts();
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    expect(counts.completed).toBe(await base.count());
    expect(counts.completed + counts.waiting).toBe(n);
    expect(counts.waiting).toBeGreaterThan(0);

    store.closed = false;
    const second = startWorker({ concurrency: 10 });
    await second.start();
    await vi.waitFor(async () => expect((await producer.counts()).completed).toBe(n), { timeout: 10_000, interval: 20 });
    expect(await base.count()).toBe(n);
  });

  it("reads job latency in one call: the age of the job next in line, and finishedOn - timestamp of the newest completed", async () => {
    const clock = new ManualClock();
    const q = new BullmqSurveyQueue({ connection: redis, settings, clock, latencySample: 2 });
    expect(await q.jobLatency()).toEqual({ oldestWaitingSeconds: 0, recentSeconds: [] });
    await q.add(testEvent(1));
    const queuedAt = (await q.queue.getJob("s1.completed"))?.timestamp as number;
    // Later jobs get later timestamps, so reading the wrong end of the wait list would show.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(queuedAt), { interval: 1 });
    await q.addBulk([testEvent(2), testEvent(3)]);
    clock.set(queuedAt + 4_250);
    expect(await q.jobLatency()).toEqual({ oldestWaitingSeconds: 4.25, recentSeconds: [] });

    const w = startWorker();
    await w.start();
    await vi.waitFor(async () => expect((await q.counts()).completed).toBe(3), { timeout: 10_000, interval: 20 });
    const latency = await q.jobLatency();
    expect(latency.oldestWaitingSeconds).toBe(0);
    // The sample is the two newest completed jobs (BullMQ lists completed newest first).
    const newest = await q.queue.getCompleted(0, 1);
    expect(latency.recentSeconds.sort((a, b) => a - b)).toEqual(newest.map((j) => ((j.finishedOn as number) - j.timestamp) / 1000).sort((a, b) => a - b));
    expect(latency.recentSeconds.every((s) => s >= 0 && s < 10)).toBe(true);
    // Never more than the completed jobs kept.
    const kept = new BullmqSurveyQueue({ connection: redis, settings: { ...settings, keepCompleted: 1 } });
    expect((await kept.jobLatency()).recentSeconds).toHaveLength(1);
    await Promise.all([q.close(), kept.close()]);
  });
});
