/**
 * The production survey queue: a BullMQ producer on ioredis. The events of one inbound update
 * (`addBatch`) are one job, `{ events: [...] }` with the id `surveyBatchJobId(events)`; updates
 * whose batches arrive while a job is being added share the next one (a group commit, as the
 * worker's writer does), each caller resolved only once that job is in Redis. A single event
 * (`add`, or a batch of one) is a job of the shape every earlier version queued: the event itself,
 * id `surveyJobId(event)`. A job queued twice while the first copy is waiting, running or among
 * the kept completed jobs is one job; past that window, and for events that meet again in another
 * batch, the store's per-event idempotency counts each event once.
 *
 * Every job costs a few dozen Redis commands between producer and worker (BullMQ's add, fetch
 * and finish scripts), whatever it carries: that is why an update is one job, and why
 * concurrent updates share one (bench/redis-commands.ts).
 *
 * @example
 * const queue = new BullmqSurveyQueue({ connection: new Redis(url), settings: { prefix: "botflow" } });
 * await queue.add(event);
 */
import { StoreUnavailableError } from "../../engine/errors.ts";
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { systemClock, type Clock } from "../../engine/ports.ts";
import { surveyBatchJobId, surveyJobId, type SurveyEvent, type SurveyQueue } from "../events.ts";
import { GroupCommit, type Settled } from "../store/group-commit.ts";
import { parseSurveyEvent } from "./parse-survey-event.ts";
import { SurveyDeadLetters, type DeadSurveyJob } from "./survey-dead-letters.ts";
import { JOB_LATENCY_SAMPLE, type SurveyJobLatency } from "./survey-job-latency.ts";
import { DEFAULT_SURVEY_QUEUE, EVENTS_STREAM_MAX_LEN, type SurveyQueueSettings } from "./survey-queue-settings.ts";

export interface BullmqSurveyQueueOptions {
  /** The caller owns it and closes it after `close()`. */
  connection: Redis;
  settings?: Partial<SurveyQueueSettings>;
  /** Ages the waiting job for `jobLatency()`. */
  clock?: Clock;
  /** How many of the newest completed jobs `jobLatency()` reads (default JOB_LATENCY_SAMPLE, at most `keepCompleted`). */
  latencySample?: number;
}

export interface SurveyQueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  dead: number;
}

const ADD_BULK_CHUNK = 1_000;

/** Updates' batches one job carries at most: a job stays well under MAX_BATCH_EVENTS, and a retry repeats little. */
const UPDATES_PER_JOB = 50;

/**
 * One round trip for `jobLatency()`: the timestamp of the job next in line (BullMQ pushes new
 * jobs on the left of the wait list and workers pop from the right), then `timestamp` and
 * `finishedOn` of the newest completed jobs (the completed set is scored by finish time).
 * Only those two fields are read: payloads may hold comment text.
 * KEYS: wait list, completed set; ARGV: job key prefix, sample size.
 */
const JOB_LATENCY_SCRIPT = `
local out = {}
local head = redis.call("LINDEX", KEYS[1], -1)
out[1] = head and redis.call("HGET", ARGV[1] .. head, "timestamp") or false
local n = tonumber(ARGV[2])
local ids = n > 0 and redis.call("ZREVRANGE", KEYS[2], 0, n - 1) or {}
for _, id in ipairs(ids) do
  local v = redis.call("HMGET", ARGV[1] .. id, "timestamp", "finishedOn")
  out[#out + 1] = v[1] or false
  out[#out + 1] = v[2] or false
end
return out
`;

export class BullmqSurveyQueue implements SurveyQueue {
  readonly settings: SurveyQueueSettings;
  readonly queue: Queue<unknown>;
  readonly dead: SurveyDeadLetters;
  private readonly connection: Redis;
  private readonly clock: Clock;
  private readonly latencySample: number;
  private readonly jobs: GroupCommit<readonly SurveyEvent[], void>;

  constructor(o: BullmqSurveyQueueOptions) {
    this.settings = { ...DEFAULT_SURVEY_QUEUE, ...o.settings };
    this.connection = o.connection;
    this.clock = o.clock ?? systemClock;
    this.latencySample = Math.max(0, Math.min(o.latencySample ?? JOB_LATENCY_SAMPLE, this.settings.keepCompleted));
    this.queue = new Queue<unknown>(this.settings.name, { connection: o.connection, prefix: this.settings.prefix, streams: { events: { maxLen: EVENTS_STREAM_MAX_LEN } } });
    this.dead = new SurveyDeadLetters(o.connection, this.settings);
    this.jobs = new GroupCommit((batches) => this.addJob(batches), { maxBatch: UPDATES_PER_JOB, maxInFlight: 4 });
  }

  /**
   * Resolves once Redis holds the job (durable as far as Redis's AOF is). Rejects a
   * malformed event (MalformedSurveyEventError) before it is queued; the worker checks
   * again, for jobs from other producers and replays.
   */
  async add(event: SurveyEvent): Promise<void> {
    const checked = parseSurveyEvent(event);
    try {
      await this.queue.add(checked.kind, checked, this.jobOptions(surveyJobId(checked)));
    } catch (err) {
      // Redis refused, closed or did not answer: nothing was queued, and the step that asked can be tried again.
      throw new StoreUnavailableError("the survey queue (Redis)", { cause: err });
    }
  }

