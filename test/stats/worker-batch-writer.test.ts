import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { surveyJobId } from "../../stats/events.ts";
import { isTransient } from "../../stats/store/sql-errors.ts";
import { SurveyBatchWriter } from "../../stats/worker-batch-writer.ts";
import { ControlledStore, DatabaseDownError, EventLogStore, RefusedRowError, testEvent } from "./worker-test-store.ts";

const schema = `test_${randomUUID().replace(/-/g, "")}`;
let base: EventLogStore;
let store: ControlledStore;

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
});

describe("SurveyBatchWriter", () => {
  it("writes an event alone when idle and groups the writes that arrive while a transaction runs", async () => {
    const writer = new SurveyBatchWriter(store, { maxInFlight: 1 });
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    const first = writer.write(testEvent(0));
    await new Promise<void>((r) => setImmediate(r));
    expect(store.calls).toHaveLength(1);
    const rest = Array.from({ length: 40 }, (_, i) => writer.write(testEvent(i + 1)));
    release();
    store.gate = undefined;
    await Promise.all([first, ...rest]);
    expect(store.calls.map((c) => c.length)).toEqual([1, 40]);
    expect(await base.count()).toBe(41);
    expect(writer.stats).toEqual({ batches: 2, events: 41, salvaged: 0 });
  });

  it("runs up to maxInFlight transactions at once; later writes wait and go together", async () => {
    const writer = new SurveyBatchWriter(store, { maxInFlight: 2 });
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    const a = writer.write(testEvent(0));
    await new Promise<void>((r) => setImmediate(r));
    const b = writer.write(testEvent(1));
    await new Promise<void>((r) => setImmediate(r));
    const rest = Array.from({ length: 10 }, (_, i) => writer.write(testEvent(i + 2)));
    await new Promise<void>((r) => setImmediate(r));
    expect(store.calls.map((c) => c.length)).toEqual([1, 1]);
    release();
    store.gate = undefined;
    await Promise.all([a, b, ...rest]);
    expect(store.calls.map((c) => c.length)).toEqual([1, 1, 10]);
    expect(await base.count()).toBe(12);
  });

  it("never puts more than maxBatch events in one transaction", async () => {
    const writer = new SurveyBatchWriter(store, { maxBatch: 7 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => writer.write(testEvent(i))));
    expect(Math.max(...store.calls.map((c) => c.length))).toBeLessThanOrEqual(7);
    expect(store.calls.flat()).toHaveLength(30);
    expect(await base.count()).toBe(30);
  });

  it("fails only the refused event of a batch: the others are written one by one", async () => {
    const writer = new SurveyBatchWriter(store);
    store.refuse = (e) => e.surveyId === "s3";
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => writer.write(testEvent(i))));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(RefusedRowError);
    expect(await base.jobIds()).toEqual(["s0", "s1", "s2", "s4", "s5"].map((s) => `${s}.completed`));
  });

  it("fails the whole batch without isolating when the database is away", async () => {
    const writer = new SurveyBatchWriter(store);
    store.failNext = 1;
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => writer.write(testEvent(i))));
    expect(results.every((r) => r.status === "rejected" && r.reason instanceof DatabaseDownError)).toBe(true);
    expect(store.calls).toHaveLength(1);
    expect(await base.count()).toBe(0);
  });

  it("drain waits for every write in flight", async () => {
    const writer = new SurveyBatchWriter(store);
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    const writes = Array.from({ length: 3 }, (_, i) => writer.write(testEvent(i)));
    let drained = false;
    const d = writer.drain().then(() => (drained = true));
    await new Promise<void>((r) => setImmediate(r));
    expect(drained).toBe(false);
    release();
    await d;
    await Promise.all(writes);
    expect(await base.jobIds()).toEqual([0, 1, 2].map((n) => surveyJobId(testEvent(n))));
  });
});

describe("isTransient", () => {
  it("tells an unavailable database from refused data", () => {
    expect(isTransient(new DatabaseDownError())).toBe(true);
    expect(isTransient(Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }))).toBe(true);
    expect(isTransient(Object.assign(new Error("deadlock detected"), { code: "40P01" }))).toBe(true);
    expect(isTransient(new Error("Connection terminated unexpectedly"))).toBe(true);
    expect(isTransient(new RefusedRowError("x"))).toBe(false);
    expect(isTransient(Object.assign(new Error('invalid input syntax for type integer'), { code: "22P02" }))).toBe(false);
    expect(isTransient("boom")).toBe(false);
  });
});
