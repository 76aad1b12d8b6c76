/**
 * The web process's Prometheus metrics: inbound events by channel, effects delivered, action
 * failures, survey queue depth, failures and dead letters, survey queueing latency, HTTP latency.
 */
import { LATENCY_BUCKETS, Metrics, type Counter, type Histogram } from "./metrics.ts";

export interface AppMetricsSources {
  /** Survey queue job counts by state (waiting, active, delayed, failed, dead …), read at scrape. */
  queueCounts(): Promise<Record<string, number>>;
  /** Open web chat sockets. */
  webchatSockets(): number;
}

export interface AppMetrics {
  registry: Metrics;
  /** status: processed | duplicate | failed */
  inbound: Counter;
  /** type: send | close | ignored */
  effects: Counter;
  actionFailures: Counter;
  /** How long handing a survey event to the queue took (in process: until stored). */
  surveyQueueing: Histogram;
  surveyQueueFailures: Counter;
  http: Histogram;
}

export function createAppMetrics(sources: AppMetricsSources): AppMetrics {
  const registry = new Metrics();
  const started = Date.now() / 1000;
  registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", [], async () => [[{}, started]]);
  registry.gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", [], async () => [[{}, process.memoryUsage().rss]]);
  registry.gauge("nodejs_heap_used_bytes", "V8 heap in use, in bytes.", [], async () => [[{}, process.memoryUsage().heapUsed]]);
  const metrics: AppMetrics = {
    registry,
    inbound: registry.counter("botflow_inbound_events_total", "Inbound events handed to the runtime, by channel and outcome.", ["channel", "status"]),
    effects: registry.counter("botflow_effects_delivered_total", "User-visible effects delivered to channels, by channel and type.", ["channel", "type"]),
    actionFailures: registry.counter("botflow_action_failures_total", "Scenario actions that failed (the dialogue went on), by action.", ["action"]),
    surveyQueueing: registry.histogram("botflow_survey_queue_add_seconds", "Time to hand one survey event to the queue (embedded: until stored), in seconds.", ["kind"], LATENCY_BUCKETS),
    surveyQueueFailures: registry.counter("botflow_survey_queue_add_failures_total", "Survey events the queue refused or failed to take.", ["kind"]),
    http: registry.histogram("botflow_http_request_duration_seconds", "HTTP request latency by route pattern and status, in seconds.", ["method", "route", "status"], LATENCY_BUCKETS),
  };
  registry.gauge("botflow_survey_queue_jobs", "Survey queue jobs by state (dead = in the dead letter).", ["state"], async () =>
    Object.entries(await sources.queueCounts()).map(([state, n]) => [{ state }, n] as [Record<string, string>, number]),
  );
  registry.gauge("botflow_webchat_sockets", "Open web chat WebSockets.", [], async () => [[{}, sources.webchatSockets()]]);
  return metrics;
}
