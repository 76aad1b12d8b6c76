/**
 * The worker function both survey queues share: events in, `store.apply(batch)` out.
 * BullMQ hands a processor one job at a time, so the writer group-commits (store/group-commit.ts):
 * writes that arrive while a transaction is running wait and go together in the next one. Under
 * load a batch holds up to the worker's concurrency; when idle, an event is written at once
 * (no linger timer adds latency). bench/stats-pipeline.ts measures what this buys.
 *
 * `afterCommit` is the one place both survey queues (the BullMQ worker and the in-process queue)
 * pass once events are stored: outgoing webhooks are queued there (webhooks/webhook-dispatcher.ts).
 * A write resolves only after its hook did, so a job is acknowledged only once what follows its
 * commit is queued too; a hook that fails fails the write, the job is retried, and the store's
 * per-event idempotency makes the repeat harmless (the hook then runs again: it must dedupe).
 *
 * @example
 * const writer = new SurveyBatchWriter(store);
 * await writer.write(event); // resolves once the event's transaction committed
 */
import type { SurveyEvent } from "./events.ts";
import { GroupCommit, type Settled } from "./store/group-commit.ts";
import { isDataError, isTransient } from "./store/sql-errors.ts";
import type { SurveyStore } from "./store/survey-store.ts";

export interface SurveyBatchWriterOptions {
  /** Events per transaction at most. */
  maxBatch?: number;
  /**
   * Transactions running at once (default 2): while one waits for its commit to reach disk,
   * the next is already being written. The store takes its locks in a fixed order, so
   * overlapping batches wait for each other rather than deadlock.
   */
  maxInFlight?: number;
  /**
   * Runs after the transaction holding `events` committed (events as stored: a salvaged one
   * without its comment), before their writes resolve. Runs again for a redelivered event.
   */
  afterCommit?: (events: readonly SurveyEvent[]) => Promise<void>;
}

/** The part of the store port the write path uses; workers need nothing else. */
export type SurveyWriteStore = Pick<SurveyStore, "migrate" | "apply" | "close">;

export class SurveyBatchWriter {
  private readonly commits: GroupCommit<SurveyEvent, void>;
  /** Transactions and events written so far: batches / events is the mean batch size. */
  /** `salvaged`: events stored without their comment because the database refused it (see applyOne). */
  readonly stats = { batches: 0, events: 0, salvaged: 0 };
  private readonly afterCommit: ((events: readonly SurveyEvent[]) => Promise<void>) | undefined;

  constructor(
    private readonly store: SurveyWriteStore,
    o: SurveyBatchWriterOptions = {},
  ) {
    this.afterCommit = o.afterCommit;
    this.commits = new GroupCommit((events) => this.applyBatch(events), { maxBatch: o.maxBatch ?? 500, maxInFlight: o.maxInFlight ?? 2 });
  }

  /** Resolves once the event is stored; rejects with the store's error for this event. */
  write(event: SurveyEvent): Promise<void> {
    return this.commits.submit(event);
  }

  /** Resolves when every write so far has settled. */
  drain(): Promise<void> {
    return this.commits.drain();
  }

  private async applyBatch(batch: readonly SurveyEvent[]): Promise<Settled<void>[]> {
    try {
      await this.store.apply(batch);
    } catch (err) {
      return this.applyApart(batch, err);
    }
    this.count(batch.length);
    try {
      await this.afterCommit?.(batch);
      return batch.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      // Stored, but what follows the commit is not queued: every job retries (the store absorbs the repeat).
      return batch.map(() => ({ ok: false, error: err }));
    }
  }

  /** The batch's transaction failed with `err`. */
  private async applyApart(batch: readonly SurveyEvent[], err: unknown): Promise<Settled<void>[]> {
    // The database is away: every job retries on its own backoff; isolating would only hammer it.
    if (isTransient(err)) return batch.map(() => ({ ok: false, error: err }));
    // Something in the batch was refused: write one by one so only the offending event fails.
    const settled: Settled<void>[] = [];
    for (const event of batch) {
      try {
        const stored = await this.applyOne(event, batch.length === 1 ? err : undefined);
        await this.afterCommit?.([stored]);
        settled.push({ ok: true, value: undefined });
      } catch (e) {
        settled.push({ ok: false, error: e });
      }
    }
    return settled;
  }

  /**
   * Stores one event. When the database refuses it for its data (SQLSTATE class 22) even after
   * the store's own cleaning, the comment is the only free-form data an event carries: the event
   * is stored without it (flagged as sanitized), so a comment never takes its rating with it.
   * `failed` is the error a one-event batch already got (no need to try it again as it was).
   * Resolves to the event as stored.
   */
  private async applyOne(event: SurveyEvent, failed?: unknown): Promise<SurveyEvent> {
    let err = failed;
    if (err === undefined) {
      try {
        await this.store.apply([event]);
        this.count(1);
        return event;
      } catch (e) {
        err = e;
      }
    }
    const salvaged = isDataError(err) ? withoutComment(event) : undefined;
    if (!salvaged) throw err;
    await this.store.apply([salvaged]);
    this.count(1);
    this.stats.salvaged++;
    return salvaged;
  }

  private count(events: number): void {
    this.stats.batches++;
    this.stats.events += events;
  }
}

/** The event without its comment, or undefined when it has none to drop. */
function withoutComment(event: SurveyEvent): SurveyEvent | undefined {
  if (event.comment === undefined || event.comment === "") return undefined;
  return { ...event, comment: "", commentSanitized: true };
}
