/**
 * The production outbox: one BullMQ queue per channel (`botflow-triggers-<channel>`), the job id
 * the trigger's id (so a trigger is one job however often it is added, on any process), a delayed
 * job for a trigger scheduled later (it lives in Redis: a SIGKILL of every web process loses
 * nothing, and it fires once after they are back), the failed set as the dead letter.
 *
 * Every web process runs a worker per enabled channel; the channel's pacing buckets (shared in
 * Redis) hold them all to the messenger's rate, so the concurrency only bounds the waiting.
 *
 * @example
 * const outbox = new BullmqOutbox({ connection: redis, prefix: "bull", channels: ["telegram"] });
 */
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { errorSummary } from "../engine/errors.ts";
import { within } from "../engine/within.ts";
import { silentLogger, systemClock, type Clock, type Logger } from "../engine/ports.ts";
import {
  afterFailure,
  DEFAULT_OUTBOX,
  OutboxClosedError,
  TRIGGER_WORDING,
  type DeadTrigger,
  type Outbox,
  type OutboxCounts,
  type OutboxEntry,
  type OutboxHandlers,
  type OutboxJob,
  type OutboxSettings,
  type OutboxWording,
  type TriggerPayload,
} from "./outbox.ts";

export interface BullmqOutboxOptions {
  /** The caller owns it (and closes it after `close()`). */
  connection: Redis;
  /** BullMQ key prefix (BOTFLOW_QUEUE_PREFIX). */
  prefix?: string;
  /** The channels this process sends on: one worker each. */
  channels: readonly string[];
  settings?: Partial<OutboxSettings>;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** How long a finished job (and so its id against re-adds) is kept (default 7 days). */
  keepDoneMs?: number;
  /** Queue names are `<queue>-<channel>` (default TRIGGER_QUEUE). */
  queue?: string;
  /** How logs and errors name the jobs (default the trigger outbox's). */
  wording?: OutboxWording;
  /**
   * How long `close()` waits for a worker's job in flight and its Redis commands before it
   * disconnects the workers' connections (pending commands then fail and the close ends); 10 s.
   */
  closeTimeoutMs?: number;
}

interface JobData<P> {
  channel: string;
  runAt: number;
  payload: P;
}

export const TRIGGER_QUEUE = "botflow-triggers";

export class BullmqOutbox<P = TriggerPayload> implements Outbox<P> {
  private readonly settings: OutboxSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly wording: OutboxWording;
  private readonly queues = new Map<string, Queue<JobData<P>>>();
  private readonly workers: Worker<JobData<P>, void>[] = [];
  private readonly connections: Redis[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly o: BullmqOutboxOptions) {
    this.settings = { ...DEFAULT_OUTBOX, ...o.settings };
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.random = o.random ?? Math.random;
    this.wording = o.wording ?? TRIGGER_WORDING;
    for (const channel of o.channels) this.queue(channel);
  }

  async add(entry: OutboxEntry<P>): Promise<{ added: boolean }> {
    if (this.closing) throw new OutboxClosedError(this.wording.noun);
    const queue = this.queue(entry.channel);
    if (await queue.getJob(entry.id)) return { added: false };
    const runAt = entry.runAt ?? this.clock.now();
    // The same id added meanwhile by another process is ignored by BullMQ: still one job.
    await queue.add(this.wording.noun, { channel: entry.channel, runAt, payload: entry.payload }, {
      jobId: entry.id,
      delay: Math.max(0, runAt - this.clock.now()),
      attempts: this.settings.attempts,
      backoff: { type: "trigger" },
      removeOnComplete: { age: Math.round((this.o.keepDoneMs ?? 7 * 86_400_000) / 1000) },
      removeOnFail: false,
    });
    return { added: true };
  }

