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
  readonly stats = { batches: 0, events: 0 };

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
      this.stats.batches++;
      this.stats.events += batch.length;
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1 || isTransient(err)) {
        // The database is away: every job retries on its own backoff; isolating would only hammer it.
        for (const p of batch) p.reject(err);
        return;
      }
      // Something in the batch was refused: write one by one so only the offending event fails.
      for (const p of batch) {
        try {
          await this.store.apply([p.event]);
          this.stats.batches++;
          this.stats.events++;
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
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
