/**
 * The embedded default survey queue (no Redis configured): the same batch writer and
 * store port as the BullMQ worker, run inside the web or CLI process.
 *
 * Writes are group-committed (the batch writer): the events of every request in flight go
 * into one PGlite transaction, and `addBatch` (one inbound update's events) waits for one
 * commit, not one per event, so concurrent requests do not queue behind each other's commits.
 *
 * Trade-off, chosen deliberately: `add` resolves only once the event is stored, not
 * once it sits in memory. The caller (a conversation step) waits one group-committed
 * transaction, a few milliseconds on PGlite, and in exchange a crash never loses an
 * acknowledged event, because nothing acknowledged lives only in memory. The other choice
 * (resolve at once, drain on close) would be faster to the caller and lose whatever was
 * queued when the process died. Retries back off exponentially in process; an event
 * that exhausts them rejects its `add` and stays in an in-memory dead letter for
 * `replayDead()` while the process lives.
 *
 * @example
 * const queue = new InProcessSurveyQueue(store);
 * await queue.add(event); // stored
 * await queue.close();    // waits for adds in flight; the store stays open (the caller owns it)
 */
import { BotflowError } from "../../engine/errors.ts";
import { silentLogger, systemClock, type Clock, type Logger } from "../../engine/ports.ts";
import { surveyJobId, type SurveyEvent, type SurveyQueue } from "../events.ts";
import { SurveyBatchWriter, type SurveyBatchWriterOptions, type SurveyWriteStore } from "../worker-batch-writer.ts";
import { parseSurveyEvent } from "./parse-survey-event.ts";
import { JOB_LATENCY_SAMPLE, LatencyRing, type SurveyJobLatency } from "./survey-job-latency.ts";
import { backoffDelay } from "./survey-queue-settings.ts";

export interface InProcessSurveyQueueOptions {
  /** Tries per event, the first included. */
  attempts?: number;
  /** First retry delay; doubles with each further retry. */
  backoffMs?: number;
  /** How to wait between retries; tests pass one that does not sleep. */
  sleep?: (ms: number) => Promise<void>;
  batch?: SurveyBatchWriterOptions;
  logger?: Logger;
  /** Times events from add to stored, for `jobLatency()`. */
  clock?: Clock;
  /** How many recently stored events `jobLatency()` reports (default JOB_LATENCY_SAMPLE). */
  latencySample?: number;
}

/** An in-process dead letter entry. The event may contain comment text: never log it. */
export interface InProcessDeadEvent {
  event: SurveyEvent;
  failedReason: string;
  attemptsMade: number;
}

/** The queue is closed; the event was not taken. */
export class SurveyQueueClosedError extends BotflowError {
  constructor() {
    super("SURVEY_QUEUE_CLOSED", "the survey queue is closed and takes no more events; add events before close()");
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class InProcessSurveyQueue implements SurveyQueue {
  readonly writer: SurveyBatchWriter;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger;
  /** Adds in flight by job id: the same event added again while it runs joins the first add. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly dead = new Map<string, InProcessDeadEvent>();
  private readonly clock: Clock;
  /** When each add in flight was taken, in insertion order: the first is the oldest. */
  private readonly queuedAt = new Map<string, number>();
  private readonly latencies: LatencyRing;
  private closed = false;

  constructor(store: SurveyWriteStore, o: InProcessSurveyQueueOptions = {}) {
    this.writer = new SurveyBatchWriter(store, o.batch);
    this.attempts = o.attempts ?? 5;
    this.backoffMs = o.backoffMs ?? 200;
    this.sleep = o.sleep ?? defaultSleep;
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.latencies = new LatencyRing(o.latencySample ?? JOB_LATENCY_SAMPLE);
  }

  /** Resolves once the event is stored; rejects when it is malformed or every attempt failed. */
  add(event: SurveyEvent): Promise<void> {
    if (this.closed) return Promise.reject(new SurveyQueueClosedError());
    let checked: SurveyEvent;
    try {
      checked = parseSurveyEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.addChecked(checked);
  }

  /**
   * Resolves once every event of the batch is stored (submitted together, they share the
   * transaction with each other and with whatever else is in flight); rejects before storing any
   * when one is malformed, and when one exhausted its attempts (the others are stored).
   */
  async addBatch(events: readonly SurveyEvent[]): Promise<void> {
    if (this.closed) throw new SurveyQueueClosedError();
    const checked = events.map(parseSurveyEvent);
    const settled = await Promise.allSettled(checked.map((e) => this.addChecked(e)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private addChecked(checked: SurveyEvent): Promise<void> {
    const id = surveyJobId(checked);
    const running = this.inFlight.get(id);
    if (running) return running;
    const queuedAt = this.clock.now();
    this.queuedAt.set(id, queuedAt);
    const p = this.store(checked, id)
      .then(() => this.latencies.push(Math.max(0, this.clock.now() - queuedAt) / 1000))
      .finally(() => {
        this.inFlight.delete(id);
        this.queuedAt.delete(id);
      });
    this.inFlight.set(id, p);
    return p;
  }

  /**
   * Job latency in process: an event waits from `add` until it is stored (retries
   * included), so the oldest waiting is the oldest add in flight, and the sample is the
   * add-to-stored time of the most recently stored events.
   */
  jobLatency(): SurveyJobLatency {
    const oldest = this.queuedAt.values().next();
    return {
      oldestWaitingSeconds: oldest.done ? 0 : Math.max(0, this.clock.now() - oldest.value) / 1000,
      recentSeconds: this.latencies.snapshot(),
    };
  }

  /** Events that exhausted their attempts, oldest first. */
  deadLetters(): InProcessDeadEvent[] {
    return [...this.dead.values()];
  }

  /** Tries every dead event again with fresh attempts; returns how many were stored. */
  async replayDead(): Promise<number> {
    let stored = 0;
    for (const [id, d] of [...this.dead]) {
      this.dead.delete(id);
      try {
        await this.add(d.event);
        stored++;
      } catch {
        // add() put it back in the dead letter with the new reason.
      }
    }
    return stored;
  }

  /** Takes no more events and resolves when every add in flight has settled. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight.values()]);
    await this.writer.drain();
  }

  private async store(event: SurveyEvent, id: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.writer.write(event);
        return;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (attempt >= this.attempts) {
          this.dead.set(id, { event, failedReason: message, attemptsMade: attempt });
          this.log.error({ jobId: id, kind: event.kind, attempts: attempt, err: message }, "survey event could not be stored after every attempt; kept in the in-process dead letter");
          throw err;
        }
        this.log.warn({ jobId: id, kind: event.kind, attempt, attempts: this.attempts, err: message }, "survey event could not be stored; retrying");
        await this.sleep(backoffDelay(attempt, this.backoffMs));
      }
    }
  }
}
