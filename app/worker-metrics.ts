/**
 * A statistics worker's Prometheus metrics, served on their own small HTTP listener
 * (`botflow worker --metrics-port`): whether the store answers, outages and probes, jobs held
 * for an outage, events and batches stored, the process. Queue depth and job latency are the
 * web process's `/metrics` (they are the queue's, not one worker's).
 *
 * @example
 * const server = await serveWorkerMetrics(createWorkerMetrics(worker), { host: "127.0.0.1", port: 9464 });
 * // curl http://127.0.0.1:9464/metrics
 * await server.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { SurveyWorker } from "../stats/worker.ts";
import { METRICS_CONTENT_TYPE, Metrics } from "./metrics.ts";

/** What of the worker the metrics read, at every scrape. */
export type WorkerMetricsSource = Pick<SurveyWorker, "availability" | "writer" | "held">;

export function createWorkerMetrics(worker: WorkerMetricsSource, storeName = "postgres"): Metrics {
  const registry = new Metrics();
  const started = Date.now() / 1000;
  const store = { store: storeName };
  registry.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", [], async () => [[{}, started]]);
  registry.gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", [], async () => [[{}, process.memoryUsage().rss]]);
  registry.gauge("botflow_store_up", "1 while the worker's last write or probe reached the store, 0 during an outage (the worker holds its jobs and probes).", ["store"], async () => [
    [store, worker.availability.up ? 1 : 0],
  ]);
  registry.counter("botflow_store_outages_total", "Store outages this worker saw (a write failed because the store was away).", ["store"], async () => [[store, worker.availability.outages]]);
  registry.counter("botflow_store_probes_total", "Probes of the store during outages (each at most one connection attempt).", ["store"], async () => [[store, worker.availability.totalProbes]]);
  registry.gauge("botflow_survey_jobs_held", "Survey jobs this worker holds until the store is back (they use no attempts).", [], async () => [[{}, worker.held]]);
  registry.counter("botflow_survey_events_stored_total", "Survey events this worker stored.", [], async () => [[{}, worker.writer.stats.events]]);
  registry.counter("botflow_survey_batches_total", "Transactions this worker committed (events / batches is the mean batch).", [], async () => [[{}, worker.writer.stats.batches]]);
  return registry;
}

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (and 404 for anything else) until closed. */
export async function serveWorkerMetrics(metrics: Metrics, o: { host: string; port: number }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    metrics.render().then(
      (body) => res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(body),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a scraper's keep-alive connection must not hold the shutdown
      }),
  };
}
