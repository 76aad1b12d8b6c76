/**
 * The settings producers and workers of one BullMQ survey queue share. Producers and
 * workers must agree on `name` and `prefix`; the rest only the side that uses it reads.
 */

export interface SurveyQueueSettings {
  /** BullMQ queue name; the dead letter is `<name>-dead`. */
  name: string;
  /** Redis key prefix (BullMQ's `prefix`); tests use their own so runs never meet. */
  prefix: string;
  /**
   * Tries per job, the first included, before it goes to the dead letter. A statistics store
   * outage uses none: the worker holds its jobs until the store answers again (stats/worker.ts).
   */
  attempts: number;
  /** First retry delay; each further retry doubles it (BullMQ's exponential backoff). */
  backoffMs: number;
  /**
   * Completed jobs kept (newest first): what the queue view and `jobLatency()` read (its sample is
   * JOB_LATENCY_SAMPLE), and the window in which a re-queued job is recognised as a duplicate
   * without reaching the store (past it the store's per-event idempotency counts it once). A job
   * holds an update's events, comments included, so fewer kept is less personal data in Redis.
   */
  keepCompleted: number;
  /** Failed jobs kept in the main queue; the dead letter keeps its own copies regardless. */
  keepFailed: number;
}

export const DEFAULT_SURVEY_QUEUE: SurveyQueueSettings = {
  name: "botflow-surveys",
  prefix: "bull",
  attempts: 8,
  backoffMs: 1_000,
  keepCompleted: 1_000,
  keepFailed: 10_000,
};

/**
 * BullMQ's events stream (XADD on every add, fetch and finish) is read by nothing in botflow
 * (the queue view and /metrics read counts and job hashes): kept short, it costs Redis no memory
 * to speak of. BullMQ's default is 10,000 entries. The producer's Queue writes it into the queue's
 * meta hash, where the workers' scripts read it.
 */
export const EVENTS_STREAM_MAX_LEN = 100;

/** The dead-letter queue's name for a survey queue. */
export function deadQueueName(name: string): string {
  return `${name}-dead`;
}

/** Delay before retry number `retry` (1-based), the same curve BullMQ's exponential backoff draws. */
export function backoffDelay(retry: number, baseMs: number): number {
  return Math.round(baseMs * 2 ** Math.max(0, retry - 1));
}
