/**
 * `botflow stats`: the CSAT figures for a period and filter, as a readable table or one
 * JSON object. Reads PostgreSQL when DATABASE_URL is set, else the embedded store in
 * --data-dir. Also exports the option handling `botflow export` shares.
 */
import { existsSync } from "node:fs";
import { loadStoreConfig } from "../../app/config.ts";
import { lockDataDir } from "../../app/data-dir-lock.ts";
import type { Figures, GroupedFigures, Interval, TrendPoint } from "../../stats/figures.ts";
import { MAX_YEAR, MIN_YEAR, type FiguresQuery, type GroupedFiguresQuery } from "../../stats/figures-query.ts";
import { figuresQuery, isGrouped } from "../../stats/query-params.ts";
import { openSurveyStore } from "../../stats/store/open-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, type CliIo } from "../io.ts";

export const summary = "Print the CSAT figures (surveys, average, CDSAT, NPS, response rate, trend) for a period";

/** Options `stats` and `export` share. */
export const QUERY_OPTIONS = {
  from: { type: "string" },
  to: { type: "string" },
  scenario: { type: "string" },
  channel: { type: "string" },
  bot: { type: "string" },
  tz: { type: "string" },
  dim: { type: "string", multiple: true },
  agent: { type: "string" },
  team: { type: "string" },
  "data-dir": { type: "string" },
  schema: { type: "string" },
} as const;

export const QUERY_USAGE = `  --from DATE      first day (YYYY-MM-DD, or an ISO timestamp); default 30 days before --to
  --to DATE        last day, included (YYYY-MM-DD; an ISO timestamp is an exclusive end); default today
  --scenario ID    only this scenario
  --channel NAME   only this channel (telegram, teams, whatsapp, ...)
  --bot ID         only this bot
  --tz ZONE        IANA time zone the days are cut in (default UTC)
  --dim NAME=VALUE only surveys with this dimension value (repeatable: --dim team=billing --dim tags=vip)
  --agent NAME     the same as --dim agent=NAME; --team NAME as --dim team=NAME
  --data-dir DIR   the embedded store (BOTFLOW_DATA_DIR, default ./data); ignored when DATABASE_URL is set
  --schema NAME    PostgreSQL schema (BOTFLOW_DB_SCHEMA, default the store's)`;

const USAGE = `usage: botflow stats [--from DATE] [--to DATE] [--scenario ID] [--channel NAME] [--bot ID] [--tz ZONE] [--dim NAME=VALUE] [--group-by DIM] [--compare] [--json] [--data-dir DIR]

Prints the CSAT figures of the dialogues started in the period.
${QUERY_USAGE}
  --group-by DIM   one row per value of a survey dimension (agent, team, tags): surveys, average
                   and CDSAT with their 95 % intervals, response rate; largest first
  --limit N        with --group-by: at most N groups (default 500)
  --compare        also the period of the same length just before, and the change
  --json           one JSON object: surveys, average, cdsat, distribution, responseRate,
                   surveyPercentage, declined, nps, trend ({granularity, points}: per day up
                   to 92 days, per week up to 735, else per month), and more
The period is at most ten years; years ${MIN_YEAR}–${MAX_YEAR}.
Rates are fractions in JSON and percentages in the table. "surveys" counts completed
surveys: statistic__set recorded a rating, a comment or both.`;

export interface QueryValues {
  from?: string | undefined;
  to?: string | undefined;
  scenario?: string | undefined;
  channel?: string | undefined;
  bot?: string | undefined;
  tz?: string | undefined;
  dim?: string[] | undefined;
  agent?: string | undefined;
  team?: string | undefined;
}

/**
 * The shared options as the HTTP API's parameters, so both are read by stats/query-params.ts;
 * `--dim name=value` becomes `dim.name`. Throws a usage message for a --dim without "=".
 */
export function queryParams(v: QueryValues): Record<string, string | undefined> {
  const params: Record<string, string | undefined> = { from: v.from, to: v.to, scenario: v.scenario, channel: v.channel, bot: v.bot, tz: v.tz };
  const dims: [string, string][] = [];
  for (const d of v.dim ?? []) {
    const eq = d.indexOf("=");
    if (eq <= 0) throw new UsageProblem(`--dim ${JSON.stringify(d.slice(0, 64))} must be NAME=VALUE, e.g. --dim team=billing`);
    dims.push([d.slice(0, eq), d.slice(eq + 1)]);
  }
  if (v.agent !== undefined) dims.push(["agent", v.agent]);
  if (v.team !== undefined) dims.push(["team", v.team]);
  for (const [name, value] of dims) {
    if (params[`dim.${name}`] !== undefined) throw new UsageProblem(`the dimension ${name} is given twice`);
    params[`dim.${name}`] = value;
  }
  return params;
}

/** A usage mistake found while turning options into parameters. */
export class UsageProblem extends Error {}

