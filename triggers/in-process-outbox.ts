/**
 * The embedded default's outbox: jobs in this process's memory, one timer per delayed job, at most
 * `concurrency` running per channel. Memory is enough because the trigger store (PGlite in the data
 * folder) holds every scheduled trigger: after a restart TriggerService.recover() adds them again.
 *
 * @example
 * const outbox = new InProcessOutbox({ settings: { concurrency: 4 } });
 */
import { errorSummary } from "../engine/errors.ts";
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

export interface InProcessOutboxOptions {
  settings?: Partial<OutboxSettings>;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
  /** Ids of finished jobs remembered against re-adds (default 10,000). */
  keepDone?: number;
  /** Dead jobs kept (default 1,000). */
  keepDead?: number;
  /** How logs and errors name the jobs (default the trigger outbox's). */
  wording?: OutboxWording;
}

/** setTimeout's longest delay; a trigger up to a year ahead waits in steps of it. */
const MAX_TIMER_MS = 2_147_483_647;

interface Held<P> {
  job: OutboxJob<P>;
  state: "delayed" | "waiting" | "active";
  timer?: NodeJS.Timeout;
}

export class InProcessOutbox<P = TriggerPayload> implements Outbox<P> {
  private readonly settings: OutboxSettings;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly keepDone: number;
  private readonly keepDead: number;
  private readonly wording: OutboxWording;
  private readonly held = new Map<string, Held<P>>();
  private readonly waiting = new Map<string, OutboxJob<P>[]>();
  private readonly active = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private readonly done = new Set<string>();
  private readonly dead = new Map<string, DeadTrigger & { job: OutboxJob<P> }>();
  private handlers: OutboxHandlers<P> | undefined;
  private closed = false;

  constructor(o: InProcessOutboxOptions = {}) {
    this.settings = { ...DEFAULT_OUTBOX, ...o.settings };
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.random = o.random ?? Math.random;
    this.keepDone = o.keepDone ?? 10_000;
    this.keepDead = o.keepDead ?? 1_000;
    this.wording = o.wording ?? TRIGGER_WORDING;
  }

  async add(entry: OutboxEntry<P>): Promise<{ added: boolean }> {
    if (this.closed) throw new OutboxClosedError(this.wording.noun);
    if (this.held.has(entry.id) || this.done.has(entry.id) || this.dead.has(entry.id)) return { added: false };
    const job: OutboxJob<P> = { id: entry.id, channel: entry.channel, runAt: entry.runAt ?? this.clock.now(), payload: entry.payload, attempt: 1 };
    this.schedule(job);
    return { added: true };
  }

  start(handlers: OutboxHandlers<P>): void {
    if (this.handlers) return;
    this.handlers = handlers;
    for (const channel of this.waiting.keys()) this.pump(channel);
  }

  async counts(): Promise<OutboxCounts> {
    const c = { waiting: 0, delayed: 0, active: 0, dead: this.dead.size };
    for (const h of this.held.values()) c[h.state]++;
    return c;
  }

  async deadLetters(limit: number): Promise<DeadTrigger[]> {
    return [...this.dead.values()]
      .reverse()
      .slice(0, limit)
      .map(({ job: _job, ...d }) => d);
  }

  async retryDead(id: string): Promise<boolean> {
    const d = this.dead.get(id);
    if (!d || this.closed) return false;
    this.dead.delete(id);
    this.schedule({ ...d.job, attempt: 1, runAt: this.clock.now() });
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const h of this.held.values()) if (h.timer) clearTimeout(h.timer);
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private schedule(job: OutboxJob<P>): void {
    const wait = job.runAt - this.clock.now();
    if (wait <= 0) {
      this.held.set(job.id, { job, state: "waiting" });
      this.enqueue(job);
      return;
    }
    const held: Held<P> = { job, state: "delayed" };
    held.timer = setTimeout(() => {
      if (this.closed) return;
      if (job.runAt - this.clock.now() > 0 && wait > MAX_TIMER_MS) return this.schedule(job); // a long wait, in steps
      held.state = "waiting";
      delete held.timer;
      this.enqueue(job);
    }, Math.min(wait, MAX_TIMER_MS));
    held.timer.unref();
    this.held.set(job.id, held);
  }

  private enqueue(job: OutboxJob<P>): void {
    const queue = this.waiting.get(job.channel) ?? [];
    queue.push(job);
    this.waiting.set(job.channel, queue);
    this.pump(job.channel);
  }

  /** Starts waiting jobs of `channel` up to the concurrency. */
  private pump(channel: string): void {
    const handlers = this.handlers;
    const queue = this.waiting.get(channel);
    if (!handlers || !queue) return;
    while (!this.closed && queue.length > 0 && (this.active.get(channel) ?? 0) < this.settings.concurrency) {
      const job = queue.shift() as OutboxJob<P>;
      const held = this.held.get(job.id);
      if (held) held.state = "active";
      this.active.set(channel, (this.active.get(channel) ?? 0) + 1);
      const run = this.run(handlers, job).finally(() => {
        this.running.delete(run);
        this.active.set(channel, (this.active.get(channel) ?? 1) - 1);
        this.pump(channel);
      });
      this.running.add(run);
    }
    if (queue.length === 0) this.waiting.delete(channel);
  }

  private async run(handlers: OutboxHandlers<P>, job: OutboxJob<P>): Promise<void> {
    try {
      await handlers.handle(job);
      this.held.delete(job.id);
      this.remember(job.id);
    } catch (err) {
      const next = afterFailure(err, job.attempt, this.settings, this.random);
      if (next.retry) {
        this.log.warn({ [this.wording.noun]: job.id, channel: job.channel, attempt: job.attempt, retryInMs: next.delayMs, err: errorSummary(err) }, `${this.wording.failure}; retrying`);
        this.held.delete(job.id);
        if (!this.closed) this.schedule({ ...job, attempt: job.attempt + 1, runAt: this.clock.now() + next.delayMs });
        return;
      }
      this.held.delete(job.id);
      this.dead.set(job.id, { id: job.id, channel: job.channel, attempts: job.attempt, reason: next.reason, deadAt: this.clock.now(), job });
      for (const id of this.dead.keys()) {
        if (this.dead.size <= this.keepDead) break;
        this.dead.delete(id);
      }
      await handlers.failed(job, next.reason).catch((e: unknown) => this.log.error({ [this.wording.noun]: job.id, err: errorSummary(e) }, `could not record a failed ${this.wording.noun}`));
    }
  }

  private remember(id: string): void {
    this.done.add(id);
    for (const old of this.done) {
      if (this.done.size <= this.keepDone) break;
      this.done.delete(old);
    }
  }
}
