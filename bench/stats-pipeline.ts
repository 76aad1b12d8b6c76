/**
 * Statistics pipeline throughput: survey events per second through BullMQ → SurveyWorker →
 * PostgreSQL (PgSurveyStore), beside a no-op BullMQ worker draining the same number of jobs
 * from the same Redis in the same run. The ratio pipeline / no-op is the figure (aim ≥ 0.5):
 * how much of what BullMQ itself can move the store keeps up with. A second pair runs events
 * that carry survey dimensions (the offered event with `dimensions` and `rolledUp`, as
 * stats/survey-tracker.ts queues them: agent, team, tags rolled up, a ticket id not), beside a
 * no-op worker draining those same payloads (aim ≥ 0.6). A last line runs the pipeline with
 * one event per transaction, to show what group-committing batches buys.
 *
 * Each measurement queues N events first (not timed), then starts one worker and times it
 * until every job completed. Every round runs each no-op and its pipeline back to back,
 * alternating which goes first; the figure is the median of the per-round ratios. Uses a fresh
 * key prefix and a fresh schema, removed afterwards.
 *
 * @example
 * npx tsx bench/stats-pipeline.ts                       # 10,000 events per run, the worker's default concurrency, 6 rounds
 * npx tsx bench/stats-pipeline.ts --events=5000 --concurrency=50 --rounds=1
 * npx tsx bench/stats-pipeline.ts --interleave=1000     # live arrival: 1,000 surveys in progress at once
 * REDIS_URL=redis://… DATABASE_URL=postgres://… npx tsx bench/stats-pipeline.ts
 */
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import type { SurveyEvent } from "../stats/events.ts";
import { BullmqSurveyQueue } from "../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../stats/store/pg-survey-store.ts";
import { DEFAULT_WORKER_CONCURRENCY, SurveyWorker } from "../stats/worker.ts";

export const AIM_RATIO = 0.5;
/** Issue 13: the ratio with survey dimensions on. */
export const AIM_DIMENSIONS_RATIO = 0.6;

export interface PipelineBenchOptions {
  events: number;
  concurrency: number;
  rounds: number;
  /** Transactions one worker runs at once (SurveyBatchWriter maxInFlight). */
  maxInFlight: number;
  /** Surveys in progress at once as events are queued (see surveyEvents); 0: survey by survey. */
  interleave: number;
  redisUrl: string;
  databaseUrl: string;
}

type Side = "noop" | "batched" | "noop-dims" | "dims" | "single";
const SIDES: readonly Side[] = ["noop", "batched", "noop-dims", "dims", "single"];
/** The sides whose events carry dimensions. */
const WITH_DIMENSIONS: ReadonlySet<Side> = new Set(["noop-dims", "dims"]);

/** As engine/survey-dimensions.ts records them for `dimensions: [agent, team, {name: ticket, group: false}, {name: tags, list: true}]`. */
export const DIMENSIONS_ROLLED_UP = ["agent", "team", "tags"] as const;
const AGENTS = 1000;
const TEAMS = 50;
const TAGS = 200;

/** The offered event's dimension fields, as the interpreter sets them: `rolledUp` names only the grouped dimensions that have a value. */
function withDimensions(i: number): Pick<SurveyEvent, "dimensions" | "rolledUp"> {
  const dimensions = surveyDimensions(i);
  return { dimensions, rolledUp: DIMENSIONS_ROLLED_UP.filter((d) => dimensions[d] !== undefined) };
}

/** Survey i's dimensions: one of 1,000 agents (spread over the days), its team, a ticket, 0–3 of 200 tags. */
export function surveyDimensions(i: number): Record<string, string | string[]> {
  const agent = (i * 7919) % AGENTS;
  const dims: Record<string, string | string[]> = { agent: `a-${agent}`, team: `t-${agent % TEAMS}`, ticket: `T-${i}` };
  const t0 = (i * 31) % TAGS;
  const tags = [t0, (t0 + 37) % TAGS, (t0 + 101) % TAGS].slice(0, i % 4).map((t) => `tag-${t}`);
  if (tags.length > 0) dims.tags = tags;
  return dims;
}

