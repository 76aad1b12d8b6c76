/**
 * `botflow worker`: one statistics worker process. It takes survey events from the BullMQ
 * queue on REDIS_URL and stores them in PostgreSQL at DATABASE_URL. Run as many as the
 * load needs, on any machines, against the same Redis and PostgreSQL.
 */
import { Redis } from "ioredis";
import { openRedis } from "../../app/redis-client.ts";
import { loadWorkerConfig, redactUrl, type WorkerConfig } from "../../app/config.ts";
import { pingPostgres, pingRedis } from "../../app/connectivity.ts";
import { createLogger, logFormatFor, type AppLogger } from "../../app/logger.ts";
import { installProcessErrorPolicy } from "../../app/process-errors.ts";
import { createWorkerMetrics, serveWorkerMetrics, type MetricsServer } from "../../app/worker-metrics.ts";
import { durationMs } from "../../engine/scenario.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { DEFAULT_SURVEY_QUEUE, deadQueueName, type SurveyQueueSettings } from "../../stats/queue/survey-queue-settings.ts";
import { openSurveyStore } from "../../stats/store/open-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { DEFAULT_WORKER_CONCURRENCY, SurveyWorker } from "../../stats/worker.ts";
import { sqlOutcomes } from "../../webhooks/survey-outcomes.ts";
import { WebhookDispatcher } from "../../webhooks/webhook-dispatcher.ts";
import { bullmqWebhookOutbox } from "../../webhooks/webhook-outbox.ts";
import { WEBHOOK_VARIABLES } from "../../webhooks/webhook-settings.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, type CliIo } from "../io.ts";

export const summary = "Run one statistics worker: survey events from Redis (BullMQ) into PostgreSQL";

/** PostgreSQL connections of one worker (the pool's size before the store was opened through openSurveyStore). */
const WORKER_DB_CONNECTIONS = 10;

/** The environment `botflow worker` reads; producers (the web process) must agree on the queue ones. */
export const WORKER_VARIABLES: Readonly<Record<string, string>> = {
  REDIS_URL: "redis:// URL of the queue (required)",
  DATABASE_URL: "postgres:// URL of the statistics database (required)",
  BOTFLOW_QUEUE: `survey queue name (default ${DEFAULT_SURVEY_QUEUE.name}); its dead letter is <name>-dead`,
  BOTFLOW_QUEUE_PREFIX: `Redis key prefix of the queue (default ${DEFAULT_SURVEY_QUEUE.prefix})`,
  BOTFLOW_DB_SCHEMA: "PostgreSQL schema of the statistics tables (default the store's)",
  BOTFLOW_LOG_LEVEL: "log level (default info)",
  BOTFLOW_LOG_FORMAT: "log lines: auto (readable on a terminal, JSON otherwise), json or pretty (default auto)",
  ...WEBHOOK_VARIABLES,
};