  /**
   * Queues one update's events as one job (shared with the updates queued meanwhile); resolves
   * once Redis holds it. Rejects a malformed event (MalformedSurveyEventError) before anything is
   * queued, and StoreUnavailableError when Redis did not take the job.
   */
  async addBatch(events: readonly SurveyEvent[]): Promise<void> {
    if (events.length === 0) return;
    const checked = events.map(parseSurveyEvent);
    await this.jobs.submit(checked);
  }

  private async addJob(batches: readonly (readonly SurveyEvent[])[]): Promise<Settled<void>[]> {
    const events = batches.length === 1 ? (batches[0] as readonly SurveyEvent[]) : batches.flat();
    const only = events.length === 1 ? events[0] : undefined;
    try {
      if (only) await this.queue.add(only.kind, only, this.jobOptions(surveyJobId(only)));
      else await this.queue.add("batch", { events }, this.jobOptions(surveyBatchJobId(events)));
    } catch (err) {
      throw new StoreUnavailableError("the survey queue (Redis)", { cause: err });
    }
    return batches.map(() => ({ ok: true, value: undefined }));
  }

  /** Queues many events in few round trips, one job each (imports, benchmarks, tests). */
  async addBulk(events: readonly SurveyEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += ADD_BULK_CHUNK) {
      const chunk = events.slice(i, i + ADD_BULK_CHUNK).map(parseSurveyEvent);
      await this.queue.addBulk(chunk.map((e) => ({ name: e.kind, data: e, opts: this.jobOptions(surveyJobId(e)) })));
    }
  }

  /** The dead-lettered jobs, oldest first (payloads may contain comment text: never log them). */
  async deadLetters(start = 0, end = -1): Promise<DeadSurveyJob[]> {
    await this.adoptFailed();
    return this.dead.list(start, end);
  }

  /**
   * Re-queues every dead job under its original id with fresh attempts and empties the
   * dead letter. A job that is somehow still queued is left to run rather than doubled.
   */
  async replayDead(): Promise<number> {
    await this.adoptFailed();
    return this.dead.replay(async (d) => {
      const state = await this.queue.getJobState(d.jobId);
      if (state === "completed" || state === "failed") {
        // The finished copy would swallow the re-add as a duplicate.
        if ((await this.queue.remove(d.jobId)) !== 1) throw new Error(`could not remove finished job ${d.jobId} from ${this.settings.name} to replay it; retry the replay`);
      } else if (state !== "unknown") {
        return;
      }
      const kind = typeof d.event === "object" && d.event !== null ? (d.event as { kind?: unknown }).kind : undefined;
      await this.queue.add(typeof kind === "string" ? kind : "replay", d.event, this.jobOptions(d.jobId));
    });
  }

  async counts(): Promise<SurveyQueueCounts> {
    const c = await this.queue.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      dead: await this.dead.count(),
    };
  }

  /**
   * Job latency read from Redis in one call, cheap enough for every scrape: the age of the job
   * next in line in the wait list (measured from when it was first queued, so a retried job
   * counts its earlier attempts), and `finishedOn - timestamp` of the newest completed jobs
   * still kept (`keepCompleted`). The two times come from the producer's and the worker's
   * clocks; a negative difference (clock skew) counts as 0.
   */
  async jobLatency(): Promise<SurveyJobLatency> {
    const reply = await this.connection.eval(JOB_LATENCY_SCRIPT, 2, this.queue.toKey("wait"), this.queue.toKey("completed"), this.queue.toKey(""), this.latencySample);
    if (!Array.isArray(reply)) throw new Error(`unexpected job latency reply from Redis for queue ${this.settings.name}`);
    const ms = (v: unknown): number => (typeof v === "string" || typeof v === "number" ? Number(v) : Number.NaN);
    const head = ms(reply[0]);
    const recentSeconds: number[] = [];
    for (let i = 1; i + 1 < reply.length; i += 2) {
      const queued = ms(reply[i]);
      const finished = ms(reply[i + 1]);
      if (Number.isFinite(queued) && Number.isFinite(finished)) recentSeconds.push(Math.max(0, finished - queued) / 1000);
    }
    return { oldestWaitingSeconds: Number.isFinite(head) ? Math.max(0, this.clock.now() - head) / 1000 : 0, recentSeconds };
  }

  /**
   * Copies into the dead letter the failed jobs it lacks. BullMQ's failed set holds only
   * jobs that failed for good; the worker dead-letters those that fail in its processor,
   * but a job failed by BullMQ itself (stalled more often than allowed: it kept killing its
   * workers) never reaches the processor's error path.
   */
  private async adoptFailed(page = 500): Promise<void> {
    for (let start = 0; ; start += page) {
      const jobs = await this.queue.getFailed(start, start + page - 1);
      for (const j of jobs) {
        if (!j?.id) continue;
        await this.dead.put({
          jobId: j.id,
          event: j.data,
          failedReason: j.failedReason,
          attemptsMade: j.attemptsMade,
          unrecoverable: false,
          deadAt: j.finishedOn ?? j.timestamp,
        });
      }
      if (jobs.length < page) return;
    }
  }

  async close(): Promise<void> {
    await this.jobs.drain();
    await Promise.all([this.queue.close(), this.dead.close()]);
  }

  private jobOptions(jobId: string): JobsOptions {
    return {
      jobId,
      attempts: this.settings.attempts,
      backoff: { type: "exponential", delay: this.settings.backoffMs },
      removeOnComplete: { count: this.settings.keepCompleted },
      removeOnFail: { count: this.settings.keepFailed },
    };
  }
}