  start(handlers: OutboxHandlers<P>): void {
    if (this.workers.length > 0 || this.closing) return;
    for (const channel of this.o.channels) {
      // A worker blocks on Redis and must wait out an outage rather than fail its commands: its own
      // connection without a retry limit (BullMQ refuses one with), closed with it.
      const connection = this.o.connection.duplicate({ maxRetriesPerRequest: null });
      this.connections.push(connection);
      const worker = new Worker<JobData<P>, void>(this.queue(channel).name, (job) => this.process(handlers, job), {
        connection,
        prefix: this.o.prefix ?? "bull",
        concurrency: this.settings.concurrency,
        settings: { backoffStrategy: (attemptsMade, _type, err) => this.retryDelay(err, attemptsMade) },
      });
      // A job that failed outside the handler (it stalled too often: its process died mid-send more
      // than once) is dead too: the trigger is recorded as failed like one whose attempts ran out.
      worker.on("failed", (job, err) => {
        if (!job || err.name === "UnrecoverableError" || (job.attemptsMade < this.settings.attempts && !/stalled/i.test(err.message))) return;
        const j: OutboxJob<P> = { id: String(job.id), channel, runAt: job.data.runAt, payload: job.data.payload, attempt: job.attemptsMade };
        void handlers.failed(j, errorSummary(err).message).catch((e: unknown) => this.log.error({ [this.wording.noun]: j.id, err: errorSummary(e) }, `could not record a failed ${this.wording.noun}`));
      });
      worker.on("error", (err) => {
        if (this.o.connection.status === "ready") this.log.error({ err: errorSummary(err), channel }, `${this.wording.noun} outbox worker error; it keeps running and reconnects`);
      });
      this.workers.push(worker);
    }
  }

  async counts(): Promise<OutboxCounts> {
    const c = { waiting: 0, delayed: 0, active: 0, dead: 0 };
    for (const q of this.queues.values()) {
      const n = await q.getJobCounts("waiting", "prioritized", "delayed", "active", "failed");
      c.waiting += (n.waiting ?? 0) + (n.prioritized ?? 0);
      c.delayed += n.delayed ?? 0;
      c.active += n.active ?? 0;
      c.dead += n.failed ?? 0;
    }
    return c;
  }

  async deadLetters(limit: number): Promise<DeadTrigger[]> {
    const all: DeadTrigger[] = [];
    for (const [channel, q] of this.queues) {
      for (const job of await q.getFailed(0, Math.max(0, limit - 1))) {
        all.push({ id: String(job.id), channel, attempts: job.attemptsMade, reason: job.failedReason ?? "", deadAt: job.finishedOn ?? null });
      }
    }
    return all.sort((a, b) => (b.deadAt ?? 0) - (a.deadAt ?? 0)).slice(0, limit);
  }

  async retryDead(id: string): Promise<boolean> {
    for (const q of this.queues.values()) {
      const job = await q.getJob(id);
      if (job && (await job.isFailed())) {
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        return true;
      }
    }
    return false;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // A worker's close waits for its job and for commands queued while Redis reconnects; past
      // the deadline its connections are cut, which fails those commands and ends the close.
      const timeoutMs = this.o.closeTimeoutMs ?? 10_000;
      const closed = Promise.all(this.workers.map((w) => w.close()));
      if (!(await within(closed, timeoutMs)).ok) {
        this.log.warn({ timeoutMs }, `${this.wording.noun} outbox workers did not close in time; disconnecting them (a job cut off runs again)`);
        // A job's own send may still hang: it is not waited for (its lock lapses; it runs again).
        for (const c of this.connections) c.disconnect();
        closed.catch(() => undefined);
      }
      await Promise.all([...this.queues.values()].map((q) => q.close()));
      for (const c of this.connections) c.disconnect();
    })();
    return this.closing;
  }

  private queue(channel: string): Queue<JobData<P>> {
    let q = this.queues.get(channel);
    if (!q) {
      q = new Queue<JobData<P>>(`${this.o.queue ?? TRIGGER_QUEUE}-${channel}`, { connection: this.o.connection, prefix: this.o.prefix ?? "bull" });
      // Without a listener BullMQ prints every connection error; the connection's owner logs outages.
      q.on("error", () => {});
      this.queues.set(channel, q);
    }
    return q;
  }

  private async process(handlers: OutboxHandlers<P>, job: Job<JobData<P>, void>): Promise<void> {
    const j: OutboxJob<P> = { id: String(job.id), channel: job.data.channel, runAt: job.data.runAt, payload: job.data.payload, attempt: job.attemptsMade + 1 };
    try {
      await handlers.handle(j);
    } catch (err) {
      const next = afterFailure(err, j.attempt, this.settings, this.random);
      if (next.retry) {
        this.log.warn({ [this.wording.noun]: j.id, channel: j.channel, attempt: j.attempt, err: errorSummary(err) }, `${this.wording.failure}; retrying`);
        throw err;
      }
      await handlers.failed(j, next.reason).catch((e: unknown) => this.log.error({ [this.wording.noun]: j.id, err: errorSummary(e) }, `could not record a failed ${this.wording.noun}`));
      throw new UnrecoverableError(next.reason);
    }
  }

  private retryDelay(err: Error | undefined, attemptsMade: number): number {
    const next = afterFailure(err, attemptsMade, { ...this.settings, attempts: Number.POSITIVE_INFINITY }, this.random);
    return next.retry ? next.delayMs : 0;
  }
}