const USAGE = `usage: botflow worker [--concurrency N] [--queue NAME] [--prefix PREFIX] [--schema NAME]
                      [--lock-duration DUR] [--stalled-interval DUR] [--shutdown-timeout DUR]
                      [--metrics-port PORT [--metrics-host HOST]]
       botflow worker --dead-letters | --replay-dead [--queue NAME] [--prefix PREFIX]

Runs one statistics worker: survey events from the BullMQ queue at REDIS_URL are stored
in PostgreSQL at DATABASE_URL (schema migrated on start). Start as many as you need.
  --concurrency N        jobs in flight, also the largest batch per transaction (default ${DEFAULT_WORKER_CONCURRENCY})
  --queue NAME           BOTFLOW_QUEUE (default ${DEFAULT_SURVEY_QUEUE.name})
  --prefix PREFIX        BOTFLOW_QUEUE_PREFIX (default ${DEFAULT_SURVEY_QUEUE.prefix})
  --schema NAME          BOTFLOW_DB_SCHEMA
  --lock-duration DUR    how long a job stays locked to a worker that stopped answering (default 30s)
  --stalled-interval DUR how often jobs of dead workers are looked for (default 30s); give every
                         worker of a queue the same value (BullMQ skips checks for the last one's)
  --shutdown-timeout DUR longest graceful shutdown before giving up, exit 1 (default 30s)
  --metrics-port PORT    serve Prometheus metrics on GET /metrics at this port (0: any free one;
                         default none): botflow_store_up, jobs held in an outage, events stored
  --metrics-host HOST    address of the metrics listener (default 127.0.0.1; 0.0.0.0 in a container)
  --dead-letters         list the jobs in the dead letter (id, attempts, reason; never payloads) and exit
  --replay-dead          re-queue every dead-lettered job with fresh attempts and exit (needs only REDIS_URL)
With BOTFLOW_WEBHOOK_URL and BOTFLOW_WEBHOOK_SECRET the worker also queues and delivers the
outgoing webhooks of the surveys it stores (botflow webhooks list-dead / replay for the dead letter).
Logs go to stdout: readable lines on a terminal, else JSON lines (BOTFLOW_LOG_FORMAT); never
comment text. SIGTERM/SIGINT finish the jobs in flight and exit 0; a second signal stops at once. An unhandled promise rejection is logged
and the worker goes on; an uncaught exception is logged, the jobs in flight are finished, exit 1.
Exit 1 when Redis or PostgreSQL cannot be reached at start. When PostgreSQL goes away later, the worker logs one warning, stops
taking jobs, holds those in flight (no attempts used, nothing dead-lettered), probes it about
once a second, and logs one line when it is back; then the backlog runs at full speed.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args,
      options: {
        concurrency: { type: "string" },
        queue: { type: "string" },
        prefix: { type: "string" },
        schema: { type: "string" },
        "lock-duration": { type: "string" },
        "stalled-interval": { type: "string" },
        "shutdown-timeout": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "dead-letters": { type: "boolean" },
        "replay-dead": { type: "boolean" },
      },
      allowPositionals: false,
    },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;

  let concurrency = DEFAULT_WORKER_CONCURRENCY;
  if (v.concurrency !== undefined) {
    concurrency = Number(v.concurrency);
    if (!/^[0-9]+$/.test(v.concurrency) || concurrency < 1 || concurrency > 10_000) {
      printUsageError(io, USAGE, `--concurrency "${v.concurrency}" must be a whole number from 1 to 10000`);
      return EXIT_USAGE;
    }
  }
  let metricsPort: number | undefined;
  if (v["metrics-port"] !== undefined) {
    metricsPort = Number(v["metrics-port"]);
    if (!/^[0-9]+$/.test(v["metrics-port"]) || metricsPort > 65_535) {
      printUsageError(io, USAGE, `--metrics-port "${v["metrics-port"]}" must be a port number from 0 to 65535`);
      return EXIT_USAGE;
    }
  }
  const durations: Record<string, number> = {};
  for (const [flag, fallback] of [["lock-duration", 30_000], ["stalled-interval", 30_000], ["shutdown-timeout", 30_000]] as const) {
    const raw = v[flag];
    try {
      durations[flag] = raw === undefined ? fallback : durationMs(/^[0-9]+$/.test(raw) ? Number(raw) : raw);
    } catch {
      printUsageError(io, USAGE, `--${flag} "${raw}" is not a duration: use seconds or a string such as 500ms, 5s, 1m`);
      return EXIT_USAGE;
    }
  }

  // The web process's validators (app/config.ts), so both agree on what a queue name or a schema is.
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(io.env, { ...(v.queue !== undefined ? { queue: v.queue } : {}), ...(v.prefix !== undefined ? { prefix: v.prefix } : {}), ...(v.schema !== undefined ? { schema: v.schema } : {}) });
  } catch (err) {
    println(io.stderr, `botflow worker: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  const { redisUrl, databaseUrl } = config;
  const settings = config.queue;
  if (v["dead-letters"] || v["replay-dead"]) {
    if (redisUrl === undefined) {
      println(io.stderr, "botflow worker: REDIS_URL is not set. Set REDIS_URL=redis://host:6379 to reach the queue's dead letter.");
      return EXIT_FAILED;
    }
    return v["replay-dead"] ? replayDead(io, redisUrl, settings) : listDead(io, redisUrl, settings);
  }
  const missing = [redisUrl === undefined ? "REDIS_URL" : "", databaseUrl === undefined ? "DATABASE_URL" : ""].filter(Boolean);
  if (redisUrl === undefined || databaseUrl === undefined) {
    println(io.stderr, `botflow worker: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set. Set REDIS_URL=redis://host:6379 and DATABASE_URL=postgres://user@host:5432/db; a worker needs both.`);
    return EXIT_FAILED;
  }
  const schema = config.dbSchema;
  const log = createLogger(config.logLevel, io.stdout, { format: logFormatFor(config.logFormat, io.stdout) });

  try {
    await pingRedis(redisUrl);
    await pingPostgres(databaseUrl);
  } catch (err) {
    println(io.stderr, `botflow worker: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  let store: SqlSurveyStore;
  try {
    store = await openSurveyStore({ databaseUrl, dataDir: "", maxConnections: WORKER_DB_CONNECTIONS, ...(schema !== undefined ? { schema } : {}) });
  } catch (err) {
    println(io.stderr, `botflow worker: cannot prepare the statistics schema in PostgreSQL at ${redactUrl(databaseUrl)}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }

  // Errors nothing caught (app/process-errors.ts): a rejection is logged and the worker goes on;
  // an uncaught exception is logged and ends the worker like SIGTERM does, with exit code 1.
  let crashed = false;
  const crash = new Promise<"uncaughtException">((resolve) => {
    installProcessErrorPolicy({ source: process, logger: log, role: "worker", onFatal: () => ((crashed = true), resolve("uncaughtException")) });
  });
  // Reconnects with backoff; one warning when Redis goes away and one line when it is back.
  const connection = await openRedis(redisUrl, { logger: log, shown: redactUrl(redisUrl), role: "worker" });
  // Webhooks are queued once a write committed (the batch writer's hook) and delivered by this fleet.
  const webhooks = config.webhooks
    ? new WebhookDispatcher({ settings: config.webhooks, outbox: bullmqWebhookOutbox(connection, settings.prefix, { logger: log }), outcomes: sqlOutcomes(store.sql, store.schema), logger: log })
    : undefined;
  webhooks?.start();
  const worker = new SurveyWorker({
    connection,
    store,
    settings,
    ...(webhooks ? { batch: { afterCommit: webhooks.afterCommit } } : {}),
    concurrency,
    lockDurationMs: durations["lock-duration"] as number,
    stalledIntervalMs: durations["stalled-interval"] as number,
    logger: log,
  });
  await worker.start();
  let metricsServer: MetricsServer | undefined;
  if (metricsPort !== undefined) {
    try {
      metricsServer = await serveWorkerMetrics(createWorkerMetrics(worker), { host: v["metrics-host"] ?? "127.0.0.1", port: metricsPort });
    } catch (err) {
      await worker.close().catch(() => {});
      await webhooks?.outbox.close().catch(() => {});
      connection.disconnect();
      println(io.stderr, `botflow worker: cannot serve metrics on ${v["metrics-host"] ?? "127.0.0.1"}:${metricsPort} (${err instanceof Error ? err.message : String(err)}): pick another --metrics-port`);
      return EXIT_FAILED;
    }
  }
  log.info(
    {
      queue: settings.name,
      prefix: settings.prefix,
      concurrency,
      redis: redactUrl(redisUrl),
      database: redactUrl(databaseUrl),
      ...(metricsServer ? { metrics: metricsServer.url } : {}),
      ...(config.webhooks ? { webhooks: config.webhooks.endpoints.length } : {}),
    },
    "survey worker started",
  );
  // A progress line only when something was stored since the last one: an idle or held worker stays quiet.
  let lastEvents = 0;
  const progress = setInterval(() => {
    if (worker.writer.stats.events === lastEvents) return;
    lastEvents = worker.writer.stats.events;
    logProgress(log, worker);
  }, 10_000);
  progress.unref();

  const signal = await Promise.race([waitForSignal(), crash]);
  clearInterval(progress);
  log.info({ signal }, "survey worker shutting down: finishing the jobs in flight");
  const timeoutMs = durations["shutdown-timeout"] as number;
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    // The survey writes first (their webhooks are queued as they commit), then the deliveries in flight.
    worker
      .close()
      .then(() => webhooks?.outbox.close())
      .then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  logProgress(log, worker);
  await metricsServer?.close();
  connection.disconnect();
  if (!closed) {
    log.error({ timeoutMs }, "survey worker did not finish its jobs in time; they are retried by another worker once their locks expire");
    return EXIT_FAILED;
  }
  log.info({}, "survey worker stopped");
  return crashed ? EXIT_FAILED : EXIT_OK;
}

