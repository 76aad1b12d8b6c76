/**
 * The one place that picks the backing services for the mode the configuration names:
 *
 * | part                | embedded default               | production (REDIS_URL + DATABASE_URL)   |
 * |---------------------|--------------------------------|-----------------------------------------|
 * | conversation state  | MemoryStateStore               | RedisStateStore                         |
 * | survey queue        | InProcessSurveyQueue           | BullmqSurveyQueue (`botflow worker`s consume it) |
 * | statistics store    | PGlite in BOTFLOW_DATA_DIR     | PostgreSQL (`pg`)                       |
 * | channel memory      | MemoryChannelStorage           | RedisChannelStorage (and the connection, for channels' own stores) |
 * | outbound pacing     | MemoryRateLimiter              | RedisRateLimiter (one bucket per bot for every process) |
 * | trigger outbox      | InProcessOutbox (the trigger store in the data folder is its durable record) | BullmqOutbox |
 * | trigger store       | SqlTriggerStore on the statistics database (PGlite / PostgreSQL)          |              |
 * | outgoing webhooks   | delivered in process (in-process outbox) | delivered by `botflow worker` (BullMQ outbox) |
 *
 * Opening fails with a plain message, closing what was opened, so the process never half-starts.
 */
import type { ChannelStorage } from "../channels/storage/channel-storage.ts";
import { MemoryChannelStorage } from "../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../channels/storage/redis-channel-storage.ts";
import { MemoryRateLimiter } from "../channels/rate-limit/memory-rate-limiter.ts";
import type { RateLimiter } from "../channels/rate-limit/rate-limiter.ts";
import { RedisRateLimiter } from "../channels/rate-limit/redis-rate-limiter.ts";
import { ConfigError } from "../engine/errors.ts";
import type { Clock, Logger, StateStore } from "../engine/ports.ts";
import { MemoryStateStore } from "../engine/state/memory-store.ts";
import { RedisStateStore } from "../engine/state/redis-store.ts";
import { surveyJobId, type SurveyQueue } from "../stats/events.ts";
import { BullmqSurveyQueue } from "../stats/queue/bullmq-survey-queue.ts";
import { InProcessSurveyQueue } from "../stats/queue/in-process-survey-queue.ts";
import type { SurveyJobLatency } from "../stats/queue/survey-job-latency.ts";
import { openSurveyStore } from "../stats/store/open-survey-store.ts";
import type { SurveyStore } from "../stats/store/survey-store.ts";
import { SqlSurveyStore } from "../stats/store/sql-survey-store.ts";
import { BullmqOutbox } from "../triggers/bullmq-outbox.ts";
import { InProcessOutbox } from "../triggers/in-process-outbox.ts";
import type { Outbox } from "../triggers/outbox.ts";
import { SqlTriggerStore } from "../triggers/sql-trigger-store.ts";
import type { TriggerStore } from "../triggers/trigger-store.ts";
import { sqlOutcomes } from "../webhooks/survey-outcomes.ts";
import { WebhookDispatcher } from "../webhooks/webhook-dispatcher.ts";
import { inProcessWebhookOutbox } from "../webhooks/webhook-outbox.ts";
import type { Redis } from "ioredis";
import { redactUrl, type AppConfig } from "./config.ts";
import { openRedis } from "./redis-client.ts";
import { pingPostgres, pingRedis } from "./connectivity.ts";
import { lockDataDir } from "./data-dir-lock.ts";
import type { ReadinessCheck } from "./readiness.ts";

export interface Services {
  state: StateStore;
  /** Where statistic__set and the survey tracker send survey events. */
  surveys: SurveyQueue;
  /** The statistics store, for reading figures (and, embedded, what the queue writes to). */
  surveyStore: SurveyStore;
  /** What channels remember beside conversation state (shared by every web process in production). */
  channelStorage: ChannelStorage;
  /** Paces what channels send (their `pacing` buckets): shared by every web process in production. */
  rateLimiter: RateLimiter;
  /** What the trigger API recorded, on the statistics database; undefined when the store is not SQL (a test's stand-in). */
  triggerStore?: TriggerStore;
  /** Makes the trigger outbox for the enabled channels (once; closed with the services). */
  openOutbox(channels: readonly string[]): Outbox;
  /** Embedded, with BOTFLOW_WEBHOOK_URL: the in-process webhook delivery (in production `botflow worker` delivers). */
  webhooks?: WebhookDispatcher;
  /** Production: the Redis connection channels open their own shared stores on; undefined embedded. */
  redis?: Redis;
  /** For the start log: what is wired. */
  description: string;
  checks: ReadinessCheck[];
  /** Survey queue job counts by state, for /metrics and the queue view. */
  queueCounts(): Promise<Record<string, number>>;
  /** Survey job latency (queue lag and recent queued-to-stored times), for /metrics; real time, whatever the app's clock. */
  jobLatency(): Promise<SurveyJobLatency>;
  /** The dead letter, oldest first, without payloads (they may hold comment text). */
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Queues every dead event again; resolves to how many. */
  replayDead(): Promise<number>;
  /** Closes the queue (waiting for events in flight), then the stores and connections. */
  close(): Promise<void>;
}

