/**
 * The SurveyQueue contract, run against every implementation end to end with the real
 * stores: the in-process queue over PGlite (the embedded default) and over PostgreSQL, and
 * BullMQ on the real Redis with a SurveyWorker over PostgreSQL (production). The last case
 * drives a CSAT dialogue through the real runtime, tracker and statistic__set.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import type { SurveyEvent, SurveyQueue } from "../../stats/events.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { InProcessSurveyQueue } from "../../stats/queue/in-process-survey-queue.ts";
import { MalformedSurveyEventError } from "../../stats/queue/parse-survey-event.ts";
import type { SurveyJobLatency } from "../../stats/queue/survey-job-latency.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, testActions } from "../helpers/scenario.ts";
import { deleteKeys } from "./fault-fixtures.ts";
import { TEST_DATABASE_URL, testEvent } from "./worker-test-store.ts";

interface Harness {
  queue: SurveyQueue;
  store: SqlSurveyStore;
  /** Resolves once everything added so far is stored. */
  settled(): Promise<void>;
  /** The queue's job latency report (not part of the SurveyQueue port: /metrics reads it). */
  jobLatency(): Promise<SurveyJobLatency>;
  teardown(): Promise<void>;
}

const schemas: string[] = [];
function freshSchema(): string {
  const s = `test_${randomUUID().replace(/-/g, "")}`;
  schemas.push(s);
  return s;
}

async function pgStore(): Promise<PgSurveyStore> {
  const store = new PgSurveyStore({ connectionString: TEST_DATABASE_URL, schema: freshSchema() });
  await store.migrate();
  return store;
}

// One in-memory PGlite for the file (it takes seconds to start); each test gets its own schema in it.
let pglite: PGlite | undefined;

const implementations: Record<string, () => Promise<Harness>> = {
  "in-process over PGlite": async () => {
    pglite ??= await PGlite.create();
    const store = await PgliteSurveyStore.open({ db: pglite, schema: `test_${randomUUID().replace(/-/g, "")}` });
    await store.migrate();
    const queue = new InProcessSurveyQueue(store);
    return { queue, store, settled: async () => {}, jobLatency: async () => queue.jobLatency(), teardown: async () => (await queue.close(), await store.close()) };
  },
  "in-process over PostgreSQL": async () => {
    const store = await pgStore();
    const queue = new InProcessSurveyQueue(store);
    return { queue, store, settled: async () => {}, jobLatency: async () => queue.jobLatency(), teardown: async () => (await queue.close(), await store.close()) };
  },
  "BullMQ with a SurveyWorker over PostgreSQL": async () => {
    const store = await pgStore();
    const prefix = `test-${randomUUID()}`;
    const settings = { name: "surveys", prefix, attempts: 3, backoffMs: 5 };
    const redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const queue = new BullmqSurveyQueue({ connection: redis, settings });
    const worker = new SurveyWorker({ connection: redis, store, settings, concurrency: 50 });
    await worker.start();
    return {
      queue,
      store,
      jobLatency: () => queue.jobLatency(),
      settled: async () => {
        for (let i = 0; i < 400; i++) {
          const c = await queue.counts();
          if (c.waiting + c.active + c.delayed === 0) return;
          await new Promise((r) => setTimeout(r, 25));
        }
        throw new Error("the BullMQ queue did not drain within 10 s");
      },
      teardown: async () => {
        await worker.close(); // closes the store too
        await queue.close();
        await deleteKeys(redis, `${prefix}:*`);
        await redis.quit();
      },
    };
  },
};

afterAll(async () => {
  await pglite?.close();
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await c.end();
});

const PERIOD = { from: "2025-12-01", to: "2026-03-01", timeZone: "UTC" } as const;

