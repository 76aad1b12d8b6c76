/**
 * What a survey queue reports of its job latency, the same in every mode so /metrics and its
 * dashboards read alike: how long the event next in line has waited (queue lag), and how long
 * recently stored events took from being queued to being stored (a bounded sample).
 *
 * @example
 * const { oldestWaitingSeconds, recentSeconds } = await queue.jobLatency();
 * const p90 = latencyQuantile([...recentSeconds].sort((a, b) => a - b), 0.9);
 */

export interface SurveyJobLatency {
  /** Age in seconds of the oldest event queued and not yet taken (0 when none waits). */
  oldestWaitingSeconds: number;
  /** Queued-to-stored seconds of the most recently stored events, at most a bounded sample of them, in no set order. */
  recentSeconds: number[];
}

/** How many recent events a latency sample holds by default: enough for a p99, cheap to read at every scrape. */
export const JOB_LATENCY_SAMPLE = 200;

/**
 * The `q` quantile (0..1) of ascending `sorted` values by the nearest-rank method, so it is
 * always one of the observed values and quantiles never cross; NaN for an empty sample.
 */
export function latencyQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** The last `size` latencies, oldest overwritten first; no allocation per observation. */
export class LatencyRing {
  private readonly values: number[] = [];
  private next = 0;

  constructor(private readonly size: number = JOB_LATENCY_SAMPLE) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a latency sample holds at least one value; got ${size}`);
  }

  push(seconds: number): void {
    if (this.values.length < this.size) this.values.push(seconds);
    else this.values[this.next] = seconds;
    this.next = (this.next + 1) % this.size;
  }

  /** A copy of the values held, in no set order. */
  snapshot(): number[] {
    return [...this.values];
  }
}
