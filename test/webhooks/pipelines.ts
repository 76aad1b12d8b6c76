/**
 * The two ways survey events reach the webhooks, for one suite to run against both:
 * - in-process: InProcessSurveyQueue on PGlite, its writer's afterCommit queueing into the
 *   in-process webhook outbox (the embedded default);
 * - BullMQ: BullmqSurveyQueue → SurveyWorker on real PostgreSQL and Redis, the worker's writer
 *   queueing into the BullMQ webhook outbox (what `botflow worker` runs), unique prefix and schema.
 * Backoff is fast (20 ms doubling, capped at 300 ms) so retries take milliseconds.
 */
import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { Redis } from "ioredis";
import { surveyJobId, type SurveyEvent } from "../../stats/events.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { InProcessSurveyQueue } from "../../stats/queue/in-process-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import type { OutboxSettings } from "../../triggers/outbox.ts";
import { DEFAULT_LOW_SCORE } from "../../webhooks/low-score.ts";
import { sqlOutcomes } from "../../webhooks/survey-outcomes.ts";
import { WebhookDispatcher } from "../../webhooks/webhook-dispatcher.ts";
import { bullmqWebhookOutbox, inProcessWebhookOutbox, type WebhookOutbox } from "../../webhooks/webhook-outbox.ts";
import type { WebhookSettings } from "../../webhooks/webhook-settings.ts";
import { PG_URL } from "../stats/store-harness.ts";

export const SECRET = "test-secret-0123456789abcdef";
export const FAST: Partial<OutboxSettings> = { attempts: 4, baseMs: 20, capMs: 300, concurrency: 4 };

export interface Pipeline {
  /** Queues a survey event as the runtime would. */
  add(event: SurveyEvent): Promise<void>;
  /** The same event handed to the statistics again after it was stored (a redelivered job). */
  redeliver(event: SurveyEvent): Promise<void>;
  outbox: WebhookOutbox;
  /** BullMQ: the Redis key prefix of its queues. */
  prefix?: string;
  close(): Promise<void>;
}

export type OpenPipeline = (urls: readonly string[], o?: { outbox?: Partial<OutboxSettings>; settings?: Partial<WebhookSettings> }) => Promise<Pipeline>;

function settingsOf(urls: readonly string[], o: Partial<WebhookSettings> = {}): WebhookSettings {
  return { endpoints: urls.map((url) => ({ url })), secret: SECRET, lowScore: DEFAULT_LOW_SCORE, ...o };
}

/** One PGlite database per test file (creating one costs seconds), a schema per pipeline. */
let sharedDb: Promise<PGlite> | undefined;

/** Closes the file's PGlite database (afterAll). */
export async function closeSharedDb(): Promise<void> {
  if (sharedDb) await (await sharedDb).close();
  sharedDb = undefined;
}

export const openInProcess: OpenPipeline = async (urls, o = {}) => {
  const store = await PgliteSurveyStore.open({ db: await (sharedDb ??= PGlite.create()), schema: `test_${randomUUID().replaceAll("-", "")}` });
  await store.migrate();
  const outbox = inProcessWebhookOutbox({ settings: { ...FAST, ...o.outbox }, random: () => 1 });
  const webhooks = new WebhookDispatcher({ settings: settingsOf(urls, o.settings), outbox, outcomes: sqlOutcomes(store.sql, store.schema), timeoutMs: 2_000 });
  webhooks.start();
  const queue = new InProcessSurveyQueue(store, { batch: { afterCommit: webhooks.afterCommit } });
  return {
    add: (e) => queue.add(e),
    redeliver: (e) => queue.add(e),
    outbox,
    async close() {
      await queue.close();
      await outbox.close();
      await store.dropSchema();
    },
  };
};

export const openBullmq: OpenPipeline = async (urls, o = {}) => {
  const prefix = `test-webhooks-${randomUUID()}`;
  const schema = `test_${randomUUID().replaceAll("-", "")}`;
  const settings = { name: "surveys", prefix, backoffMs: 20 };
  const redis = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
  const store = new PgSurveyStore({ connectionString: PG_URL, schema, maxConnections: 4 });
  await store.migrate();
  const outbox = bullmqWebhookOutbox(redis, prefix, { settings: { ...FAST, ...o.outbox }, random: () => 1 });
  const webhooks = new WebhookDispatcher({ settings: settingsOf(urls, o.settings), outbox, outcomes: sqlOutcomes(store.sql, store.schema), timeoutMs: 2_000 });
  webhooks.start();
  const producer = new BullmqSurveyQueue({ connection: redis, settings });
  const worker = new SurveyWorker({ connection: redis, store, settings, concurrency: 20, batch: { afterCommit: webhooks.afterCommit } });
  await worker.start();
  const completed = async (id: string): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      if ((await producer.queue.getJobState(id)) === "completed") return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`survey job ${id} did not complete`);
  };
  return {
    // One event after the other is stored, as a survey's events arrive seconds apart; the
    // out-of-order case is a test of its own.
    async add(e) {
      await producer.add(e);
      await completed(surveyJobId(e));
    },
    async redeliver(e) {
      // The job completed (its webhooks queued); a copy past BullMQ's own dedupe window is stored again.
      const id = surveyJobId(e);
      await completed(id);
      await producer.queue.remove(id);
      await producer.add(e);
      await completed(id);
    },
    outbox,
    prefix,
    async close() {
      await worker.close(); // closes the store too
      await outbox.close();
      await producer.close();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      const cleanup = new PgSurveyStore({ connectionString: PG_URL, schema, maxConnections: 1 });
      await cleanup.dropSchema();
      await cleanup.close();
      await redis.quit();
    },
  };
};
