import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAppMetrics } from "../../app/app-metrics.ts";
import { Metrics } from "../../app/metrics.ts";
import type { SurveyJobLatency } from "../../stats/queue/survey-job-latency.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, type TestApp } from "./app-harness.ts";
import { expectOrderedQuantiles, parsePrometheus, sampleValue } from "./prometheus-text.ts";
import { ChatClient } from "./ws-client.ts";

describe("Metrics (Prometheus text format)", () => {
  it("renders counters, collected gauges and cumulative histograms, escaping label values", async () => {
    const m = new Metrics();
    const c = m.counter("jobs_total", "Jobs\ndone", ["queue"]);
    c.inc({ queue: 'a"b\\c\nd' });
    c.inc({ queue: 'a"b\\c\nd' }, 2);
    m.gauge("depth", "Depth", ["state"], async () => [[{ state: "waiting" }, 7]]);
    const h = m.histogram("latency_seconds", "Latency", ["route"], [0.1, 1]);
    h.observe({ route: "/x" }, 0.05);
    h.observe({ route: "/x" }, 0.5);
    h.observe({ route: "/x" }, 5);
    const text = await m.render();
    expect(text).toBe(
      [
        "# HELP jobs_total Jobs\\ndone",
        "# TYPE jobs_total counter",
        'jobs_total{queue="a\\"b\\\\c\\nd"} 3',
        "# HELP depth Depth",
        "# TYPE depth gauge",
        'depth{state="waiting"} 7',
        "# HELP latency_seconds Latency",
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{route="/x",le="0.1"} 1',
        'latency_seconds_bucket{route="/x",le="1"} 2',
        'latency_seconds_bucket{route="/x",le="+Inf"} 3',
        'latency_seconds_sum{route="/x"} 5.55',
        'latency_seconds_count{route="/x"} 3',
        "",
      ].join("\n"),
    );
    const parsed = parsePrometheus(text);
    expect(sampleValue(parsed.samples, "jobs_total", { queue: 'a"b\\c\nd' })).toBe(3);
  });

  it("leaves out a gauge whose collection fails, and refuses bad or duplicate names", async () => {
    const m = new Metrics();
    m.gauge("broken", "Broken", [], async () => Promise.reject(new Error("redis down")));
    m.counter("ok_total", "Ok").inc();
    const text = await m.render();
    expect(text).toContain("# broken not collected: redis down");
    expect(parsePrometheus(text).samples).toEqual([{ name: "ok_total", labels: {}, value: 1 }]);
    expect(() => m.counter("ok_total", "again")).toThrow("registered twice");
    expect(() => m.counter("bad-name", "x")).toThrow("not a Prometheus name");
  });
});

describe("createAppMetrics: survey job latency", () => {
  const sources = (jobLatency: () => Promise<SurveyJobLatency>) => ({ queueCounts: async () => ({ waiting: 0 }), jobLatency, openSockets: () => 0 });

  it("reads the queue once per scrape for its three families, and drops quantiles when the sample empties", async () => {
    let reads = 0;
    let latency: SurveyJobLatency = { oldestWaitingSeconds: 3.5, recentSeconds: Array.from({ length: 100 }, (_, i) => (100 - i) / 100) };
    const m = createAppMetrics(sources(async () => (reads++, latency)));
    const { types, samples } = parsePrometheus(await m.registry.render());
    expect(reads).toBe(1);
    expect(types.get("botflow_survey_queue_oldest_waiting_seconds")).toBe("gauge");
    expect(sampleValue(samples, "botflow_survey_queue_oldest_waiting_seconds")).toBe(3.5);
    expect(sampleValue(samples, "botflow_survey_job_latency_sample_size")).toBe(100);
    expect(expectOrderedQuantiles(samples)).toEqual([0.5, 0.9, 0.99]);

    latency = { oldestWaitingSeconds: 0, recentSeconds: [] };
    const after = parsePrometheus(await m.registry.render()).samples;
    expect(reads).toBe(2);
    expect(after.filter((s) => s.name === "botflow_survey_job_latency_seconds")).toEqual([]);
    expect(sampleValue(after, "botflow_survey_job_latency_sample_size")).toBe(0);
  });

  it("leaves the queue's figures out when the queue does not answer in time, and still renders the rest", async () => {
    const m = createAppMetrics(
      { queueCounts: () => new Promise(() => {}), jobLatency: () => Promise.reject(new Error("Redis is not connected (reconnecting)")), openSockets: () => 2 },
      { queueReadTimeoutMs: 20 },
    );
    m.inbound.inc({ channel: "webchat", status: "processed" });
    const text = await m.registry.render();
    expect(text).toContain("# botflow_survey_queue_jobs not collected: survey queue counts did not answer within 20 ms");
    expect(text).toContain("# botflow_survey_job_latency_seconds not collected: Redis is not connected (reconnecting)");
    const { samples } = parsePrometheus(text);
    expect(samples.some((s) => s.name.startsWith("botflow_survey_job_latency") || s.name.startsWith("botflow_survey_queue_"))).toBe(false);
    expect(sampleValue(samples, "botflow_inbound_events_total", { channel: "webchat", status: "processed" })).toBe(1);
    expect(sampleValue(samples, "botflow_webchat_sockets")).toBe(2);
  });

  it("reports botflow_store_up per store from the readiness checks that name one: 1 answered, 0 failed or too slow", async () => {
    let postgresUp = true;
    const m = createAppMetrics(
      {
        queueCounts: async () => ({}),
        jobLatency: async () => ({ oldestWaitingSeconds: 0, recentSeconds: [] }),
        openSockets: () => 0,
        storeChecks: () => [
          {
            name: "database",
            store: "postgres",
            check: async () => {
              if (!postgresUp) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
            },
          },
          { name: "redis", store: "redis", check: () => new Promise(() => {}) }, // hangs: counted down after the timeout
          { name: "survey-queue", check: () => Promise.reject(new Error("not a store")) },
        ],
      },
      { queueReadTimeoutMs: 20 },
    );
    const up = (text: string, store: string) => sampleValue(parsePrometheus(text).samples, "botflow_store_up", { store });
    const first = await m.registry.render();
    expect(parsePrometheus(first).types.get("botflow_store_up")).toBe("gauge");
    expect([up(first, "postgres"), up(first, "redis")]).toEqual([1, 0]);
    expect(parsePrometheus(first).samples.filter((s) => s.name === "botflow_store_up")).toHaveLength(2);
    postgresUp = false;
    expect(up(await m.registry.render(), "postgres")).toBe(0);
  });
});

