/**
 * Connection attempts to a server that may be away, spaced by a capped exponential backoff
 * with jitter. While the last attempt failed and its delay has not passed, or one trial
 * attempt is already on its way, `attempt` fails at once with ConnectBackoffError and the
 * server sees nothing: a pool asked for 50 connections while PostgreSQL is down knocks about
 * once a second, not 50 times per retry. The first success clears it. Callers that started
 * before the first failure was known still go out (at most the pool's size).
 *
 * @example
 * const connects = new ConnectBackoff({ backoff: STORE_RETRY_BACKOFF, clock: systemClock, what: "PostgreSQL" });
 * const client = await connects.attempt(() => pool.connect());
 */
import type { Clock } from "../../engine/ports.ts";
import { retryDelay, type RetryBackoff } from "../retry-backoff.ts";

export interface ConnectBackoffOptions {
  backoff: RetryBackoff;
  clock: Clock;
  /** Names the server in error messages. */
  what: string;
  random?: () => number;
}

/**
 * A connection was not even attempted: the previous attempts failed and the next is not due.
 * Carries the last attempt's error code (ECONNREFUSED, 57P03 …) so callers classify it as the
 * underlying failure; `retryInMs` says when the next real attempt may go out.
 */
export class ConnectBackoffError extends Error {
  override readonly name = "ConnectBackoffError";
  readonly code: string;
  constructor(
    what: string,
    cause: unknown,
    readonly retryInMs: number,
    readonly failures: number,
  ) {
    const reason = cause instanceof Error ? cause.message || cause.name : String(cause);
    super(`${what} connection attempts are backing off after ${failures} failure(s) (last: ${reason}); next attempt in ${retryInMs} ms`, { cause });
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === "string" ? code : "ECONNREFUSED";
  }
}

export class ConnectBackoff {
  /** Failed attempts in a row; 0 while connecting works. */
  failures = 0;
  /** Attempts that reached the network (tests and metrics). */
  attempts = 0;
  private retryAt = 0;
  private trial = false;
  private lastError: unknown;

  constructor(private readonly o: ConnectBackoffOptions) {}

  /**
   * Connects unless attempts are backing off. `force` goes out regardless (the worker's outage
   * probe, which keeps its own backoff); its outcome counts like any other attempt.
   */
  async attempt<T>(connect: () => Promise<T>, force = false): Promise<T> {
    if (this.failures > 0 && !force) {
      const wait = this.retryAt - this.o.clock.now();
      if (wait > 0 || this.trial) throw new ConnectBackoffError(this.o.what, this.lastError, Math.max(0, wait), this.failures);
    }
    if (this.failures > 0) this.trial = true; // half-open: one attempt tells whether the server is back
    this.attempts++;
    try {
      const c = await connect();
      this.failures = 0;
      return c;
    } catch (err) {
      this.failures++;
      this.lastError = err;
      this.retryAt = this.o.clock.now() + retryDelay(this.failures, this.o.backoff, this.o.random);
      throw err;
    } finally {
      this.trial = false;
    }
  }
}
