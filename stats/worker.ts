/**
 * A statistics worker: a BullMQ Worker on the survey queue that stores each job's events
 * through the shared batch writer. A job is one event (every job before batches, and a batch of
 * one) or `{ events }`, the events of one or more inbound updates (parseSurveyJob); a batch's
 * events are written together and the job is done when all are stored. A malformed event of a
 * batch does not hold the others back: they are stored, then the job goes to the dead letter. Any number of these run against one Redis and one
 * database; the store's per-event idempotency makes redelivery harmless, so a worker
 * killed between committing and acknowledging costs a repeat, never a double count.
 *
 * A store outage uses no attempts: the first write that fails because the store is away
 * (`isTransient`, retried once at once, and a probe does not answer either) pauses taking jobs, holds the jobs in flight (their locks stay renewed) and
 * leaves probing to StoreAvailability; when a probe answers, the held jobs are written at once
 * and the worker takes jobs again. Closing during an outage hands the held jobs back to the
 * queue, again without using an attempt. Only data errors count attempts and reach the dead letter.
 *
 * @example
 * const worker = new SurveyWorker({ connection, store }); // concurrency DEFAULT_WORKER_CONCURRENCY
 * await worker.start();
 * process.once("SIGTERM", () => void worker.close()); // finishes in-flight jobs, then closes the store
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { silentLogger, systemClock, type Clock, type Logger } from "../engine/ports.ts";
import { MalformedSurveyEventError, parseSurveyJob, type SurveyJobPayload } from "./queue/parse-survey-event.ts";
import { SurveyDeadLetters } from "./queue/survey-dead-letters.ts";
import { DEFAULT_SURVEY_QUEUE, type SurveyQueueSettings } from "./queue/survey-queue-settings.ts";
import type { RetryBackoff } from "./retry-backoff.ts";
import { StoreAvailability } from "./store-availability.ts";
import { ConnectBackoffError } from "./store/connect-backoff.ts";
import { isTransient } from "./store/sql-errors.ts";
import { SurveyBatchWriter, type SurveyBatchWriterOptions, type SurveyWriteStore } from "./worker-batch-writer.ts";

export interface SurveyWorkerOptions {
  /** A connection with `maxRetriesPerRequest: null` (BullMQ requires it for workers). The caller closes it. */
  connection: Redis;
  /** Closed by `close()`, after the last in-flight job. `ping` (PgSurveyStore's) probes it during an outage. */
  store: SurveyWriteStore & { ping?(): Promise<void> };
  /** The store's name in logs and `botflow_store_up{store}`; default "postgres". */
  storeName?: string;
  /** Probes of a store that went away (default STORE_RETRY_BACKOFF: soon after the failure, then every 0.5–1 s). */
  outageBackoff?: RetryBackoff;
  settings?: Partial<Pick<SurveyQueueSettings, "name" | "prefix">>;
  /** Jobs processed at once; also the largest batch one transaction can gather. */
  concurrency?: number;
  batch?: SurveyBatchWriterOptions;
  /** How long a job's lock lasts without renewal; a killed worker's jobs are retried after it. */
  lockDurationMs?: number;
  /**
   * How often stalled jobs (of killed workers) are looked for. Give every worker of a queue
   * the same value: BullMQ skips the check for the interval of whichever worker ran it last.
   */
  stalledIntervalMs?: number;
  /** Stalls a job survives before it fails; kills are routine in a fleet, so be generous. */
  maxStalledCount?: number;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Jobs in flight per worker. The batch writer can only group what is in flight, and a job
 * waits for Redis on both sides of its transaction, so throughput is about concurrency /
 * (Redis round trips + transaction time): with 1000, batches of about 300 events and 0.67–0.77
 * of a no-op BullMQ worker at the same concurrency; with 300, batches of about 90 and 0.53–0.55
 * (bench/stats-pipeline.ts, bench/README.md). A worker killed with 1000 jobs in flight costs
 * up to 1000 harmless redeliveries.
 */
export const DEFAULT_WORKER_CONCURRENCY = 1000;

