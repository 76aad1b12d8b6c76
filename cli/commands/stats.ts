/**
 * `botflow stats`: the CSAT figures for a period and filter, as a readable table or one
 * JSON object. Reads PostgreSQL when DATABASE_URL is set, else the embedded store in
 * --data-dir. Also exports the option handling `botflow export` shares.
 */
import { existsSync } from "node:fs";
import { loadStoreConfig } from "../../app/config.ts";
import { lockDataDir } from "../../app/data-dir-lock.ts";
import type { Figures, TrendPoint } from "../../stats/figures.ts";
import { MAX_YEAR, MIN_YEAR, type FiguresQuery } from "../../stats/figures-query.ts";
import { figuresQuery } from "../../stats/query-params.ts";
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
  "data-dir": { type: "string" },
  schema: { type: "string" },
} as const;

export const QUERY_USAGE = `  --from DATE      first day (YYYY-MM-DD, or an ISO timestamp); default 30 days before --to
  --to DATE        last day, included (YYYY-MM-DD; an ISO timestamp is an exclusive end); default today
  --scenario ID    only this scenario
  --channel NAME   only this channel (telegram, teams, whatsapp, ...)
  --bot ID         only this bot
  --tz ZONE        IANA time zone the days are cut in (default UTC)
  --data-dir DIR   the embedded store (BOTFLOW_DATA_DIR, default ./data); ignored when DATABASE_URL is set
  --schema NAME    PostgreSQL schema (BOTFLOW_DB_SCHEMA, default the store's)`;

const USAGE = `usage: botflow stats [--from DATE] [--to DATE] [--scenario ID] [--channel NAME] [--bot ID] [--tz ZONE] [--json] [--data-dir DIR]

Prints the CSAT figures of the dialogues started in the period.
${QUERY_USAGE}
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
}

/** The shared options as the HTTP API's parameters, so both are read by stats/query-params.ts. */
export function queryParams(v: QueryValues): Record<string, string | undefined> {
  return { from: v.from, to: v.to, scenario: v.scenario, channel: v.channel, bot: v.bot, tz: v.tz };
}

/** Turns the shared options into a figures query, as the HTTP API reads its parameters; a string says what is wrong. */
export function toQuery(v: QueryValues): FiguresQuery | string {
  const q = figuresQuery(queryParams(v), { prefix: "--" });
  return q.ok ? q.query : q.message;
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
  const parsed = parseCommandArgs({ args, options: { ...QUERY_OPTIONS, json: { type: "boolean" } }, allowPositionals: false }, io, USAGE);
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const query = toQuery(v);
  if (typeof query === "string") {
    printUsageError(io, USAGE, query);
    return EXIT_USAGE;
  }
  let figures: Figures;
  try {
    figures = await withStore(io, v, (store) => store.figures(query));
  } catch (err) {
    if (isQueryError(err)) {
      printUsageError(io, USAGE, err.message);
      return EXIT_USAGE;
    }
    println(io.stderr, `botflow stats: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  if (v.json) println(io.stdout, JSON.stringify(figures));
  else printTable(io.stdout, figures);
  return EXIT_OK;
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
  const filter = [`scenario ${f.filter.scenarioId ?? "all"}`, `channel ${f.filter.channel ?? "all"}`, `bot ${f.filter.botId === undefined ? "all" : f.filter.botId || '""'}`].join(", ");
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
