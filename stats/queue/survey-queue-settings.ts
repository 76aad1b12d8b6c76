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
  /** Completed jobs kept (newest first) so a re-queued event is still recognised as a duplicate for a while. */
  keepCompleted: number;
  /** Failed jobs kept in the main queue; the dead letter keeps its own copies regardless. */
  keepFailed: number;
}

export const DEFAULT_SURVEY_QUEUE: SurveyQueueSettings = {
  name: "botflow-surveys",
  prefix: "bull",
  attempts: 8,
  backoffMs: 1_000,
  keepCompleted: 10_000,
  keepFailed: 10_000,
};

/** The dead-letter queue's name for a survey queue. */
export function deadQueueName(name: string): string {
  return `${name}-dead`;
}

/** Delay before retry number `retry` (1-based), the same curve BullMQ's exponential backoff draws. */
export function backoffDelay(retry: number, baseMs: number): number {
  return Math.round(baseMs * 2 ** Math.max(0, retry - 1));
}
