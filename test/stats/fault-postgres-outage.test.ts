/**
 * Fault test (issue 3 and issue 17 item 5, "Done means"): PostgreSQL goes away for a while. A
 * TCP proxy sits between `botflow worker` (a real child process) and the real PostgreSQL.
 *
 * 1. For 10 s the proxy accepts every connection and resets it at once, so each connection
 *    attempt the worker makes is counted at the proxy; then, for 5 s, it stops listening
 *    (ECONNREFUSED, as a stopped server). Through both outages the worker holds its jobs, logs
 *    one warning and one info line per outage, knocks a few times (bound: MAX_CONNECT_ATTEMPTS
 *    in 10 s; issue 17 measured 3,650 before), dead-letters nothing, and once the proxy lets
 *    connections through again the whole backlog is stored within DRAIN_MS. Every event lands, once.
 * 2. Connections cut again and again while batches are written: no crash, every event once.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";
import { DATABASE_URL, deleteKeys, generateSurveys, REDIS_URL, waitUntil, WorkerProcess, type ExpectedTotals } from "./fault-fixtures.ts";

/** The backlog each outage leaves (the second outage half of it): a few seconds of this pipeline's throughput on a loaded 2-core machine. */
const EVENTS = 1_000;
/**
 * Connection attempts allowed during the 10 s outage: the probe curve (100–200 ms, doubling, then
 * every 0.5–1 s) makes 11–21 in 10 s, the batches that met the outage first one or two more.
 */
const MAX_CONNECT_ATTEMPTS = 25;
/** From the proxy letting connections through to the last job completed: at most 1 s to notice, the rest to write. */
const DRAIN_MS = 5_000;
const prefix = `test-${randomUUID()}`;
const schema = `test_${randomUUID().replace(/-/g, "")}`;
const settings = { name: "surveys", prefix, attempts: 15, backoffMs: 100, keepCompleted: 50_000 };
let redis: Redis;
let producer: BullmqSurveyQueue;
let store: PgSurveyStore;
let proxy: TcpProxy;
let worker: WorkerProcess | undefined;

async function storedSurveys(s = schema): Promise<number> {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${s}".survey`);
    return Number(r.rows[0]?.n);
  } finally {
    await c.end();
  }
}

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** The worker's JSON log lines (pino: level 30 info, 40 warn). */
function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

