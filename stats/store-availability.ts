/**
 * Whether the statistics store answers, as the worker sees it. The first write that fails
 * because the store is away (`isTransient`, and a probe at once does not answer either:
 * `confirmDown`) starts an outage: one warning, then a single
 * probe loop on a capped exponential backoff with jitter; meanwhile callers wait in
 * `whenUp()` instead of retrying on their own. The first probe that succeeds ends it: one
 * info line with the outage's length and the probes it took, and every waiter goes on at once.
 *
 * @example
 * const availability = new StoreAvailability({ store: "postgres", probe: () => store.ping(), logger });
 * try { await write(); } catch (err) { if (isTransient(err) && (await availability.confirmDown(err))) await availability.whenUp(); else throw err; }
 */
import { errorSummary } from "../engine/errors.ts";
import { silentLogger, systemClock, type Clock, type Logger } from "../engine/ports.ts";
import { retryDelay, STORE_RETRY_BACKOFF, type RetryBackoff } from "./retry-backoff.ts";

export interface StoreAvailabilityOptions {
  /** The store's name in logs and in `botflow_store_up{store}`: "postgres", "pglite". */
  store: string;
  /** Resolves when the store answers (a `select 1`); rejects otherwise. */
  probe: () => Promise<void>;
  /** Default STORE_RETRY_BACKOFF: probes 100–200 ms after the failure, then doubling, then every 0.5–1 s. */
  backoff?: RetryBackoff;
  /** A probe that has not answered by then counts as failed (a network that drops packets); default 5 s. */
  probeTimeoutMs?: number;
  /** Hears the outage begin (false) and end (true), before the waiters go on. */
  onChange?: (up: boolean) => void;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
}

/** `whenUp()` waiters get this when the availability is closed while the store is still away. */
export class StoreAvailabilityClosedError extends Error {
  override readonly name = "StoreAvailabilityClosedError";
}

export class StoreAvailability {
  /** False from the first failure of an outage until a probe succeeds. */
  up = true;
  /** Outages seen so far. */
  outages = 0;
  /** Probes sent in the current outage (all outages: `totalProbes`). */
  probes = 0;
  totalProbes = 0;
  private since = 0;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<boolean> | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly backoff: RetryBackoff;

  constructor(private readonly o: StoreAvailabilityOptions) {
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
    this.backoff = o.backoff ?? STORE_RETRY_BACKOFF;
  }

  /** Reports that an operation failed because the store is away; the first report of an outage starts it. */
  down(err: unknown): void {
    if (!this.up) return;
    if (this.closed) {
      this.up = false; // closing: nobody probes any more, waiters hand their work back
      return;
    }
    this.up = false;
    this.outages++;
    this.probes = 0;
    this.since = this.clock.now();
    this.log.warn(
      { store: this.o.store, err: errorSummary(err), probeEveryMaxMs: this.backoff.capMs },
      "statistics store unreachable: holding survey jobs (no attempts used) and probing it with backoff",
    );
    this.o.onChange?.(false);
    this.schedule(retryDelay(1, this.backoff, this.o.random));
  }

  /**
   * After a failure that may mean the store is away (`isTransient`): true when it is — an
   * outage starts, or is on — and false when a probe answers at once, so the failure was the
   * operation's own (a deadlock, a lock timeout, a slow statement) and should be retried as one.
   * Callers failing together share one probe.
   */
  async confirmDown(err: unknown): Promise<boolean> {
    if (this.up && !this.closed) {
      this.checking ??= this.probeOnce().then(
        () => true,
        () => false,
      ).finally(() => (this.checking = undefined));
      if (await this.checking) return false;
    }
    this.down(err);
    return true;
  }

  /** Resolves at once while up, otherwise when a probe succeeds; rejects once closed during an outage. */
  whenUp(): Promise<void> {
    if (this.up) return Promise.resolve();
    if (this.closed) return Promise.reject(new StoreAvailabilityClosedError(`the ${this.o.store} store was still unreachable when the worker closed`));
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Stops probing; waiters of an outage in progress are rejected with StoreAvailabilityClosedError. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const err = new StoreAvailabilityClosedError(`the ${this.o.store} store was still unreachable when the worker closed`);
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.probe(), delayMs);
  }

  /** One probe, bounded by `probeTimeoutMs`. */
  private async probeOnce(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.o.probeTimeoutMs ?? 5_000;
    try {
      await Promise.race([
        this.o.probe(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`probe got no answer within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async probe(): Promise<void> {
    this.timer = undefined;
    this.probes++;
    this.totalProbes++;
    try {
      await this.probeOnce();
    } catch (err) {
      if (this.closed) return;
      this.log.debug({ store: this.o.store, probe: this.probes, err: errorSummary(err) }, "statistics store probe failed");
      // A driver that is itself backing off says when its next real attempt goes out: no sooner.
      const driverWait = (err as { retryInMs?: unknown } | null)?.retryInMs;
      this.schedule(Math.max(retryDelay(this.probes + 1, this.backoff, this.o.random), typeof driverWait === "number" ? driverWait + 1 : 0));
      return;
    }
    if (this.closed) return;
    this.up = true;
    this.log.info({ store: this.o.store, outageMs: this.clock.now() - this.since, probes: this.probes }, "statistics store is back: survey jobs go on");
    this.o.onChange?.(true);
    for (const w of this.waiters.splice(0)) w.resolve();
  }
}
