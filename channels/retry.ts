/**
 * The one retry policy of outbound channel work: bounded attempts, exponential backoff with full
 * jitter (a pause drawn from 0 up to `min(capMs, baseMs · 2^(attempt-1))`, so many callers that
 * failed together do not come back together), and a wait the far side asked for (`retry_after`,
 * Retry-After) honoured up to the cap. The sleep is injected, so tests check pauses without waiting.
 *
 * @example
 * const id = await retry(() => graph.post(message), { attempts: 4, baseMs: 500, capMs: 8_000, retryable: (e) => e instanceof ChannelError && e.retryable });
 */

export interface BackoffPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Ceiling of the first pause; doubles per retry. */
  baseMs: number;
  /** Longest pause, also the cap on a wait the far side asks for. */
  capMs: number;
}

export interface RetryOptions extends BackoffPolicy {
  /** Whether another attempt may help; default: every error. */
  retryable?: (err: unknown) => boolean;
  /** A wait the far side asked for (429 `retry_after`), in ms; it wins over a shorter jittered pause. */
  retryAfterMs?: (err: unknown) => number | undefined;
  /** True when the caller stops retrying early (shutting down). */
  stopped?: () => boolean;
  /** Hears of each failed attempt that will be retried, with the pause before the next. */
  onRetry?: (err: unknown, attempt: number, pauseMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1]; default Math.random. Tests pass `() => 1` to get each ceiling exactly. */
  random?: () => number;
}

/** Waits `ms` without keeping the process alive for it. */
export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The ceiling of the pause after failed attempt `attempt` (1-based): `min(capMs, baseMs · 2^(attempt-1))`. */
export function backoffCeilingMs(attempt: number, policy: Pick<BackoffPolicy, "baseMs" | "capMs">): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The pause after failed attempt `attempt`: full jitter under the ceiling, at least `retryAfterMs`, at most `capMs`. */
export function backoffMs(attempt: number, policy: Pick<BackoffPolicy, "baseMs" | "capMs">, random: () => number = Math.random, retryAfterMs?: number): number {
  const jittered = Math.round(Math.min(1, Math.max(0, random())) * backoffCeilingMs(attempt, policy));
  return Math.min(policy.capMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** Runs `fn` until it resolves, an error is not retryable, the attempts run out or the caller stopped; rejects with the last error. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const sleep = o.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= o.attempts || o.stopped?.() === true || (o.retryable !== undefined && !o.retryable(err))) throw err;
      const pause = backoffMs(attempt, o, o.random, o.retryAfterMs?.(err));
      o.onRetry?.(err, attempt, pause);
      await sleep(pause);
    }
  }
}
