/**
 * The worker function both survey queues share: events in, `store.apply(batch)` out.
 * BullMQ hands a processor one job at a time, so the writer group-commits: writes that
 * arrive while a transaction is running wait and go together in the next one. Under load
 * a batch holds up to the worker's concurrency; when idle, an event is written at once
 * (no linger timer adds latency). bench/stats-pipeline.ts measures what this buys.
 *
 * @example
 * const writer = new SurveyBatchWriter(store);
 * await writer.write(event); // resolves once the event's transaction committed
 */
import type { SurveyEvent } from "./events.ts";
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
}

/** The part of the store port the write path uses; workers need nothing else. */
export type SurveyWriteStore = Pick<SurveyStore, "migrate" | "apply" | "close">;

interface Pending {
  event: SurveyEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class SurveyBatchWriter {
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private pending: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Transactions and events written so far: batches / events is the mean batch size. */
  /** `salvaged`: events stored without their comment because the database refused it (see applyOne). */
  readonly stats = { batches: 0, events: 0, salvaged: 0 };

  constructor(
    private readonly store: SurveyWriteStore,
    o: SurveyBatchWriterOptions = {},
  ) {
    this.maxBatch = o.maxBatch ?? 500;
    this.maxInFlight = o.maxInFlight ?? 2;
  }

  /** Resolves once the event is stored; rejects with the store's error for this event. */
  write(event: SurveyEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.pump();
      else if (!this.scheduled) {
        // Let the jobs BullMQ handed over in the same tick join one batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves when every write so far has settled. */
  async drain(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      void this.applyBatch(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.pending.length === 0 && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async applyBatch(batch: Pending[]): Promise<void> {
    try {
      await this.store.apply(batch.map((p) => p.event));
      this.count(batch.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      if (isTransient(err)) {
        // The database is away: every job retries on its own backoff; isolating would only hammer it.
        for (const p of batch) p.reject(err);
        return;
      }
      // Something in the batch was refused: write one by one so only the offending event fails.
      for (const p of batch) {
        try {
          await this.applyOne(p.event, batch.length === 1 ? err : undefined);
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  /**
   * Stores one event. When the database refuses it for its data (SQLSTATE class 22) even after
   * the store's own cleaning, the comment is the only free-form data an event carries: the event
   * is stored without it (flagged as sanitized), so a comment never takes its rating with it.
   * `failed` is the error a one-event batch already got (no need to try it again as it was).
   */
  private async applyOne(event: SurveyEvent, failed?: unknown): Promise<void> {
    let err = failed;
    if (err === undefined) {
      try {
        await this.store.apply([event]);
        this.count(1);
        return;
      } catch (e) {
        err = e;
      }
    }
    const salvaged = isDataError(err) ? withoutComment(event) : undefined;
    if (!salvaged) throw err;
    await this.store.apply([salvaged]);
    this.count(1);
    this.stats.salvaged++;
  }

  private count(events: number): void {
    this.stats.batches++;
    this.stats.events += events;
  }
}

/** Whether the database refused the data itself (SQLSTATE class 22: invalid text, JSON, numbers, ranges). */
export function isDataError(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("22");
}

/** The event without its comment, or undefined when it has none to drop. */
function withoutComment(event: SurveyEvent): SurveyEvent | undefined {
  if (event.comment === undefined || event.comment === "") return undefined;
  return { ...event, comment: "", commentSanitized: true };
}

const TRANSIENT_NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * Whether an error says the database is unavailable or busy (connection refused or lost,
 * shutting down, too many connections, deadlock, serialization) rather than that the data was refused.
 */
export function isTransient(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (TRANSIENT_NODE_CODES.has(code)) return true;
    if (/^(08|53|57|40)/.test(code) || code === "55P03") return true;
  }
  const message = (err as { message?: unknown }).message;
  return typeof message === "string" && /connection|terminat|timeout|timed out|not queryable|ECONNREFUSED/i.test(message);
}
