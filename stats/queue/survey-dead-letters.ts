/**
 * The dead letter of a survey queue: jobs that exhausted their attempts, or can never
 * succeed (malformed), are copied to the BullMQ queue `<name>-dead` under the same job id.
 * No worker consumes that queue, so its jobs stay in its wait list: inspectable with any
 * BullMQ tool and with `list()`, and re-playable with `replay()` once the cause is fixed.
 */
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { deadQueueName, type SurveyQueueSettings } from "./survey-queue-settings.ts";

/** What the dead letter keeps of a job. The event may contain comment text: never log it. */
export interface DeadSurveyJob {
  /** The original job id (`surveyJobId` of the event, when it was one). */
  jobId: string;
  /** The job's payload exactly as it was queued. */
  event: unknown;
  failedReason: string;
  attemptsMade: number;
  /** True when the job was dead-lettered without retries (malformed, or otherwise unrecoverable). */
  unrecoverable: boolean;
  deadAt: number;
}

export class SurveyDeadLetters {
  readonly queue: Queue<DeadSurveyJob>;

  constructor(connection: Redis, settings: Pick<SurveyQueueSettings, "name" | "prefix">) {
    this.queue = new Queue<DeadSurveyJob>(deadQueueName(settings.name), { connection, prefix: settings.prefix });
  }

  /** Keeps a failed job. Idempotent: putting the same job id twice keeps the first copy. */
  async put(job: DeadSurveyJob): Promise<void> {
    await this.queue.add("dead", job, { jobId: job.jobId, removeOnComplete: false, removeOnFail: false });
  }

  /** Dead jobs, oldest first. */
  async list(start = 0, end = -1): Promise<DeadSurveyJob[]> {
    const jobs = await this.queue.getJobs(["wait"], start, end, true);
    return jobs.flatMap((j) => (j?.data ? [j.data] : []));
  }

  async count(): Promise<number> {
    return this.queue.getJobCountByTypes("wait");
  }

  /**
   * Hands every job dead at the start of the call to `requeue`, oldest first, and removes
   * it from the dead letter once that resolved. A job that fails again and comes back while
   * the replay runs stays dead (no loop on a poison job). Stops at the first requeue that
   * throws (that job and the rest stay dead) and rethrows. Returns how many were handed back.
   * At-least-once: a crash between requeue and removal replays the job again later,
   * which the store's per-event idempotency absorbs.
   */
  async replay(requeue: (dead: DeadSurveyJob) => Promise<void>, page = 500): Promise<number> {
    const ids: string[] = [];
    for (let start = 0; ; start += page) {
      const jobs = await this.queue.getJobs(["wait"], start, start + page - 1, true);
      for (const j of jobs) if (j?.id) ids.push(j.id);
      if (jobs.length < page) break;
    }
    let replayed = 0;
    for (const id of ids) {
      const job = await this.queue.getJob(id);
      if (!job) continue;
      await requeue(job.data);
      await this.queue.remove(id);
      replayed++;
    }
    return replayed;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
