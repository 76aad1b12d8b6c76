/**
 * Surveys dead-lettered by botflow before it cleaned text (PostgreSQL refused their comment:
 * `invalid byte sequence for encoding "UTF8": 0x00`) are recovered by `replay-dead`: the
 * worker cleans the replayed event and stores it, rating and comment, flagged as sanitized.
 * Real Redis (BullMQ), real PostgreSQL, the real worker.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { surveyJobId, type SurveyEvent } from "../../stats/events.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { fullSurvey, PG_URL, T0 } from "../stats/store-harness.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const prefix = `test-${randomUUID()}`;
const schema = `test_${randomUUID().replaceAll("-", "")}`;
let redis: Redis;
let reader: PgSurveyStore;

beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  reader = new PgSurveyStore({ connectionString: PG_URL, schema, maxConnections: 2 });
  await reader.migrate();
});
afterAll(async () => {
  await reader.dropSchema();
  await reader.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe("replay-dead after the text fix", () => {
  it("stores a survey that today's code dead-lettered for a NUL or a lone surrogate in its comment", async () => {
    const settings = { prefix, name: "surveys" };
    const producer = new BullmqSurveyQueue({ connection: redis, settings });
    const poisoned: SurveyEvent[] = [
      ...fullSurvey("poison-nul", 1, "bad\u0000nul", { dialogueStartedAt: T0 }),
      ...fullSurvey("poison-surrogate", 4, "lone \ud800 high", { dialogueStartedAt: T0 }),
    ];
    // What the worker wrote to the dead letter when PostgreSQL refused these events.
    for (const e of poisoned.filter((x) => x.kind === "commented" || x.kind === "completed")) {
      await producer.dead.put({
        jobId: surveyJobId(e),
        event: JSON.parse(JSON.stringify(e)),
        failedReason: e.comment?.includes("\u0000") ? 'invalid byte sequence for encoding "UTF8": 0x00' : "invalid input syntax for type json",
        attemptsMade: 8,
        unrecoverable: false,
        deadAt: T0,
      });
    }
    // The events that did store before (offered, answered).
    await reader.apply(poisoned.filter((x) => x.kind !== "commented" && x.kind !== "completed"));
    expect((await producer.counts()).dead).toBe(4);

    const store = new PgSurveyStore({ connectionString: PG_URL, schema, maxConnections: 2 });
    const worker = new SurveyWorker({ connection: redis, store, settings, concurrency: 10 });
    await worker.start();
    try {
      expect(await producer.replayDead()).toBe(4);
      await vi.waitFor(async () => expect((await reader.listDialogues({})).rows.filter((r) => r.completed)).toHaveLength(2), { timeout: 15_000, interval: 50 });
      const rows = (await reader.listDialogues({})).rows.sort((a, b) => a.surveyId.localeCompare(b.surveyId));
      expect(rows.map((r) => [r.surveyId, r.score, r.comment, r.commentSanitized])).toEqual([
        ["poison-nul", 1, "badnul", true],
        ["poison-surrogate", 4, "lone \uFFFD high", true],
      ]);
      const f = await reader.figures({ from: "2026-03-10", to: "2026-03-11" });
      expect(f).toMatchObject({ surveys: 2, rated: 2, commented: 2, average: 2.5 });
      await vi.waitFor(async () => expect(await producer.counts()).toMatchObject({ dead: 0, failed: 0 }), { timeout: 5_000, interval: 50 });
    } finally {
      await worker.close();
      await producer.close();
    }
  });
});