const T0 = Date.UTC(2026, 0, 1);

/**
 * A realistic mix: per survey started, offered, answered, commented (half), completed.
 * `interleave` > 0 queues them as live traffic arrives: the surveys run `interleave` at a
 * time, so the queue holds one event of each of them before the next event of any, and a
 * batch mostly updates surveys stored by earlier batches. 0 queues each survey's events
 * together, so a batch mostly inserts whole surveys. With `dimensions` the offered event carries
 * the survey's dimensions (surveyDimensions) and which are rolled up.
 */
export function surveyEvents(n: number, tag: string, interleave = 0, dimensions = false): SurveyEvent[] {
  const out: SurveyEvent[] = [];
  for (let i = 0; out.length < n; i++) {
    const startedAt = T0 + (i % 90) * 86_400_000 + i;
    const base = { surveyId: `${tag}-${i}`, scenarioId: "csat", scenarioVersion: "v1", channel: i % 3 === 0 ? "teams" : "telegram", botId: "", conversationId: `c${i}`, dialogueStartedAt: startedAt };
    const score = (i % 5) + 1;
    const comment = i % 2 === 0 ? "bench comment" : "";
    const kinds: SurveyEvent[] = [
      { ...base, kind: "dialogue_started", at: startedAt },
      { ...base, kind: "offered", at: startedAt + 1, scale: { min: 1, max: 5 }, ...(dimensions ? withDimensions(i) : {}) },
      { ...base, kind: "answered", at: startedAt + 2, score },
      ...(comment ? [{ ...base, kind: "commented" as const, at: startedAt + 3, comment }] : []),
      { ...base, kind: "completed", at: startedAt + 4, score, comment },
    ];
    out.push(...kinds.slice(0, n - out.length));
  }
  return interleave > 0 ? interleaved(out, interleave) : out;
}

function interleaved(events: SurveyEvent[], window: number): SurveyEvent[] {
  const bySurvey = new Map<string, SurveyEvent[]>();
  for (const e of events) {
    const list = bySurvey.get(e.surveyId);
    if (list) list.push(e);
    else bySurvey.set(e.surveyId, [e]);
  }
  const surveys = [...bySurvey.values()];
  const out: SurveyEvent[] = [];
  for (let w = 0; w < surveys.length; w += window) {
    const group = surveys.slice(w, w + window);
    for (let k = 0; group.some((list) => k < list.length); k++) for (const list of group) if (k < list.length) out.push(list[k]!);
  }
  return out;
}

async function deleteKeys(r: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await r.del(...keys);
  } while (cursor !== "0");
}

/** Queues `events` on a fresh queue, then times one worker of `side` until all completed. */
async function measure(side: Side, events: SurveyEvent[], o: PipelineBenchOptions, prefix: string, schema: string, connection: Redis): Promise<{ ms: number; cpuUs: number; meanBatch?: number }> {
  const name = `bench-${side}-${randomUUID().slice(0, 8)}`;
  const producer = new BullmqSurveyQueue({ connection, settings: { name, prefix, keepCompleted: 100, keepFailed: 100 } });
  await producer.addBulk(events);
  await producer.close();
  let done = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  const onCompleted = (): void => {
    if (++done === events.length) finish();
  };
  const onFailed = (_job: unknown, err: Error): void => {
    throw new Error(`a ${side} job failed: ${err.message}`);
  };
  const workerConnection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  let started: number;
  let meanBatch: number | undefined;
  if (side === "noop" || side === "noop-dims") {
    const w = new Worker(name, async () => {}, { connection: workerConnection, prefix, concurrency: o.concurrency, autorun: false });
    w.on("completed", onCompleted);
    w.on("failed", onFailed);
    const cpu0 = process.cpuUsage();
    started = performance.now();
    void w.run();
    await all;
    const ms = performance.now() - started;
    const cpuUs = cpuPerEvent(cpu0, events.length);
    await w.close();
    await workerConnection.quit();
    return { ms, cpuUs };
  }
  const store = new PgSurveyStore({ connectionString: o.databaseUrl, schema });
  // As `botflow worker` does before taking jobs (it also opens the first connection).
  await store.migrate();
  const worker = new SurveyWorker({ connection: workerConnection, store, settings: { name, prefix }, concurrency: o.concurrency, batch: side === "single" ? { maxBatch: 1, maxInFlight: 10 } : { maxInFlight: o.maxInFlight } });
  worker.worker.on("completed", onCompleted);
  worker.worker.on("failed", onFailed);
  const cpu0 = process.cpuUsage();
  started = performance.now();
  await worker.start();
  await all;
  const ms = performance.now() - started;
  const cpuUs = cpuPerEvent(cpu0, events.length);
  const { batches, events: written } = worker.writer.stats;
  meanBatch = batches === 0 ? 0 : written / batches;
  await worker.close();
  await workerConnection.quit();
  return { ms, cpuUs, meanBatch };
}