export class SurveyWorker {
  readonly worker: Worker<unknown, void>;
  readonly writer: SurveyBatchWriter;
  /** Whether the store answers; `up` is `botflow_store_up`. */
  readonly availability: StoreAvailability;
  /** Jobs waiting in this worker for the store to come back. */
  held = 0;
  private readonly dead: SurveyDeadLetters;
  private readonly log: Logger;
  private readonly clock: Clock;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: SurveyWorkerOptions) {
    const settings = { ...DEFAULT_SURVEY_QUEUE, ...o.settings };
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.writer = new SurveyBatchWriter(o.store, o.batch);
    const store = o.store;
    this.availability = new StoreAvailability({
      store: o.storeName ?? "postgres",
      probe: store.ping ? () => (store.ping as () => Promise<void>).call(store) : () => store.migrate(),
      ...(o.outageBackoff ? { backoff: o.outageBackoff } : {}),
      logger: this.log,
      clock: this.clock,
      // No new jobs while the store is away: they wait in the queue, for this worker or a luckier one.
      onChange: (up) => void (up ? this.worker.resume() : this.worker.pause(true)),
    });
    this.dead = new SurveyDeadLetters(o.connection, settings);
    this.worker = new Worker<unknown, void>(settings.name, (job, token) => this.process(job, token), {
      connection: o.connection,
      prefix: settings.prefix,
      autorun: false,
      concurrency: o.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
      lockDuration: o.lockDurationMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 30_000,
      maxStalledCount: o.maxStalledCount ?? 20,
    });
    this.worker.on("failed", (job, err) => void this.onFailed(job, err));
    this.worker.on("error", (err) => {
      // While the connection is down, BullMQ repeats its reconnect errors here; the connection's
      // owner logs the outage once (app/redis-client.ts), so only errors of a live connection are logged.
      if (o.connection.status === "ready") this.log.error({ err: summary(err), queue: settings.name }, "survey worker error; it keeps running and reconnects");
    });
    // Without a listener BullMQ prints every error of the dead-letter queue's connection to the console.
    this.dead.queue.on("error", () => {});
  }

  /** Starts taking jobs; resolves once connected to Redis. */
  async start(): Promise<void> {
    void this.worker.run().catch((err: unknown) => this.log.error({ err: summary(err) }, "survey worker stopped"));
    await this.worker.waitUntilReady();
  }

  /** Stops taking jobs, finishes those in flight, then closes the store. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Jobs held for an outage go back to the queue now instead of keeping the close waiting.
      this.availability.close();
      await this.worker.close();
      await this.writer.drain();
      await this.dead.close();
      await this.o.store.close();
    })();
    return this.closing;
  }

  private async process(job: Job<unknown, void>, token: string | undefined): Promise<void> {
    let payload: SurveyJobPayload;
    try {
      payload = parseSurveyJob(job.data);
    } catch (err) {
      await this.deadLetter(job, err, true);
      this.log.warn({ jobId: job.id, err: summary(err) }, "malformed survey event moved to the dead letter");
      throw new UnrecoverableError(summary(err).message);
    }
    const { events } = payload;
    const kind = events.length === 1 ? events[0]?.kind : "batch";
    try {
      for (let tries = 1; ; tries++) {
        await this.holdWhileDown(job, token);
        try {
          // Each event settles on its own (the writer isolates one the database refuses); the job
          // fails with the first failure, and a retry's repeats of the stored ones change nothing.
          const settled = await Promise.allSettled(events.map((e) => this.writer.write(e)));
          const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
          if (failed) throw failed.reason;
          break;
        } catch (err) {
          if (!isTransient(err)) throw err;
          const unreachable = err instanceof ConnectBackoffError; // connection attempts are failing already
          // One lost connection (a restart, a failover, a proxy dropping idle ones) is not yet an
          // outage: try once more at once on a new one.
          if (tries === 1 && !unreachable) continue;
          if (unreachable) this.availability.down(err);
          // Busy rather than away (deadlock, lock or statement timeout): the store answers a
          // probe, so this is the job's own failure and it is retried with an attempt.
          else if (!(await this.availability.confirmDown(err))) throw err;
        }
      }
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      const attempts = job.opts.attempts ?? 1;
      const final = job.attemptsMade + 1 >= attempts;
      // Dead-letter before BullMQ records the failure: a crash in between retries the job, never loses it.
      if (final) await this.deadLetter(job, err, false);
      this.log.warn(
        { jobId: job.id, kind, events: events.length, attempt: job.attemptsMade + 1, attempts, err: summary(err) },
        final ? "survey event failed its last attempt; moved to the dead letter" : "survey event could not be stored; it will be retried",
      );
      throw err;
    }
    if (payload.malformed.length > 0) {
      // The others are stored: the job goes to the dead letter as it is (a replay repeats the
      // stored events harmlessly) and fails without retries, for its malformed events can never succeed.
      const err = new MalformedSurveyEventError(payload.malformed.map((m) => `event ${m.index}: ${m.problem}`).join("; "));
      await this.deadLetter(job, err, true);
      this.log.warn({ jobId: job.id, malformed: payload.malformed.length, stored: events.length, err: summary(err) }, "malformed survey events of a batch moved to the dead letter; the others are stored");
      throw new UnrecoverableError(err.message);
    }
  }

  /** Waits while the store is away; when the worker closes first, hands the job back to the queue unused. */
  private async holdWhileDown(job: Job<unknown, void>, token: string | undefined): Promise<void> {
    if (this.availability.up) return;
    this.held++;
    try {
      await this.availability.whenUp();
    } catch {
      // Back to the queue without an attempt: DelayedError is BullMQ's "moved, not failed".
      await job.moveToDelayed(this.clock.now(), token);
      throw new DelayedError();
    } finally {
      this.held--;
    }
  }

  /**
   * A second chance for jobs that failed for good while the processor could not reach the
   * dead letter (Redis hiccup). Jobs BullMQ fails on its own (stalled too often) emit no
   * event here; BullmqSurveyQueue adopts them from the failed set when the dead letter is read.
   */
  private async onFailed(job: Job<unknown, void> | undefined, err: Error): Promise<void> {
    if (!job) return;
    const unrecoverable = err.name === "UnrecoverableError";
    if (!unrecoverable && job.attemptsMade < (job.opts.attempts ?? 1)) return;
    try {
      await this.deadLetter(job, err, unrecoverable);
    } catch (e) {
      this.log.error({ jobId: job.id, err: summary(e) }, "could not copy a failed survey job to the dead letter; it stays in the failed set");
    }
  }

  private async deadLetter(job: Job<unknown, void>, err: unknown, unrecoverable: boolean): Promise<void> {
    await this.dead.put({
      jobId: String(job.id),
      event: job.data,
      failedReason: summary(err).message,
      attemptsMade: job.attemptsMade + 1,
      unrecoverable,
      deadAt: this.clock.now(),
    });
  }
}

/** An error as it may be logged: name, message and code, never the payload. */
function summary(err: unknown): { name: string; message: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(code !== undefined ? { code: String(code) } : {}) };
  }
  return { name: "Error", message: String(err) };
}
