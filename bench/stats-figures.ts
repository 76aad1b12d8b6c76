/**
 * The figures queries for a 90-day period over N stored surveys (default 10 million), read
 * from the hourly rollups (what `botflow stats` and the API do) beside the naive aggregate
 * over the raw survey rows, in the same run on the same data. Not a test.
 *
 * The data (bench/stats-figures-data.ts) is generated in PostgreSQL in its own schema (dropped
 * after): N surveys over 90 days, 3 scenarios, 3 channels, 4 bots, and per offered survey its
 * dimensions: 1,000 agents, 50 teams (agent → team fixed), 0–3 of 200 tags, a ticket id (not
 * rolled up). The rollups (survey_rollup, survey_dim_rollup) are built from those rows with
 * SQL that mirrors what `apply` maintains, and the run checks that both paths give identical
 * figures before it times them. Each line prints the rollup median beside the naive median
 * and the load average when it was measured, ✓/✗ against the issue's aim.
 *
 *   npx tsx bench/stats-figures.ts [--surveys=10000000] [--days=90] [--rounds=7] [--naive-rounds=3] [--database=postgres://…] [--keep]
 */
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import pg from "pg";
import type { GroupedFigures } from "../stats/figures.ts";
import type { FiguresQuery, GroupedFiguresQuery } from "../stats/figures-query.ts";
import { PgSurveyStore } from "../stats/store/pg-survey-store.ts";
import { AGENTS, generateSurveys, START_DAY, TAGS, TEAMS } from "./stats-figures-data.ts";

