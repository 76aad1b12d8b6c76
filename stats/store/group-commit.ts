/**
 * Group commit, the one way botflow's hot write paths batch: items submitted while a batch is
 * being written wait and go together in the next one. Under load a batch holds what arrived
 * meanwhile (up to `maxBatch`); when idle an item is written at once, after the current tick
 * (no linger timer adds latency). The survey workers' writer (stats/worker-batch-writer.ts) and
 * the trigger API's insert (triggers/sql-trigger-store.ts) both run on it.
 *
 * Deliberately left out: retries and isolation. `commit` settles every item of its batch itself
 * (when one item's data is refused it decides whether to write the others one by one); a
 * `commit` that throws fails the whole batch with its error.
 *
 * @example
 * const inserts = new GroupCommit<Row, boolean>(async (rows) => (await insertMany(rows)).map((value) => ({ ok: true, value })));
 * const created = await inserts.submit(row); // resolves once its batch committed
 */

/** What `commit` says of one item of its batch, in the batch's order. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Items per batch at most (default 500). */
  maxBatch?: number;
  /**
   * Batches written at once (default 2): while one waits for its commit, the next is already
   * being written. A `commit` that locks must take its locks in a fixed order.
   */
  maxInFlight?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private pending: Pending<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly commit: (items: readonly T[]) => Promise<readonly Settled<R>[]>,
    o: GroupCommitOptions = {},
  ) {
    this.maxBatch = o.maxBatch ?? 500;
    this.maxInFlight = o.maxInFlight ?? 2;
  }

  /** Resolves with the item's result once its batch committed; rejects with its error. */
  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.pump();
      else if (!this.scheduled) {
        // Let what is submitted in the same tick (jobs handed over together, requests parsed together) join one batch.
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves when every item submitted so far has settled. */
  async drain(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.pending.length === 0 && this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async write(batch: Pending<T, R>[]): Promise<void> {
    let results: readonly Settled<R>[];
    try {
      results = await this.commit(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i];
      if (!r) p.reject(new Error(`group commit: the batch's commit settled ${results.length} of ${batch.length} items`));
      else if (r.ok) p.resolve(r.value);
      else p.reject(r.error);
    });
  }
}