function surveyOf(n: number, score: number, comment: string): SurveyEvent[] {
  const e = (kind: SurveyEvent["kind"], extra: Partial<SurveyEvent> = {}) => testEvent(n, { kind, score: undefined, comment: undefined, scale: undefined, ...extra });
  return [
    e("dialogue_started"),
    e("offered", { scale: { min: 1, max: 5 } }),
    e("answered", { score }),
    ...(comment ? [e("commented", { comment })] : []),
    e("completed", { score, comment }),
  ];
}

for (const [name, make] of Object.entries(implementations)) {
  describe(`SurveyQueue contract: ${name}`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.teardown();
    });

    it("stores what was added: the figures count every survey", async () => {
      for (const e of [...surveyOf(1, 5, "great"), ...surveyOf(2, 2, ""), ...surveyOf(3, 5, "")]) await h.queue.add(e);
      await h.settled();
      const f = await h.store.figures(PERIOD);
      expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, surveys: f.surveys, commented: f.commented, distribution: f.distribution, average: f.average }).toEqual({
        dialogues: 3,
        offered: 3,
        answered: 3,
        surveys: 3,
        commented: 1,
        distribution: { "2": 1, "5": 2 },
        average: 4,
      });
    });

    it("reports job latency: none waiting once stored, every stored event in the recent sample", async () => {
      expect(await h.jobLatency()).toEqual({ oldestWaitingSeconds: 0, recentSeconds: [] });
      const events = [...surveyOf(8, 4, "timed"), ...surveyOf(9, 1, "")];
      await Promise.all(events.map((e) => h.queue.add(e)));
      await h.settled();
      const latency = await h.jobLatency();
      expect(latency.oldestWaitingSeconds).toBe(0);
      expect(latency.recentSeconds).toHaveLength(events.length);
      expect(latency.recentSeconds.every((s) => s >= 0 && s < 10)).toBe(true);
    });

    it("counts an event added twice, one after the other or at once, once", async () => {
      const events = surveyOf(4, 3, "ok");
      for (const e of events) await h.queue.add(e);
      await Promise.all(events.map((e) => h.queue.add({ ...e })));
      await h.settled();
      const f = await h.store.figures(PERIOD);
      expect({ dialogues: f.dialogues, answered: f.answered, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
        dialogues: 1,
        answered: 1,
        surveys: 1,
        commented: 1,
        distribution: { "3": 1 },
      });
    });

    it("gives the same record whatever order a survey's events arrive in", async () => {
      const events = surveyOf(5, 4, "in reverse").reverse();
      await Promise.all(events.map((e) => h.queue.add(e)));
      await h.settled();
      const page = await h.store.listDialogues({ ...PERIOD, limit: 10 });
      expect(page.rows).toHaveLength(1);
      expect(page.rows[0]).toMatchObject({ surveyId: "s5", offered: true, accepted: true, completed: true, score: 4, scale: "1-5", comment: "in reverse" });
    });

    it("stores a batch (one update's events) as one unit, and batches added at once beside each other", async () => {
      const addBatch = h.queue.addBatch?.bind(h.queue);
      if (!addBatch) throw new Error("both survey queues take batches");
      await addBatch(surveyOf(20, 5, "batched"));
      await Promise.all([addBatch(surveyOf(21, 2, "")), addBatch(surveyOf(22, 4, "")), addBatch([testEvent(23, { kind: "dialogue_started", score: undefined, comment: undefined, scale: undefined })])]);
      await addBatch([]);
      await h.settled();
      const f = await h.store.figures(PERIOD);
      expect({ dialogues: f.dialogues, answered: f.answered, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
        dialogues: 4,
        answered: 3,
        surveys: 3,
        commented: 1,
        distribution: { "2": 1, "4": 1, "5": 1 },
      });
    });

    it("counts each event once when the same batch comes twice, and when part of a batch was stored already", async () => {
      const addBatch = h.queue.addBatch?.bind(h.queue);
      if (!addBatch) throw new Error("both survey queues take batches");
      const events = surveyOf(24, 3, "twice");
      await addBatch(events);
      await h.settled();
      // The same update redelivered: the same batch again, one after the other and twice at once.
      await addBatch(events.map((e) => ({ ...e })));
      await Promise.all([addBatch(events), addBatch(events)]);
      // An update whose first events were stored (as single events, an earlier version's jobs) before it was redelivered whole.
      const next = surveyOf(25, 1, "partly");
      for (const e of next.slice(0, 2)) await h.queue.add(e);
      await h.settled();
      await addBatch(next);
      // A batch sharing events with one stored already (two updates group-committed together, then one redelivered).
      await addBatch([...next.slice(1, 3), ...surveyOf(26, 5, "")]);
      await h.settled();
      const f = await h.store.figures(PERIOD);
      expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
        dialogues: 3,
        offered: 3,
        answered: 3,
        surveys: 3,
        commented: 2,
        distribution: { "1": 1, "3": 1, "5": 1 },
      });
      const page = await h.store.listDialogues({ ...PERIOD, limit: 10 });
      expect(page.rows.map((r) => [r.surveyId, r.score, r.comment]).sort()).toEqual([
        ["s24", 3, "twice"],
        ["s25", 1, "partly"],
        ["s26", 5, ""],
      ]);
    });

    it("refuses a batch holding a malformed event at addBatch and stores none of it", async () => {
      const addBatch = h.queue.addBatch?.bind(h.queue);
      if (!addBatch) throw new Error("both survey queues take batches");
      await expect(addBatch([testEvent(27), { ...testEvent(28), surveyId: "" }])).rejects.toBeInstanceOf(MalformedSurveyEventError);
      await addBatch([testEvent(29)]);
      await h.settled();
      const page = await h.store.listDialogues({ ...PERIOD, limit: 10 });
      expect(page.rows.map((r) => r.surveyId)).toEqual(["s29"]);
    });

    it("refuses a malformed event at add and never stores it", async () => {
      const bad = { ...testEvent(6), surveyId: "" };
      await expect(h.queue.add(bad)).rejects.toBeInstanceOf(MalformedSurveyEventError);
      await h.queue.add(testEvent(7));
      await h.settled();
      const page = await h.store.listDialogues({ ...PERIOD, limit: 10 });
      expect(page.rows.map((r) => r.surveyId)).toEqual(["s7"]);
    });

    it("carries a CSAT dialogue from the runtime to the figures", async () => {
      const scenarios = new ScenarioRegistry();
      scenarios.add(loadTestScenario(readFileSync(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8")));
      const clock = new ManualClock(Date.UTC(2026, 1, 3, 10));
      const delivery = new RecordingDelivery();
      const runtime = new Runtime({ scenarios, store: new MemoryStateStore(clock), delivery, actions: testActions(h.queue), tracker: new SurveyTracker(h.queue), defaultScenarioId: "csat", clock });
      let n = 0;
      const send = (e: Partial<InboundEvent>) => runtime.handle({ channel: "webchat", conversationId: "c1", userId: "u1", kind: "text", dedupeKey: `d${n++}`, ...e } as InboundEvent);
      await send({ kind: "start" });
      const sent = delivery.batches.flatMap((b) => b.effects).find((e) => e.type === "send" && e.message.promptId);
      await send({ kind: "choice", promptId: sent?.type === "send" ? sent.message.promptId : undefined, buttonIndex: 4 });
      await send({ text: "Thanks, solved" });
      await h.settled();
      const f = await h.store.figures({ ...PERIOD, channel: "webchat" });
      expect({ dialogues: f.dialogues, offered: f.offered, surveys: f.surveys, average: f.average, distribution: f.distribution, responseRate: f.responseRate }).toEqual({
        dialogues: 1,
        offered: 1,
        surveys: 1,
        average: 5,
        distribution: { "5": 1 },
        responseRate: 1,
      });
      const page = await h.store.listDialogues({ ...PERIOD, limit: 10 });
      expect(page.rows[0]).toMatchObject({ channel: "webchat", conversationId: "c1", score: 5, comment: "Thanks, solved", completed: true });
    });
  });
}