/** Turns the shared options into a figures query, as the HTTP API reads its parameters; a string says what is wrong. */
export function toQuery(v: QueryValues & { "group-by"?: string | undefined; limit?: string | undefined; compare?: boolean | undefined }): FiguresQuery | GroupedFiguresQuery | string {
  let params: Record<string, string | undefined>;
  try {
    params = queryParams(v);
  } catch (err) {
    if (err instanceof UsageProblem) return err.message;
    throw err;
  }
  const q = figuresQuery({ ...params, group_by: v["group-by"], limit: v.limit, compare: v.compare ? "previous" : undefined }, { prefix: "--" });
  return q.ok ? q.query : q.message.replaceAll("--group_by", "--group-by");
}

/** A query the store refused as asked (a period too long, an unknown zone): the caller's mistake, exit 2. */
export function isQueryError(err: unknown): err is Error {
  return err instanceof Error && (err as { code?: unknown }).code === "STATS_QUERY_INVALID";
}

/**
 * Opens the store the environment selects and runs `fn` with it; closes it after. The
 * embedded folder is locked meanwhile, as `botflow serve` does: PGlite allows one process.
 */
export async function withStore<T>(io: CliIo, v: { "data-dir"?: string | undefined; schema?: string | undefined }, fn: (store: SqlSurveyStore) => Promise<T>): Promise<T> {
  // The web process's rules (app/config.ts) for DATABASE_URL, BOTFLOW_DB_SCHEMA and BOTFLOW_DATA_DIR.
  const { databaseUrl, dbSchema: schema, dataDir } = loadStoreConfig(io.env, { cwd: io.cwd, ...(v["data-dir"] !== undefined ? { dataDir: v["data-dir"] } : {}), ...(v.schema !== undefined ? { schema: v.schema } : {}) });
  let unlock: (() => Promise<void>) | undefined;
  if (!databaseUrl) {
    if (!existsSync(dataDir)) {
      throw new Error(`no statistics in ${dataDir} (the folder does not exist): pass the --data-dir that botflow serve or botflow run used, or set DATABASE_URL`);
    }
    unlock = await lockDataDir(dataDir);
  }
  try {
    const store = await openSurveyStore({ dataDir, ...(databaseUrl ? { databaseUrl } : {}), ...(schema ? { schema } : {}) });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } finally {
    await unlock?.();
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { ...QUERY_OPTIONS, json: { type: "boolean" }, "group-by": { type: "string" }, limit: { type: "string" }, compare: { type: "boolean" } }, allowPositionals: false },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const query = toQuery(v);
  if (typeof query === "string") {
    printUsageError(io, USAGE, query);
    return EXIT_USAGE;
  }
  let figures: Figures | GroupedFigures;
  try {
    figures = await withStore<Figures | GroupedFigures>(io, v, (store) => (isGrouped(query) ? store.groupedFigures(query) : store.figures(query)));
  } catch (err) {
    if (isQueryError(err)) {
      printUsageError(io, USAGE, err.message);
      return EXIT_USAGE;
    }
    println(io.stderr, `botflow stats: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  if (v.json) println(io.stdout, JSON.stringify(figures));
  else if ("groups" in figures) printGroups(io.stdout, figures);
  else printTable(io.stdout, figures);
  return EXIT_OK;
}

const interval = (i: Interval | null, f: (x: number) => string) => (i === null ? "" : `${f(i.low)}–${f(i.high)}`);

/** The filter line of a table: scenario, channel, bot and the dimension values. */
function filterLine(f: Figures["filter"]): string {
  const parts = [`scenario ${f.scenarioId ?? "all"}`, `channel ${f.channel ?? "all"}`, `bot ${f.botId === undefined ? "all" : f.botId || '""'}`];
  for (const [name, value] of Object.entries(f.dimensions ?? {})) parts.push(`${name} ${value}`);
  return parts.join(", ");
}

function printGroups(out: NodeJS.WritableStream, g: GroupedFigures): void {
  const firstDay = new Date(Date.parse(g.from)).toLocaleDateString("en-CA", { timeZone: g.timeZone });
  const last = new Date(Date.parse(g.to) - 1).toLocaleDateString("en-CA", { timeZone: g.timeZone });
  println(out, `CSAT statistics by ${g.groupBy}, ${firstDay} .. ${last} (${g.timeZone}); ${filterLine(g.filter)}`);
  println(out);
  const width = Math.max(g.groupBy.length, ...g.groups.map((x) => x.value.length), 5);
  println(out, `  ${g.groupBy.padEnd(width)}  ${"surveys".padStart(8)}  ${"average".padStart(7)}  ${"95% interval".padStart(12)}  ${"CDSAT".padStart(6)}  ${"95% interval".padStart(13)}  ${"response".padStart(8)}`);
  for (const x of g.groups) {
    println(
      out,
      `  ${x.value.padEnd(width)}  ${int(x.surveys).padStart(8)}  ${num(x.average).padStart(7)}  ${interval(x.averageInterval, (n) => n.toFixed(2)).padStart(12)}  ${pct(x.cdsat).padStart(6)}  ${interval(x.cdsatInterval, (n) => `${(n * 100).toFixed(0)}%`).padStart(13)}  ${pct(x.responseRate).padStart(8)}`,
    );
  }
  if (g.groups.length === 0) println(out, `  no surveys with a ${g.groupBy} in this period`);
  if (g.truncated > 0) println(out, `  … and ${int(g.truncated)} more (raise --limit)`);
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 2) => (x === null ? "–" : x.toFixed(digits));
const int = (x: number) => x.toLocaleString("en-US");

/** The period's last local day: the day before `to` in the query's zone. */
function lastDay(f: Figures): string {
  return new Date(Date.parse(f.to) - 1).toLocaleDateString("en-CA", { timeZone: f.timeZone });
}

const TREND_TITLE = { day: "day", week: "week (starting Monday)", month: "month" } as const;

function printTable(out: NodeJS.WritableStream, f: Figures): void {
  const filter = filterLine(f.filter);
  const firstDay = new Date(Date.parse(f.from)).toLocaleDateString("en-CA", { timeZone: f.timeZone });
  println(out, `CSAT statistics ${firstDay} .. ${lastDay(f)} (${f.timeZone}); ${filter}`);
  println(out);
  const rows: [string, string, string][] = [
    ["surveys", int(f.surveys), `completed; ${int(f.rated)} rated, ${int(f.commented)} with a comment`],
    ["average", num(f.average), f.scale === null ? "no ratings" : f.scale === "mixed" ? "mixed scales: see below" : `on the ${f.scale || "unknown"} scale`],
    ["CDSAT", pct(f.cdsat), "ratings 1–2 on the 1–5 scale"],
    ["NPS-style", f.nps === null ? "–" : `${f.nps >= 0 ? "+" : ""}${(f.nps * 100).toFixed(1)}%`, "((4–5) − (1–2)) / ratings"],
    ["response rate", pct(f.responseRate), `answered ${int(f.answered)} / offered ${int(f.offered)}`],
    ["survey percentage", pct(f.surveyPercentage), `surveys / dialogues ${int(f.dialogues)}`],
    ["declined", int(f.declined), "skipped, timed out or refused the rating"],
  ];
  if (f.averageInterval) rows.splice(2, 0, ["  95% interval", interval(f.averageInterval, (n) => n.toFixed(2)), `of the average, ${int(f.rated)} ratings`]);
  if (f.previous) {
    const p = f.previous;
    const arrow = (d: number | null, f2: (x: number) => string) => (d === null ? "–" : `${d > 0 ? "▲ +" : d < 0 ? "▼ " : "= "}${f2(d)}`);
    rows.push(["previous period", `${p.from.slice(0, 10)} .. ${new Date(Date.parse(p.to) - 1).toISOString().slice(0, 10)}`, "the same length just before"]);
    rows.push(["  surveys", arrow(p.change.surveys, (d) => int(d)), `from ${int(p.surveys)}`]);
    rows.push(["  average", arrow(p.change.average, (d) => d.toFixed(2)), `from ${num(p.average)}`]);
    rows.push(["  CDSAT", arrow(p.change.cdsat, (d) => `${(d * 100).toFixed(1)} pt`), `from ${pct(p.cdsat)}`]);
    rows.push(["  response rate", arrow(p.change.responseRate, (d) => `${(d * 100).toFixed(1)} pt`), `from ${pct(p.responseRate)}`]);
  }
  for (const [name, value, note] of rows) println(out, `  ${name.padEnd(18)} ${value.padStart(10)}   ${note}`);
  if (f.rated > 0) {
    println(out);
    println(out, "distribution");
    const max = Math.max(...Object.values(f.distribution));
    for (const [value, n] of Object.entries(f.distribution)) {
      const bar = "#".repeat(Math.max(1, Math.round((n / max) * 30)));
      println(out, `  ${value.padStart(5)}  ${String(n).padStart(8)}  ${pct(n / f.rated).padStart(6)}  ${bar}`);
    }
    if (f.scales.length > 1) for (const s of f.scales) println(out, `  scale ${s.scale || "unknown"}: ${int(s.rated)} ratings, average ${num(s.average)}`);
  }
  const points: TrendPoint[] = f.trend.points;
  println(out);
  println(out, `trend per ${TREND_TITLE[f.trend.granularity]}`);
  println(out, `  ${"date".padEnd(10)}  ${"dialogues".padStart(9)}  ${"surveys".padStart(7)}  ${"average".padStart(7)}  ${"CDSAT".padStart(6)}  ${"response".padStart(8)}`);
  for (const p of points) {
    println(out, `  ${p.date}  ${String(p.dialogues).padStart(9)}  ${String(p.surveys).padStart(7)}  ${num(p.average).padStart(7)}  ${pct(p.cdsat).padStart(6)}  ${pct(p.responseRate).padStart(8)}`);
  }
  if (f.notes.length > 0) {
    println(out);
    for (const n of f.notes) println(out, `note: ${n}`);
  }
}
