/**
 * The web process's Prometheus metrics: inbound events by channel, effects delivered, action
 * failures, survey queue depth, failures and dead letters, survey queueing latency, survey
 * job latency (queue lag and queued-to-stored time), HTTP latency, whether each store answers.
 */
import { latencyQuantile, type SurveyJobLatency } from "../stats/queue/survey-job-latency.ts";
import { within } from "../engine/within.ts";
import { LATENCY_BUCKETS, Metrics, type Counter, type Histogram } from "./metrics.ts";
import type { ReadinessCheck } from "./readiness.ts";

export interface AppMetricsSources {
  /** Survey queue job counts by state (waiting, active, delayed, failed, dead …), read at scrape. */
  queueCounts(): Promise<Record<string, number>>;
  /** Survey job latency from the queue (Redis in production, the process embedded), read at scrape. */
  jobLatency(): Promise<SurveyJobLatency>;
  /** Open sockets of the channels that hold them (the web chat's), for botflow_webchat_sockets. */
  openSockets(): number;
  /** Trigger outbox jobs by state (waiting, delayed, active, dead), read at scrape; absent before the outbox opens. */
  triggerCounts?(): Promise<Record<string, number>>;
  /** Readiness checks; those naming a `store` are run at scrape for `botflow_store_up{store}`. */
  storeChecks?(): readonly ReadinessCheck[];
}

export interface AppMetricsOptions {
  /**
   * How long a scrape waits for the queue's figures before leaving them out (the rest of
   * /metrics still answers; /readyz reports the outage). Default 2 s, under Prometheus's
   * default 10 s scrape timeout.
   */
  queueReadTimeoutMs?: number;
}

/** The quantiles of recent survey job latency that /metrics reports. */
export const JOB_LATENCY_QUANTILES = [0.5, 0.9, 0.99] as const;

export interface AppMetrics {
  registry: Metrics;
  /** status: processed | duplicate | failed */
  inbound: Counter;
  /** Webhook payloads acknowledged without processing, by channel and reason (unparsable, malformed, failed_again, …). */
  inboundDropped: Counter;
  /** type: send | close | ignored */
  effects: Counter;
  actionFailures: Counter;
  /** How long handing a survey event to the queue took (in process: until stored). */
  surveyQueueing: Histogram;
  surveyQueueFailures: Counter;
  http: Histogram;
}

export function createAppMetrics(sources: AppMetricsSources, o: AppMetricsOptions = {}): AppMetrics {
  const registry = new Metrics();
  const timeoutMs = o.queueReadTimeoutMs ?? 2_000;
  const started = Date.now() / 1000;
  registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", [], async () => [[{}, started]]);
  registry.gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", [], async () => [[{}, process.memoryUsage().rss]]);
  registry.gauge("nodejs_heap_used_bytes", "V8 heap in use, in bytes.", [], async () => [[{}, process.memoryUsage().heapUsed]]);
  const metrics: AppMetrics = {
    registry,
    inbound: registry.counter("botflow_inbound_events_total", "Inbound events handed to the runtime, by channel and outcome.", ["channel", "status"]),
    inboundDropped: registry.counter(
      "botflow_inbound_dropped_total",
      "Webhook payloads acknowledged without processing because they can never succeed, by channel and reason (docs/reliability.md).",
      ["channel", "reason"],
    ),
    effects: registry.counter("botflow_effects_delivered_total", "User-visible effects delivered to channels, by channel and type.", ["channel", "type"]),
    actionFailures: registry.counter("botflow_action_failures_total", "Scenario actions that failed (the dialogue went on), by action.", ["action"]),
    surveyQueueing: registry.histogram("botflow_survey_queue_add_seconds", "Time to hand one survey event to the queue (embedded: until stored), in seconds.", ["kind"], LATENCY_BUCKETS),
    surveyQueueFailures: registry.counter("botflow_survey_queue_add_failures_total", "Survey events the queue refused or failed to take.", ["kind"]),
    http: registry.histogram("botflow_http_request_duration_seconds", "HTTP request latency by route pattern and status, in seconds.", ["method", "route", "status"], LATENCY_BUCKETS),
  };
  registry.gauge("botflow_survey_queue_jobs", "Survey queue jobs by state (dead = in the dead letter).", ["state"], async () =>
    Object.entries(await bounded(sources.queueCounts(), timeoutMs, "survey queue counts")).map(([state, n]) => [{ state }, n] as [Record<string, string>, number]),
  );
  // Three families, one read of the queue per scrape.
  const jobLatency = async () => {
    const l = await bounded(sources.jobLatency(), timeoutMs, "survey job latency");
    return { oldest: l.oldestWaitingSeconds, sorted: [...l.recentSeconds].sort((a, b) => a - b) };
  };
  registry.gauge(
    "botflow_survey_queue_oldest_waiting_seconds",
    "Age of the survey event next in line, from when it was first queued (embedded: the oldest not yet stored), in seconds; 0 when none waits.",
    [],
    async (scrape) => [[{}, (await scrape.once(jobLatency)).oldest]],
  );
  registry.gauge(
    "botflow_survey_job_latency_seconds",
    "Time from queueing a survey event to storing it, by quantile over the most recently stored events (see botflow_survey_job_latency_sample_size), in seconds.",
    ["quantile"],
    async (scrape) => {
      const { sorted } = await scrape.once(jobLatency);
      return sorted.length === 0 ? [] : JOB_LATENCY_QUANTILES.map((q) => [{ quantile: String(q) }, latencyQuantile(sorted, q)] as [Record<string, string>, number]);
    },
  );
  registry.gauge(
    "botflow_survey_job_latency_sample_size",
    "How many recently stored survey events botflow_survey_job_latency_seconds is computed over (0: none yet, no quantiles).",
    [],
    async (scrape) => [[{}, (await scrape.once(jobLatency)).sorted.length]],
  );
  registry.gauge("botflow_trigger_outbox_jobs", "Triggered surveys waiting in the outbox by state (delayed = scheduled later, dead = given up on, recorded as failed).", ["state"], async () =>
    Object.entries(sources.triggerCounts ? await bounded(sources.triggerCounts(), timeoutMs, "trigger outbox counts") : {}).map(([state, n]) => [{ state }, n] as [Record<string, string>, number]),
  );
  registry.gauge("botflow_webchat_sockets", "Open web chat WebSockets.", [], async () => [[{}, sources.openSockets()]]);
  registry.gauge("botflow_store_up", "1 when the store answered its readiness check at this scrape (within the queue read timeout), 0 when not.", ["store"], async () =>
    Promise.all(
      (sources.storeChecks?.() ?? []).flatMap((c) =>
        c.store === undefined
          ? []
          : [bounded(c.check(), timeoutMs, `${c.store} check`).then(
              () => [{ store: c.store as string }, 1] as [Record<string, string>, number],
              () => [{ store: c.store as string }, 0] as [Record<string, string>, number],
            )],
      ),
    ),
  );
  return metrics;
}

/** `p`, or a rejection naming `what` once `ms` have passed: a hung Redis must not hang the scrape. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const r = await within(p, ms);
  if (!r.ok) throw new Error(`${what} did not answer within ${ms} ms`);
  return r.value;
}