export interface DeadLetter {
  jobId: string;
  attemptsMade: number;
  failedReason: string;
  /** Epoch ms, when known. */
  deadAt: number | null;
}

export interface ServicesOptions {
  clock: Clock;
  logger: Logger;
  /** An open, migrated statistics store to use instead of opening one (tests); the caller closes it. */
  surveyStore?: SurveyStore;
}

/** Opens the services for `config.mode`. */
export async function openServices(config: AppConfig, o: ServicesOptions): Promise<Services> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err: unknown) => o.logger.error({ err: String(err) }, "error while closing a service"));
  };
  try {
    return config.mode === "production" ? await openProduction(config, o, closers, close) : await openEmbedded(config, o, closers, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function openEmbedded(config: AppConfig, o: ServicesOptions, closers: (() => Promise<void>)[], close: () => Promise<void>): Promise<Services> {
  let surveyStore = o.surveyStore;
  let description = "in-process queue, statistics store given by the caller";
  if (!surveyStore) {
    closers.push(await lockDataDir(config.dataDir));
    o.logger.info({ dataDir: config.dataDir }, "opening the statistics store (PGlite); the first start creates it, which takes a few seconds");
    const store = await openSurveyStore({ dataDir: config.dataDir, ...schemaOf(config) }).catch((err: unknown) => {
      throw new ConfigError(`cannot open the statistics store in ${config.dataDir} (${errorText(err)}): check the folder is writable, or set BOTFLOW_DATA_DIR`);
    });
    closers.push(() => store.close());
    surveyStore = store;
    description = `in-process queue, PGlite in ${config.dataDir}`;
  }
  const webhooks = config.webhooks && surveyStore instanceof SqlSurveyStore ? embeddedWebhooks(config, surveyStore, o, closers) : undefined;
  const queue = new InProcessSurveyQueue(surveyStore, { logger: o.logger, ...(webhooks ? { batch: { afterCommit: webhooks.afterCommit } } : {}) });
  // Closed before the webhook outbox: its last writes still queue their webhooks.
  closers.push(() => queue.close());
  const reader = surveyStore;
  const triggerStore = triggerStoreOf(surveyStore);
  return {
    ...(triggerStore ? { triggerStore } : {}),
    ...(webhooks ? { webhooks } : {}),
    openOutbox: (_channels) => opened(closers, new InProcessOutbox({ clock: o.clock, logger: o.logger })),
    state: new MemoryStateStore(o.clock),
    channelStorage: new MemoryChannelStorage(),
    // Real time, whatever the app's clock: the messengers count real seconds (a test's frozen clock would never refill).
    rateLimiter: new MemoryRateLimiter(),
    surveys: queue,
    surveyStore: reader,
    description,
    checks: [{ name: "statistics-store", store: "pglite", check: () => pingStore(reader) }],
    // In process an event is stored before `add` resolves: nothing waits; failures end in the dead letter.
    queueCounts: async () => ({ dead: queue.deadLetters().length }),
    jobLatency: async () => queue.jobLatency(),
    deadLetters: async (limit) =>
      queue.deadLetters().slice(0, limit).map((d) => ({ jobId: surveyJobId(d.event), attemptsMade: d.attemptsMade, failedReason: d.failedReason, deadAt: null })),
    replayDead: () => queue.replayDead(),
    close,
  };
}

async function openProduction(config: AppConfig, o: ServicesOptions, closers: (() => Promise<void>)[], close: () => Promise<void>): Promise<Services> {
  const redisUrl = config.redisUrl as string;
  const databaseUrl = config.databaseUrl as string;
  // Both must answer before anything is wired: never half-start.
  const probes = await Promise.allSettled([pingRedis(redisUrl), pingPostgres(databaseUrl)]);
  const down = probes.flatMap((r) => (r.status === "rejected" ? [errorText(r.reason)] : []));
  if (down.length > 0) throw new ConfigError(`botflow serve cannot start:\n${down.map((d) => `  - ${d}`).join("\n")}`);

  const redis = await openRedis(redisUrl, { logger: o.logger, shown: redactUrl(redisUrl) });
  // BullMQ reports the connection's errors again on its queues; openRedis logged the outage once.
  const onRedisError = () => {};
  // quit() waits for Redis to answer; with Redis gone it would hang the shutdown.
  closers.push(async () => void (redis.status === "ready" ? await redis.quit().catch(() => redis.disconnect()) : redis.disconnect()));
  const state = new RedisStateStore(redis, { keyPrefix: config.statePrefix });
  const queue = new BullmqSurveyQueue({ connection: redis, settings: { name: config.queueName, prefix: config.queuePrefix } });
  // Without listeners BullMQ prints every connection error to the console.
  queue.queue.on("error", onRedisError);
  queue.dead.queue.on("error", onRedisError);
  closers.push(() => queue.close());
  const surveyStore = o.surveyStore ?? (await openSurveyStore({ databaseUrl, dataDir: config.dataDir, maxConnections: 4, ...schemaOf(config) }));
  if (!o.surveyStore) closers.push(() => surveyStore.close());
  else await surveyStore.migrate();
  const triggerStore = triggerStoreOf(surveyStore);
  return {
    ...(triggerStore ? { triggerStore } : {}),
    openOutbox: (channels) => opened(closers, new BullmqOutbox({ connection: redis, prefix: config.queuePrefix, channels, logger: o.logger })),
    state,
    channelStorage: new RedisChannelStorage(redis, { keyPrefix: `${config.statePrefix}channel:` }),
    rateLimiter: new RedisRateLimiter(redis, { keyPrefix: `${config.statePrefix}rate:` }),
    redis,
    surveys: queue,
    surveyStore,
    description: `BullMQ on ${redactUrl(redisUrl)}, PostgreSQL at ${redactUrl(databaseUrl)}`,
    checks: [
      { name: "redis", store: "redis", check: async () => void (await redis.ping()) },
      { name: "survey-queue", check: async () => void (await queue.counts()) },
      { name: "database", store: "postgres", check: () => pingStore(surveyStore) },
    ],
    queueCounts: async () => ({ ...(await queue.counts()) }),
    // While Redis is away a command would wait in ioredis's offline queue: answer at once instead.
    jobLatency: async () => {
      if (redis.status !== "ready") throw new Error(`Redis is not connected (${redis.status})`);
      return queue.jobLatency();
    },
    deadLetters: async (limit) =>
      (await queue.deadLetters(0, limit - 1)).map((d) => ({ jobId: d.jobId, attemptsMade: d.attemptsMade, failedReason: d.failedReason, deadAt: d.deadAt })),
    replayDead: () => queue.replayDead(),
    close,
  };
}

/** The trigger store beside the statistics, on the same database and schema, when the store is the SQL one. */
function triggerStoreOf(store: SurveyStore): TriggerStore | undefined {
  return store instanceof SqlSurveyStore ? new SqlTriggerStore(store.sql, store.schema) : undefined;
}

/** The in-process webhook delivery on the embedded store, started; its outbox closes after the survey queue. */
function embeddedWebhooks(config: AppConfig, store: SqlSurveyStore, o: ServicesOptions, closers: (() => Promise<void>)[]): WebhookDispatcher {
  // Real time, whatever the app's clock: a receiver checks the signed timestamp against its own clock.
  const outbox = inProcessWebhookOutbox({ logger: o.logger });
  closers.push(() => outbox.close());
  const webhooks = new WebhookDispatcher({ settings: config.webhooks as NonNullable<AppConfig["webhooks"]>, outbox, outcomes: sqlOutcomes(store.sql, store.schema), logger: o.logger });
  webhooks.start();
  return webhooks;
}

/** `outbox`, closed before the connections it uses (closers run last first). */
function opened(closers: (() => Promise<void>)[], outbox: Outbox): Outbox {
  closers.push(() => outbox.close());
  return outbox;
}

function schemaOf(config: AppConfig): { schema?: string } {
  return config.dbSchema !== undefined ? { schema: config.dbSchema } : {};
}

/** The cheapest query every store answers. */
async function pingStore(store: SurveyStore): Promise<void> {
  await store.listDialogues({ limit: 1 });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