describe("GET /metrics", () => {
  let store: PgliteSurveyStore;
  let t: TestApp | undefined;
  beforeAll(async () => {
    store = await openSharedStore();
  });
  afterAll(async () => {
    await store?.close();
  });
  afterEach(async () => {
    await t?.dispose();
  });

  it("counts inbound events, effects, survey events and HTTP requests of a CSAT survey", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const { url } = await t.app.listen();
    await fetch(`${url}/chat`);
    const c = await ChatClient.connect(url);
    c.send({ type: "hello" });
    await c.next();
    c.send({ type: "start", id: "1" });
    await c.next(2);
    c.send({ type: "choice", id: "2", promptId: "p1", index: 4 });
    await c.next(3);
    c.send({ type: "choice", id: "2", promptId: "p1", index: 4 });
    await c.next();
    c.send({ type: "text", id: "3", text: "metrics" });
    await c.next(3);

    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const { types, samples } = parsePrometheus(await res.text());
    expect(types.get("botflow_http_request_duration_seconds")).toBe("histogram");
    expect(sampleValue(samples, "botflow_inbound_events_total", { channel: "webchat", status: "processed" })).toBe(3);
    expect(sampleValue(samples, "botflow_inbound_events_total", { channel: "webchat", status: "duplicate" })).toBe(1);
    expect(sampleValue(samples, "botflow_effects_delivered_total", { channel: "webchat", type: "send" })).toBe(3);
    expect(sampleValue(samples, "botflow_effects_delivered_total", { channel: "webchat", type: "close" })).toBe(2);
    expect(sampleValue(samples, "botflow_survey_queue_add_seconds_count", { kind: "completed" })).toBe(1);
    expect(sampleValue(samples, "botflow_survey_queue_add_seconds_count", { kind: "offered" })).toBe(1);
    expect(sampleValue(samples, "botflow_survey_queue_jobs", { state: "dead" })).toBe(0);
    expect(sampleValue(samples, "botflow_webchat_sockets")).toBe(1);
    expect(sampleValue(samples, "botflow_store_up", { store: "pglite" })).toBe(1);
    expect(sampleValue(samples, "botflow_http_request_duration_seconds_count", { method: "GET", route: "/chat", status: "200" })).toBe(1);
    expect(sampleValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);

    // Job latency, embedded: every survey event handed to the queue was stored before its add
    // resolved, so none waits and each is in the latency sample.
    const added = samples.filter((s) => s.name === "botflow_survey_queue_add_seconds_count").reduce((n, s) => n + s.value, 0);
    expect(added).toBeGreaterThanOrEqual(4);
    expect(types.get("botflow_survey_job_latency_seconds")).toBe("gauge");
    expect(sampleValue(samples, "botflow_survey_queue_oldest_waiting_seconds")).toBe(0);
    expect(sampleValue(samples, "botflow_survey_job_latency_sample_size")).toBe(added);
    expectOrderedQuantiles(samples);
    c.close();
  });

  it("reports job latency before any survey: none waiting, an empty sample, no quantiles", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const text = await (await t.app.server.inject({ url: "/metrics" })).body;
    const { samples } = parsePrometheus(text);
    expect(sampleValue(samples, "botflow_survey_queue_oldest_waiting_seconds")).toBe(0);
    expect(sampleValue(samples, "botflow_survey_job_latency_sample_size")).toBe(0);
    expect(samples.filter((s) => s.name === "botflow_survey_job_latency_seconds")).toEqual([]);
    expect(text).toContain("# TYPE botflow_survey_job_latency_seconds gauge");
  });
});
