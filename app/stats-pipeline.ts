/**
 * The one place that picks the statistics pipeline: which SurveyQueue the runtime's
 * statistic__set action and tracker write to, and which store sits behind it.
 *
 * Embedded default: the in-process queue writing to PGlite under BOTFLOW_DATA_DIR.
 * Production: BullMQ on Redis; `botflow worker` processes write to PostgreSQL.
 * Until those land in stats/, survey events are kept in a bounded in-memory list
 * (see MemorySurveyQueue) and the start log says so plainly.
 */
import type { Logger } from "../engine/ports.ts";
import type { SurveyEvent, SurveyQueue } from "../stats/events.ts";
import type { AppConfig } from "./config.ts";
import type { ReadinessCheck } from "./readiness.ts";

export interface StatsPipeline {
  queue: SurveyQueue;
  /** What is wired, for the start log and /readyz (`memory`, `in-process + PGlite at …`). */
  description: string;
  checks: ReadinessCheck[];
  /** Closes the queue (waiting for events in flight), then the store. */
  close(): Promise<void>;
}

/** Builds the pipeline for `config`; rejects with a plain message when a store cannot be opened. */
export async function createStatsPipeline(config: AppConfig, logger: Logger): Promise<StatsPipeline> {
  const queue = new MemorySurveyQueue();
  logger.warn(
    { statistics: "memory", dataDir: config.dataDir },
    "statistics store not wired in this build yet: survey events are kept in memory only and are lost on exit",
  );
  return {
    queue,
    description: "in memory (not stored)",
    checks: [{ name: "survey-queue", check: async () => queue.assertOpen() }],
    close: () => queue.close(),
  };
}

/** Keeps the latest survey events in memory (bounded); a stand-in until the PGlite store is wired. */
export class MemorySurveyQueue implements SurveyQueue {
  readonly events: SurveyEvent[] = [];
  private closed = false;

  constructor(private readonly limit = 10_000) {}

  async add(event: SurveyEvent): Promise<void> {
    this.assertOpen();
    this.events.push(event);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }

  assertOpen(): void {
    if (this.closed) throw new Error("the survey queue is closed");
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
