/**
 * The web process in production mode on the real Redis and PostgreSQL: conversation state
 * in Redis, survey events through BullMQ to a worker and into PostgreSQL; /readyz while
 * Redis goes away and comes back. Every run uses its own queue, key prefixes and schema.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { productionEnv } from "../helpers/production-env.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";
import { startTestApp, storedDialogue, type TestApp } from "./app-harness.ts";
import { expectOrderedQuantiles, parsePrometheus, sampleValue } from "./prometheus-text.ts";
import { ChatClient, conversationIdOf } from "./ws-client.ts";

const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function productionApp(redisUrl = "redis://127.0.0.1:6379", databaseUrl = DATABASE_URL) {
  const prod = productionEnv(redisUrl, databaseUrl);
  const env = prod.env;
  cleanups.push(() => prod.cleanup());
  const t: TestApp = await startTestApp(env);
  cleanups.push(() => t.dispose());
  return { t, env };
}

describe("production mode (REDIS_URL + DATABASE_URL)", () => {
  it("resumes a web chat conversation on another web process: history and state are in Redis", async () => {
    const { t: a, env } = await productionApp();
    const b = await startTestApp(env);
    cleanups.push(() => b.dispose());
    const { url: urlA } = await a.app.listen();
    const { url: urlB } = await b.app.listen();

    const first = await ChatClient.connect(urlA);
    first.send({ type: "hello" });
    const conversationId = conversationIdOf((await first.next())[0]);
    first.send({ type: "start", id: "1" });
    const [prompt] = await first.next(2);
    first.close();

    const second = await ChatClient.connect(urlB);
    cleanups.push(async () => second.close());
    second.send({ type: "hello", conversationId });
    expect(await second.next(2)).toEqual([{ type: "hello", conversationId, resumed: true }, prompt]);
    second.send({ type: "choice", id: "2", promptId: "p1", index: 3 });
    const [edit, comment] = await second.next(3);
    expect(edit).toEqual({ type: "edit", promptId: "p1", reason: "answered", answer: "4" });
    expect(comment).toMatchObject({ promptId: "p2", expectsText: true });

    // A web process that restarts keeps nothing in memory, yet the conversation resumes.
    await a.dispose();
    const again = await startTestApp(env);
    cleanups.push(() => again.dispose());
    const third = await ChatClient.connect((await again.app.listen()).url);
    cleanups.push(async () => third.close());
    third.send({ type: "hello", conversationId });
    const replay = await third.next(4);
    expect(replay[0]).toEqual({ type: "hello", conversationId, resumed: true });
    expect(replay.slice(1).map((f) => f.type)).toEqual(["message", "edit", "message"]);
  });

  it("shows a conversation live in tabs connected to different web processes, each frame once", async () => {
    const { t: a, env } = await productionApp();
    const b = await startTestApp(env);
    cleanups.push(() => b.dispose());
    const tabA = await ChatClient.connect((await a.app.listen()).url);
    const tabB = await ChatClient.connect((await b.app.listen()).url);
    cleanups.push(async () => {
      tabA.close();
      tabB.close();
    });
    tabA.send({ type: "hello" });
    const conversationId = conversationIdOf((await tabA.next())[0]);
    tabB.send({ type: "hello", conversationId });
    expect(await tabB.next()).toEqual([{ type: "hello", conversationId, resumed: false }]);

    tabA.send({ type: "start", id: "1" });
    const [prompt] = await tabA.next(2);
    expect(await tabB.next()).toEqual([prompt]);
    tabA.send({ type: "choice", id: "2", promptId: "p1", index: 1 });
    const fromA = await tabA.next(3);
    expect(await tabB.next(2)).toEqual(fromA.slice(0, 2));
    tabB.send({ type: "text", id: "3", text: "typed in the other tab" });
    const fromB = await tabB.next(3);
    expect(fromB[1]).toEqual({ type: "message", text: "Thank you for your feedback!" });
    expect(await tabA.next(2)).toEqual(fromB.slice(0, 2));
    expect(tabA.pending()).toEqual([]);
    expect(tabB.pending()).toEqual([]);
  });

  it("keeps state in Redis and queues surveys on BullMQ, which a worker stores in PostgreSQL", async () => {
    const { t, env } = await productionApp();
    expect(t.app.config.mode).toBe("production");
    const ready = await t.app.server.inject({ method: "GET", url: "/readyz" });
    expect(ready.json()).toEqual({
      ready: true,
      checks: [
        { name: "redis", ok: true },
        { name: "survey-queue", ok: true },
        { name: "database", ok: true },
      ],
    });

    const { url } = await t.app.listen();
    const c = await ChatClient.connect(url);
    cleanups.push(async () => c.close());
    c.send({ type: "hello" });
    const conversationId = conversationIdOf((await c.next())[0]);
    c.send({ type: "start", id: "1" });
    await c.next(2);
    c.send({ type: "choice", id: "2", promptId: "p1", index: 3 });
    await c.next(3);
    c.send({ type: "text", id: "3", text: "stored by a worker" });
    expect((await c.next(3))[1]).toEqual({ type: "message", text: "Thank you for your feedback!" });

    const redis = new Redis("redis://127.0.0.1:6379");
    cleanups.push(async () => void (await redis.quit()));
    const stateKeys = await redis.keys(`${env.BOTFLOW_STATE_PREFIX}*state:webchat::${conversationId}`);
    expect(stateKeys).toHaveLength(1);
    expect(await t.app.services.surveyStore.listDialogues({ limit: 10 })).toEqual({ rows: [], nextCursor: null });
    // No worker yet: the five survey events of the dialogue wait in BullMQ, one job per update
    // (start: dialogue_started + offered; the rating: answered; the comment: commented + completed), and /metrics says so.
    const metrics = parsePrometheus(await (await fetch(`${url}/metrics`)).text()).samples;
    expect(sampleValue(metrics, "botflow_survey_queue_jobs", { state: "waiting" })).toBe(3);
    expect(sampleValue(metrics, "botflow_survey_queue_jobs", { state: "dead" })).toBe(0);
    // ... the first of them has been waiting since the dialogue began, and none is stored yet.
    expect(sampleValue(metrics, "botflow_survey_queue_oldest_waiting_seconds")).toBeGreaterThan(0);
    expect(sampleValue(metrics, "botflow_survey_job_latency_sample_size")).toBe(0);
    expect(metrics.filter((s) => s.name === "botflow_survey_job_latency_seconds")).toEqual([]);

    const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const worker = new SurveyWorker({
      connection,
      store: new PgSurveyStore({ connectionString: DATABASE_URL, schema: env.BOTFLOW_DB_SCHEMA }),
      settings: { name: env.BOTFLOW_QUEUE, prefix: env.BOTFLOW_QUEUE_PREFIX },
    });
    cleanups.push(async () => {
      await worker.close();
      await connection.quit();
    });
    await worker.start();
    await expect
      .poll(() => storedDialogue(t.app.services.surveyStore, conversationId), { timeout: 15_000 })
      .toMatchObject({ channel: "webchat", score: 4, comment: "stored by a worker", completed: true });
    // Drained: nothing waits, and the three jobs' queued-to-stored times are the sample.
    const scrape = async () => parsePrometheus(await (await fetch(`${url}/metrics`)).text()).samples;
    await expect.poll(async () => sampleValue(await scrape(), "botflow_survey_job_latency_sample_size"), { timeout: 10_000 }).toBe(3);
    const drained = await scrape();
    expect(sampleValue(drained, "botflow_survey_queue_oldest_waiting_seconds")).toBe(0);
    const [, , p99] = expectOrderedQuantiles(drained);
    // They waited at least from the scrape above until the worker started; under a minute.
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThan(60);
  });

  it("shows the queue and its dead letter to ops, without payloads, and replays it", async () => {
    const { t, env } = await productionApp();
    const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
    const worker = new SurveyWorker({
      connection,
      store: new PgSurveyStore({ connectionString: DATABASE_URL, schema: env.BOTFLOW_DB_SCHEMA }),
      settings: { name: env.BOTFLOW_QUEUE, prefix: env.BOTFLOW_QUEUE_PREFIX },
    });
    cleanups.push(async () => {
      await worker.close();
      await connection.quit();
    });
    await worker.start();
    // A job no worker can parse goes straight to the dead letter.
    const producerRedis = new Redis("redis://127.0.0.1:6379");
    const producer = new Queue(env.BOTFLOW_QUEUE, { connection: producerRedis, prefix: env.BOTFLOW_QUEUE_PREFIX });
    cleanups.push(async () => {
      await producer.close();
      await producerRedis.quit();
    });
    await producer.add("completed", { kind: "completed", comment: "secret comment text" }, { jobId: "broken-1" });
    const view = async () => (await t.app.server.inject({ url: "/api/queue" })).json() as { mode: string; counts: Record<string, number>; dead: { jobId: string; failedReason: string }[] };
    await expect.poll(async () => (await view()).dead.length, { timeout: 10_000 }).toBe(1);
    const q = await view();
    expect(q.mode).toBe("BullMQ");
    expect(q.counts).toMatchObject({ dead: 1, waiting: 0 });
    expect(q.dead[0]).toMatchObject({ jobId: "broken-1", attemptsMade: expect.any(Number), deadAt: expect.any(Number) });
    expect(JSON.stringify(q)).not.toContain("secret comment text");
    expect((await t.app.server.inject({ url: "/ops/queue" })).body).toContain("<h1>Survey queue</h1>");

    const replay = await t.app.server.inject({ method: "POST", url: "/api/queue/replay-dead" });
    expect(replay.json()).toEqual({ replayed: 1 });
  });

  it("is not ready while Redis is unreachable and recovers when it is back", async () => {
    const proxy = await TcpProxy.start({ host: "127.0.0.1", port: 6379 });
    cleanups.push(() => proxy.close());
    const { t } = await productionApp(`redis://${proxy.url}`);
    expect((await t.app.server.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);

    await proxy.setMode("refuse");
    const down = await t.app.server.inject({ method: "GET", url: "/readyz" });
    expect(down.statusCode).toBe(503);
    const failing = (down.json() as { checks: { name: string; ok: boolean }[] }).checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failing).toContain("redis");
    expect(failing).not.toContain("database");
    expect((await t.app.server.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    // /metrics still answers, leaving out what only Redis knows.
    const metrics = await t.app.server.inject({ method: "GET", url: "/metrics" });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain("# botflow_survey_queue_oldest_waiting_seconds not collected");
    const samples = parsePrometheus(metrics.body).samples;
    expect(samples.some((s) => s.name.startsWith("botflow_survey_job_latency") || s.name === "botflow_survey_queue_oldest_waiting_seconds")).toBe(false);
    expect(sampleValue(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);

    await proxy.setMode("forward");
    await expect.poll(async () => (await t.app.server.inject({ method: "GET", url: "/readyz" })).statusCode, { timeout: 15_000 }).toBe(200);
  });

  it("is not ready while PostgreSQL is unreachable and recovers when it is back", async () => {
    const proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
    cleanups.push(() => proxy.close());
    const { t } = await productionApp("redis://127.0.0.1:6379", `postgres://postgres@${proxy.url}/test`);
    expect((await t.app.server.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);

    await proxy.setMode("refuse");
    const down = await t.app.server.inject({ method: "GET", url: "/readyz" });
    expect(down.statusCode).toBe(503);
    expect((down.json() as { checks: { name: string; ok: boolean }[] }).checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["database"]);
    const figures = await t.app.server.inject({ url: "/api/stats/figures" });
    expect(figures.statusCode).toBe(503);
    expect(figures.json()).toEqual({ error: "unavailable", message: "the statistics store did not answer; see the server log and /readyz" });
    const storeUp = async (store: string) => sampleValue(parsePrometheus((await t.app.server.inject({ url: "/metrics" })).body).samples, "botflow_store_up", { store });
    expect([await storeUp("postgres"), await storeUp("redis")]).toEqual([0, 1]);

    await proxy.setMode("forward");
    await expect.poll(async () => (await t.app.server.inject({ method: "GET", url: "/readyz" })).statusCode, { timeout: 15_000 }).toBe(200);
    expect(await storeUp("postgres")).toBe(1);
  });
});