/** One sample of the worker's /metrics, by its full series name. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split("\n")) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

function sumTotals(a: ExpectedTotals, b: ExpectedTotals): ExpectedTotals {
  const distribution: Record<string, number> = { ...a.distribution };
  for (const [k, v] of Object.entries(b.distribution)) distribution[k] = (distribution[k] ?? 0) + v;
  return {
    dialogues: a.dialogues + b.dialogues,
    offered: a.offered + b.offered,
    answered: a.answered + b.answered,
    declined: a.declined + b.declined,
    surveys: a.surveys + b.surveys,
    rated: a.rated + b.rated,
    commented: a.commented + b.commented,
    scoreSum: a.scoreSum + b.scoreSum,
    distribution,
  };
}

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  producer = new BullmqSurveyQueue({ connection: redis, settings });
  store = new PgSurveyStore({ connectionString: DATABASE_URL, schema });
  await store.migrate();
  proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
});

afterAll(async () => {
  worker?.kill("SIGKILL");
  await worker?.exited;
  await proxy.close();
  await producer.close();
  await deleteKeys(redis, `${prefix}:*`);
  await redis.quit();
  await store.close();
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

describe("botflow worker while PostgreSQL is away", () => {
  it("holds its jobs through two outages: few connection attempts, one warning and one info line each, nothing dead-lettered, the backlog stored within 5 s of the return", { timeout: 120_000 }, async () => {
    const w = (worker = new WorkerProcess(
      ["--queue", settings.name, "--prefix", prefix, "--schema", schema, "--metrics-port", "0"],
      { REDIS_URL, DATABASE_URL: `postgres://postgres@${proxy.url}/test`, BOTFLOW_LOG_LEVEL: "info" },
    ));
    await w.started();
    expect(proxy.forwarded).toBeGreaterThan(0); // the worker really talks through the proxy
    const metricsUrl = logLines(w.output).find((l) => l.msg === "survey worker started")?.metrics;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const url = metricsUrl as string;
    expect((await scrape(url)).get('botflow_store_up{store="postgres"}')).toBe(1);

    const drained = async (): Promise<boolean> => {
      const n = await producer.counts();
      return n.waiting + n.active + n.delayed === 0;
    };
    // The same backlog with PostgreSQL up, for comparison: what "full speed" is on this machine now.
    const warm = generateSurveys(EVENTS, "warm");
    const warmStart = Date.now();
    await producer.addBulk(warm.events);
    await waitUntil(drained, 30_000, "the backlog to drain with PostgreSQL up");
    const upDrainMs = Date.now() - warmStart;

    /** Runs one outage in `mode` for `outageMs` with `events` queued at its start; returns what it measured. */
    const outage = async (mode: "reset" | "refuse", outageMs: number, events: Parameters<BullmqSurveyQueue["addBulk"]>[0]) => {
      const logFrom = w.output.length;
      const acceptedBefore = proxy.accepted;
      await proxy.setMode(mode);
      const began = Date.now();
      await producer.addBulk(events);
      await waitUntil(() => w.output.slice(logFrom).includes("statistics store unreachable"), 20_000, "the worker to notice the outage");
      await sleep(Math.max(0, outageMs - (Date.now() - began)));

      const during = await scrape(url);
      expect(during.get('botflow_store_up{store="postgres"}')).toBe(0);
      expect(during.get("botflow_survey_jobs_held")).toBeGreaterThan(0);
      const attempts = proxy.accepted - acceptedBefore;
      const c = await producer.counts();
      expect({ delayed: c.delayed, failed: c.failed, dead: c.dead }).toEqual({ delayed: 0, failed: 0, dead: 0 }); // no attempt used

      const returned = Date.now();
      await proxy.setMode("forward");
      await waitUntil(drained, 30_000, "the backlog to drain once PostgreSQL is back");
      const drainMs = Date.now() - returned;
      const lines = logLines(w.output.slice(logFrom));
      const backAt = lines.findIndex((l) => l.msg.startsWith("statistics store is back"));
      const back = lines[backAt];
      return { attempts, drainMs, detectMs: (back?.time as number) - returned, lines, outageLines: lines.slice(0, backAt + 1), back };
    };

    const first = generateSurveys(EVENTS, "outage");
    const one = await outage("reset", 10_000, first.events);
    const second = generateSurveys(EVENTS / 2, "outage2");
    const two = await outage("refuse", 5_000, second.events);
    console.log(
      `${EVENTS} events with PostgreSQL up: queued and stored in ${upDrainMs} ms. ` +
        `PostgreSQL outage through a proxy: 10 s of resets → ${one.attempts} connection attempts, ${one.outageLines.length} log lines, back after ${String(one.back?.outageMs)} ms / ${String(one.back?.probes)} probes, ` +
        `${EVENTS} events drained ${one.drainMs} ms after the return (noticed after ${one.detectMs} ms); 5 s refused → ${two.outageLines.length} log lines, ${String(two.back?.probes)} probes, ${EVENTS / 2} events drained in ${two.drainMs} ms (noticed after ${two.detectMs} ms)`,
    );

    expect(one.attempts).toBeLessThanOrEqual(MAX_CONNECT_ATTEMPTS);
    for (const o of [one, two]) {
      // One warning when the store goes away, one info line when it is back; nothing per job.
      // (A progress line may fall in the window too: it is written every 10 s while events are stored.)
      expect(o.outageLines.length).toBeLessThanOrEqual(3);
      expect(o.outageLines.filter((l) => l.msg !== "survey worker progress").map((l) => [l.level, l.msg.split(":")[0]])).toEqual([
        [40, "statistics store unreachable"],
        [30, "statistics store is back"],
      ]);
      expect(o.lines.filter((l) => l.level >= 40)).toHaveLength(1);
      expect(o.drainMs).toBeLessThan(DRAIN_MS);
    }
    expect(one.back?.outageMs).toBeGreaterThanOrEqual(8_000);
    expect(one.back?.probes).toBeGreaterThanOrEqual(4);
    expect(two.back?.outageMs).toBeGreaterThanOrEqual(3_000);
    expect(w.output).not.toContain("could not be stored");

    const expected = sumTotals(sumTotals(warm.expected, first.expected), second.expected);
    expect(await producer.counts()).toMatchObject({ completed: 2 * EVENTS + EVENTS / 2, failed: 0, dead: 0 });
    const f = await store.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC" });
    expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, declined: f.declined, surveys: f.surveys, commented: f.commented, distribution: f.distribution }).toEqual({
      dialogues: expected.dialogues,
      offered: expected.offered,
      answered: expected.answered,
      declined: expected.declined,
      surveys: expected.surveys,
      commented: expected.commented,
      distribution: expected.distribution,
    });
    expect(await storedSurveys()).toBe(expected.dialogues);

    const after = await scrape(url);
    expect(after.get('botflow_store_up{store="postgres"}')).toBe(1);
    expect(after.get('botflow_store_outages_total{store="postgres"}')).toBe(2);
    expect(after.get("botflow_survey_jobs_held")).toBe(0);
    expect(after.get("botflow_survey_events_stored_total")).toBeGreaterThanOrEqual(2 * EVENTS + EVENTS / 2);

    w.kill("SIGTERM");
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(w.output).not.toContain("secret");
  });

  it("survives connections cut while batches are being written: no crash, every event lands once", { timeout: 90_000 }, async () => {
    const { events, expected } = generateSurveys(EVENTS, "cut");
    const cutSchema = `${schema}_cut`;
    const cutStore = new PgSurveyStore({ connectionString: DATABASE_URL, schema: cutSchema });
    await cutStore.migrate();
    const cutSettings = { ...settings, name: "cut-surveys" };
    const cutProducer = new BullmqSurveyQueue({ connection: redis, settings: cutSettings });
    const w = new WorkerProcess(
      ["--concurrency", "50", "--queue", cutSettings.name, "--prefix", prefix, "--schema", cutSchema],
      { REDIS_URL, DATABASE_URL: `postgres://postgres@${proxy.url}/test`, BOTFLOW_LOG_LEVEL: "info" },
    );
    try {
      await w.started();
      await cutProducer.addBulk(events);
      // Cut every open connection again and again while the worker is writing; new ones are let through.
      let cuts = 0;
      let exited = false;
      void w.exited.then(() => (exited = true));
      await waitUntil(
        async () => {
          if (exited) throw new Error(`botflow worker died while connections were cut:\n${w.output.slice(-2000)}`);
          const c = await cutProducer.counts();
          if (c.waiting + c.active + c.delayed === 0) return true;
          await proxy.setMode("reset");
          await proxy.setMode("forward");
          cuts++;
          return false;
        },
        60_000,
        "the queue to drain while connections are being cut",
      ).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; the worker's last lines:\n${w.output.slice(-3000)}`);
      });
      expect(cuts).toBeGreaterThan(3);
      expect(await cutProducer.counts()).toMatchObject({ completed: EVENTS, failed: 0, dead: 0 });
      const f = await cutStore.figures({ from: "2026-01-01", to: "2026-02-01", timeZone: "UTC" });
      expect({ dialogues: f.dialogues, answered: f.answered, surveys: f.surveys, distribution: f.distribution }).toEqual({
        dialogues: expected.dialogues,
        answered: expected.answered,
        surveys: expected.surveys,
        distribution: expected.distribution,
      });
      w.kill("SIGTERM");
      expect(await w.exited).toEqual({ code: 0, signal: null });
    } finally {
      w.kill("SIGKILL");
      await w.exited;
      await cutProducer.close();
      await cutStore.close();
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${cutSchema}" CASCADE`);
      await c.end();
    }
  });
});
