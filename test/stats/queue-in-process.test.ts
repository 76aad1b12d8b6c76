import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InProcessSurveyQueue, SurveyQueueClosedError } from "../../stats/queue/in-process-survey-queue.ts";
import { MalformedSurveyEventError } from "../../stats/queue/parse-survey-event.ts";
import { latencyQuantile, LatencyRing } from "../../stats/queue/survey-job-latency.ts";
import type { SurveyEvent } from "../../stats/events.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { ControlledStore, DatabaseDownError, EventLogStore, testEvent } from "./worker-test-store.ts";

const schema = `test_${randomUUID().replace(/-/g, "")}`;
let base: EventLogStore;
let store: ControlledStore;
let slept: number[];
const sleep = async (ms: number): Promise<void> => {
  slept.push(ms);
};

beforeAll(async () => {
  base = new EventLogStore(schema);
  await base.migrate();
});
afterAll(async () => {
  await base.close();
  await EventLogStore.dropSchema(schema);
});
beforeEach(async () => {
  await base.pool.query(`TRUNCATE "${schema}".events`);
  store = new ControlledStore(base);
  slept = [];
});

describe("InProcessSurveyQueue", () => {
  it("writes an update's batch in one transaction, and the batches of concurrent requests together", async () => {
    const q = new InProcessSurveyQueue(store, { sleep });
    await q.addBatch([testEvent(1, { kind: "offered" }), testEvent(1, { kind: "answered", score: 3 }), testEvent(1)]);
    expect(store.calls.map((c) => c.length)).toEqual([3]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => q.addBatch([testEvent(i + 2, { kind: "offered" }), testEvent(i + 2)])));
    expect(await base.count()).toBe(3 + 40);
    // Twenty requests, each answered once its events committed, in a handful of transactions rather than twenty.
    expect(store.calls.length - 1).toBeLessThanOrEqual(3);
  });

  it("resolves add once the event is stored, and batches concurrent adds", async () => {
    const q = new InProcessSurveyQueue(store, { sleep });
    await q.add(testEvent(1));
    expect(await base.jobIds()).toEqual(["s1.completed"]);
    await Promise.all(Array.from({ length: 20 }, (_, i) => q.add(testEvent(i + 2))));
    expect(await base.count()).toBe(21);
    expect(store.calls.length).toBeLessThan(21);
  });

  it("stores the same event added twice at once with one write", async () => {
    const q = new InProcessSurveyQueue(store, { sleep });
    const e = testEvent(3);
    await Promise.all([q.add(e), q.add({ ...e })]);
    expect(store.timesGiven("s3.completed")).toBe(1);
    expect(await base.jobIds()).toEqual(["s3.completed"]);
  });

  it("retries with exponential backoff, then stores", async () => {
    const q = new InProcessSurveyQueue(store, { sleep, attempts: 4, backoffMs: 100 });
    store.failNext = 2;
    await q.add(testEvent(1));
    expect(slept).toEqual([100, 200]);
    expect(await base.jobIds()).toEqual(["s1.completed"]);
  });

  it("rejects after the last attempt, keeps the event in the dead letter, and replay stores it", async () => {
    const q = new InProcessSurveyQueue(store, { sleep, attempts: 3, backoffMs: 10 });
    store.down = true;
    await expect(q.add(testEvent(5))).rejects.toBeInstanceOf(DatabaseDownError);
    expect(slept).toEqual([10, 20]);
    expect(q.deadLetters()).toMatchObject([{ event: { surveyId: "s5" }, attemptsMade: 3 }]);
    store.down = false;
    expect(await q.replayDead()).toBe(1);
    expect(q.deadLetters()).toEqual([]);
    expect(await base.jobIds()).toEqual(["s5.completed"]);
  });

  it("rejects a malformed event at once, without touching the store", async () => {
    const q = new InProcessSurveyQueue(store, { sleep });
    const bad = { ...testEvent(1), kind: "rated" } as unknown as SurveyEvent;
    await expect(q.add(bad)).rejects.toBeInstanceOf(MalformedSurveyEventError);
    await expect(q.add({ ...testEvent(1), at: -1 })).rejects.toThrow(/at must be epoch milliseconds/);
    expect(store.calls).toEqual([]);
  });

  it("close waits for adds in flight (retries included) and refuses new ones", async () => {
    let wake!: () => void;
    const q = new InProcessSurveyQueue(store, { attempts: 3, backoffMs: 10, sleep: () => new Promise<void>((r) => (wake = r)) });
    store.failNext = 1;
    const pending = q.add(testEvent(9));
    let closed = false;
    const closing = q.close().then(() => (closed = true));
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    expect(closed).toBe(false);
    await expect(q.add(testEvent(10))).rejects.toBeInstanceOf(SurveyQueueClosedError);
    wake();
    await closing;
    await pending;
    expect(await base.jobIds()).toEqual(["s9.completed"]);
  });

  it("reports job latency: the oldest add not yet stored, and add-to-stored times of recent events", async () => {
    const clock = new ManualClock();
    const q = new InProcessSurveyQueue(store, { sleep, clock, latencySample: 3 });
    expect(q.jobLatency()).toEqual({ oldestWaitingSeconds: 0, recentSeconds: [] });
    let open!: () => void;
    store.gate = new Promise<void>((r) => (open = r));
    const first = q.add(testEvent(1));
    clock.advance(1_500);
    const second = q.add(testEvent(2));
    clock.advance(500);
    // Both wait on the store: the oldest has waited 2 s.
    expect(q.jobLatency()).toEqual({ oldestWaitingSeconds: 2, recentSeconds: [] });
    store.gate = undefined;
    open();
    await Promise.all([first, second]);
    expect(q.jobLatency().oldestWaitingSeconds).toBe(0);
    expect(q.jobLatency().recentSeconds.sort((a, b) => a - b)).toEqual([0.5, 2]);
    // The sample keeps only the newest `latencySample` events (the write lands after the advance).
    for (const n of [3, 4, 5]) {
      const p = q.add(testEvent(n));
      clock.advance(n * 100);
      await p;
    }
    expect(q.jobLatency().recentSeconds.sort((a, b) => a - b)).toEqual([0.3, 0.4, 0.5]);
  });

  it("counts no latency for an event that went to the dead letter", async () => {
    const q = new InProcessSurveyQueue(store, { sleep, attempts: 1, clock: new ManualClock() });
    store.down = true;
    await expect(q.add(testEvent(7))).rejects.toBeInstanceOf(DatabaseDownError);
    expect(q.jobLatency()).toEqual({ oldestWaitingSeconds: 0, recentSeconds: [] });
  });
});

describe("latency sample helpers", () => {
  it("takes nearest-rank quantiles, always observed values, never crossing", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([0.5, 0.9, 0.99, 1].map((q) => latencyQuantile(sorted, q))).toEqual([50, 90, 99, 100]);
    expect(latencyQuantile([7], 0.99)).toBe(7);
    expect(latencyQuantile([1, 2], 0)).toBe(1);
    expect(latencyQuantile([], 0.5)).toBeNaN();
  });

  it("keeps the last values of a ring, overwriting the oldest", () => {
    const ring = new LatencyRing(3);
    for (const v of [1, 2, 3, 4, 5]) ring.push(v);
    expect(ring.snapshot().sort()).toEqual([3, 4, 5]);
    expect(() => new LatencyRing(0)).toThrow(RangeError);
  });
});