type QueueName = Pick<SurveyQueueSettings, "name" | "prefix">;

/** Opens the producer side of the queue for a one-off operation, after checking Redis answers. */
async function withQueue(io: CliIo, redisUrl: string, settings: QueueName, fn: (queue: BullmqSurveyQueue) => Promise<void>): Promise<number> {
  try {
    await pingRedis(redisUrl);
  } catch (err) {
    println(io.stderr, `botflow worker: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  const connection = new Redis(redisUrl);
  const queue = new BullmqSurveyQueue({ connection, settings });
  try {
    await fn(queue);
    return EXIT_OK;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

function listDead(io: CliIo, redisUrl: string, settings: QueueName): Promise<number> {
  return withQueue(io, redisUrl, settings, async (queue) => {
    const dead = await queue.deadLetters();
    println(io.stdout, `${dead.length} job(s) in the dead letter ${deadQueueName(settings.name)} (prefix ${settings.prefix})`);
    for (const d of dead) {
      println(io.stdout, `${d.jobId}\t${d.attemptsMade} attempt(s)\t${new Date(d.deadAt).toISOString()}\t${d.unrecoverable ? "unrecoverable: " : ""}${d.failedReason}`);
    }
    if (dead.length > 0) println(io.stdout, 'Fix the cause, then run "botflow worker --replay-dead" to queue them again.');
  });
}

function replayDead(io: CliIo, redisUrl: string, settings: QueueName): Promise<number> {
  return withQueue(io, redisUrl, settings, async (queue) => {
    const n = await queue.replayDead();
    println(io.stdout, `re-queued ${n} job(s) from ${deadQueueName(settings.name)} into ${settings.name}`);
  });
}

function logProgress(log: AppLogger, worker: SurveyWorker): void {
  const { batches, events } = worker.writer.stats;
  log.info({ events, batches, meanBatch: batches === 0 ? 0 : Math.round((events / batches) * 10) / 10 }, "survey worker progress");
}

/** Signals are the one thing of the process a worker needs beyond CliIo. */
function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(s);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}