function arg(args: string[], name: string, fallback: string): string {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await fn();
  return [result, performance.now() - t0];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (n: number): string => n.toLocaleString("en-US");
const load = (): string => (loadavg()[0] as number).toFixed(1);

/** One measured query: the fast call, the same forced onto the survey rows, and what the two answers are compared on. */
interface Case {
  name: string;
  aimMs: number;
  fast: () => Promise<{ source: string }>;
  naive: () => Promise<{ source: string }>;
  /** What the line says the answer held (surveys, groups). */
  size: (answer: never) => string;
}

function figuresCase(store: PgSurveyStore, name: string, q: FiguresQuery, aimMs: number): Case {
  return { name, aimMs, fast: () => store.figures(q), naive: () => store.figures({ ...q, source: "surveys" }), size: (f: { surveys: number }) => `${fmt(f.surveys)} surveys` };
}

function groupedCase(store: PgSurveyStore, name: string, q: GroupedFiguresQuery, aimMs: number): Case {
  return {
    name,
    aimMs,
    fast: () => store.groupedFigures(q),
    naive: () => store.groupedFigures({ ...q, source: "surveys" }),
    size: (g: GroupedFigures) => `${fmt(g.groups.length)} groups, ${fmt(g.groups.reduce((a, x) => a + x.surveys, 0))} surveys`,
  };
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, "surveys", "10000000"));
  const days = Number(arg(args, "days", "90"));
  const rounds = Number(arg(args, "rounds", "7"));
  const naiveRounds = Math.min(rounds, Number(arg(args, "naive-rounds", "3")));
  const url = arg(args, "database", process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  const schema = `bench_${randomUUID().replaceAll("-", "")}`;
  const store = new PgSurveyStore({ connectionString: url, schema, maxConnections: 2 });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const s = `"${schema}"`;
  try {
    await store.migrate();
    console.log(`generating ${fmt(n)} surveys over ${days} days (${AGENTS} agents, ${TEAMS} teams, ${TAGS} tags) in schema ${schema}; load average ${load()} on ${cpus().length} cores ...`);
    const [, genMs] = await timed(() => generateSurveys(admin, s, n, days));
    const sizes = await admin.query<{ rows: string; rollups: string }>(`SELECT (SELECT count(*) FROM ${s}.survey) AS rows, (SELECT count(*) FROM ${s}.survey_rollup) AS rollups`);
    const perDim = await admin.query<{ dim: string; values: string; rows: string }>(`SELECT dim, count(DISTINCT value) AS values, count(*) AS rows FROM ${s}.survey_dim_rollup GROUP BY dim ORDER BY dim`);
    console.log(`generated in ${(genMs / 1000).toFixed(0)} s: ${fmt(Number(sizes.rows[0]!.rows))} survey rows, ${fmt(Number(sizes.rows[0]!.rollups))} survey_rollup rows; load average ${load()}`);
    console.log(`survey_dim_rollup: ${perDim.rows.map((r) => `${r.dim} ${fmt(Number(r.rows))} rows (${fmt(Number(r.values))} values)`).join(", ")}`);

    const period = { from: START_DAY, to: new Date(Date.parse(START_DAY) + days * 86_400_000).toISOString().slice(0, 10) };
    const cases: Case[] = [
      figuresCase(store, "all, UTC", period, 50),
      figuresCase(store, "all, Europe/Kyiv", { ...period, timeZone: "Europe/Kyiv" }, 50),
      figuresCase(store, "scenario+channel, America/New_York", { ...period, timeZone: "America/New_York", scenarioId: "csat", channel: "teams" }, 50),
      groupedCase(store, "grouped by agent", { ...period, groupBy: "agent", limit: AGENTS }, 100),
      figuresCase(store, "one agent", { ...period, dimensions: { agent: "a-17" } }, 50),
      groupedCase(store, "grouped by team", { ...period, groupBy: "team", limit: TEAMS }, 100),
      groupedCase(store, "grouped by tag", { ...period, groupBy: "tags", limit: TAGS }, 100),
      figuresCase(store, "one team", { ...period, dimensions: { team: "t-7" } }, 50),
      figuresCase(store, "one tag", { ...period, dimensions: { tags: "tag-42" } }, 50),
    ];
    console.log("");
    console.log(`${days} days, ${rounds} rounds (naive ${naiveRounds}), medians`);
    console.log(`${"query".padEnd(36)} ${"rollups ms".padStart(11)} ${"naive ms".padStart(10)} ${"speed-up".padStart(9)}  ${"aim".padEnd(9)} ${"load".padStart(5)}  same figures`);
    const missed: string[] = [];
    for (const c of cases) {
      const fast = await c.fast();
      const naive = await c.naive();
      if (fast.source !== "rollups") throw new Error(`${c.name}: expected the rollup path, got ${fast.source}`);
      if (naive.source !== "surveys") throw new Error(`${c.name}: expected the naive scan, got ${naive.source}`);
      const same = JSON.stringify({ ...fast, source: "" }) === JSON.stringify({ ...naive, source: "" });
      if (!same) throw new Error(`${c.name}: the rollups and the survey rows disagree; no figure is printed for two different answers`);
      const fastMs: number[] = [];
      const naiveMs: number[] = [];
      // Interleaved, so load from other processes falls on both alike.
      for (let r = 0; r < rounds; r++) {
        fastMs.push((await timed(c.fast))[1]);
        if (r < naiveRounds) naiveMs.push((await timed(c.naive))[1]);
      }
      const f = median(fastMs);
      const nv = median(naiveMs);
      const met = f < c.aimMs;
      if (!met) missed.push(c.name);
      console.log(
        `${c.name.padEnd(36)} ${f.toFixed(1).padStart(11)} ${nv.toFixed(0).padStart(10)} ${`${(nv / f).toFixed(0)}x`.padStart(9)}  ${`< ${c.aimMs} ${met ? "✓" : "✗"}`.padEnd(9)} ${load().padStart(5)}  yes (${c.size(fast as never)})`,
      );
    }
    console.log("");
    console.log("rollups: median call end to end (figures(): the period with its day cuts, then the aggregate; groupedFigures(): the period, then the aggregate");
    console.log("per value, all values returned); naive: the same call with source \"surveys\", scanning the survey rows (GIN on dim_keys for one value).");
    console.log(missed.length === 0 ? "every aim met" : `aims missed: ${missed.join(", ")}`);
  } finally {
    if (!args.includes("--keep")) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    else console.log(`kept schema ${schema}`);
    await admin.end();
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
}