/** CPU of this (the worker's) process per event, user + system, in µs. */
function cpuPerEvent(since: NodeJS.CpuUsage, events: number): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / events;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

export async function main(argv: string[] = process.argv.slice(2), env: Record<string, string | undefined> = process.env): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { events: { type: "string", default: "10000" }, concurrency: { type: "string", default: String(DEFAULT_WORKER_CONCURRENCY) }, rounds: { type: "string", default: "6" }, "max-in-flight": { type: "string", default: "2" }, sides: { type: "string", default: SIDES.join(",") }, interleave: { type: "string", default: "0" } },
    strict: false,
  });
  const o: PipelineBenchOptions = {
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    rounds: Number(values.rounds),
    maxInFlight: Number(values["max-in-flight"]),
    interleave: Number(values.interleave),
    redisUrl: env.REDIS_URL ?? "redis://127.0.0.1:6379",
    databaseUrl: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  };
  const loadBefore = loadavg()[0] as number;
  const prefix = `bench-${randomUUID()}`;
  const schema = `bench_${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const connection = new Redis(o.redisUrl);
  const migrator = new PgSurveyStore({ connectionString: o.databaseUrl, schema });
  await migrator.migrate();
  await migrator.close();
  const times: Record<Side, number[]> = { noop: [], batched: [], "noop-dims": [], dims: [], single: [] };
  const cpu: Record<Side, number[]> = { noop: [], batched: [], "noop-dims": [], dims: [], single: [] };
  const batches: Record<Side, number[]> = { noop: [], batched: [], "noop-dims": [], dims: [], single: [] };
  let expectedEvents = 0;
  let expectedSurveys = 0;
  // Offered surveys of the dimensions side: each adds one dialogue to survey_dim_rollup per agent.
  let expectedDimSurveys = 0;
  try {
    for (let round = 0; round < o.rounds; round++) {
      const wanted = String(values.sides).split(",");
      // The slow single-event side runs once; no-op and pipeline run back to back every round.
      const sides = SIDES.filter((x) => wanted.includes(x) && (x !== "single" || round === 0));
      const order: Side[] = round % 2 === 0 ? [...sides] : [...sides].reverse();
      for (const side of order) {
        // One event per transaction is slow enough that a twentieth of the events tells its rate.
        const events = surveyEvents(side === "single" ? Math.ceil(o.events / 20) : o.events, `r${round}-${side}`, o.interleave, WITH_DIMENSIONS.has(side));
        if (side !== "noop" && side !== "noop-dims") {
          expectedEvents += events.length;
          expectedSurveys += events.filter((e) => e.kind === "dialogue_started").length;
          if (side === "dims") expectedDimSurveys += events.filter((e) => e.kind === "offered").length;
        }
        const r = await measure(side, events, o, prefix, schema, connection);
        times[side].push(r.ms);
        cpu[side].push(r.cpuUs);
        if (r.meanBatch !== undefined) batches[side].push(r.meanBatch);
      }
    }
    // Refuse to print figures for a pipeline that did not store what it was given.
    const check = new pg.Client({ connectionString: o.databaseUrl });
    await check.connect();
    const rows = await check.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".survey`);
    const dimRows = await check.query<{ n: string | null }>(`SELECT sum(dialogues) AS n FROM "${schema}".survey_dim_rollup WHERE dim = 'agent'`);
    await check.end();
    if (Number(rows.rows[0]?.n) !== expectedSurveys) {
      throw new Error(`the store holds ${rows.rows[0]?.n} surveys, expected ${expectedSurveys}: the pipeline lost or invented events`);
    }
    if (Number(dimRows.rows[0]?.n ?? 0) !== expectedDimSurveys) {
      throw new Error(`survey_dim_rollup counts ${dimRows.rows[0]?.n ?? 0} dialogues by agent, expected ${expectedDimSurveys}: the dimensions were not rolled up`);
    }
  } finally {
    await deleteKeys(connection, `${prefix}:*`);
    await connection.quit();
    const drop = new pg.Client({ connectionString: o.databaseUrl });
    await drop.connect();
    await drop.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await drop.end();
  }
  const rate = (side: Side): number => (side === "single" ? Math.ceil(o.events / 20) : o.events) / (median(times[side]) / 1000);
  const noop = rate("noop");
  const single = rate("single");
  // Each round's no-op and pipeline ran a few seconds apart, so their ratio is steadier than
  // the ratio of medians when other work on the machine comes and goes.
  const ratiosOf = (side: Side, noopSide: Side): number[] => times[side].map((ms, i) => (times[noopSide][i] as number) / ms);
  console.log(`stats pipeline: ${fmt(o.events)} survey events per run, worker concurrency ${o.concurrency}, ${o.maxInFlight} transaction(s) in flight, ${o.rounds} round(s), ${o.interleave > 0 ? `events of ${fmt(o.interleave)} surveys interleaved` : "survey by survey"}, medians; ${fmt(expectedEvents)} events stored and checked, ${fmt(expectedDimSurveys)} surveys with dimensions`);
  // Redis, PostgreSQL and the worker share this machine's cores; a loaded machine moves the figures.
  console.log(`  load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] as number).toFixed(1)} on ${cpus().length} cores`);
  // Worker-process CPU per event is steadier than rates on a shared machine; Redis and
  // PostgreSQL spend theirs in their own processes.
  const cpuNote = (side: Side): string => `  worker CPU ${median(cpu[side]).toFixed(0)} µs/event`;
  const pair = (side: Side, noopSide: Side, label: string, noopLabel: string, aim: number): void => {
    if (times[side].length === 0 || times[noopSide].length === 0) return;
    const rs = ratiosOf(side, noopSide);
    const r = median(rs);
    console.log(`  ${noopLabel.padEnd(28)} ${fmt(rate(noopSide)).padStart(7)} ev/s${cpuNote(noopSide)}`);
    console.log(
      `  ${label.padEnd(28)} ${fmt(rate(side)).padStart(7)} ev/s  ratio ${r.toFixed(3)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}, aim ≥ ${aim.toFixed(2)}) ${r >= aim ? "✓" : "✗"}  mean batch ${median(batches[side]).toFixed(1)} events/transaction${cpuNote(side)}`,
    );
  };
  pair("batched", "noop", "pipeline, group commit", "no-op BullMQ worker", AIM_RATIO);
  pair("dims", "noop-dims", "pipeline, dimensions on", "no-op worker, dimension jobs", AIM_DIMENSIONS_RATIO);
  if (times.single.length > 0) console.log(`  pipeline, 1 event/transaction ${fmt(single).padStart(6)} ev/s  ratio ${(single / noop).toFixed(2)}  (${fmt(Math.ceil(o.events / 20))} events, 10 transactions at once)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`stats-pipeline failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
