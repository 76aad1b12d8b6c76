/**
 * `botflow stats`: the CSAT figures for a period and filter, as a readable table or one
 * JSON object. Reads PostgreSQL when DATABASE_URL is set, else the embedded store in
 * --data-dir, or, while a `botflow serve` holds that folder, that server's statistics API
 * (cli/stats-source.ts). Also exports the option handling `botflow export` shares.
 */
import type { Figures, GroupedFigures } from "../../stats/figures.ts";
import { printFiguresTable, printGroupsTable } from "../format-figures.ts";
import { MAX_YEAR, MIN_YEAR, type FiguresQuery, type GroupedFiguresQuery } from "../../stats/figures-query.ts";
import { figuresQuery } from "../../stats/query-params.ts";
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

/** The option lines `stats` and `export` share, after their own --from/--to lines. */
export const QUERY_USAGE = `  --scenario ID    only this scenario
  --channel NAME   only this channel (telegram, teams, whatsapp, ...)
  --bot ID         only this bot
  --tz ZONE        IANA time zone the days are cut in (default UTC)
  --dim NAME=VALUE only surveys with this dimension value (repeatable: --dim team=billing --dim tags=vip)
  --agent NAME     the same as --dim agent=NAME; --team NAME as --dim team=NAME
  --data-dir DIR   the embedded store (BOTFLOW_DATA_DIR, default ./data); ignored when DATABASE_URL is set.
                   While botflow serve runs on it, the figures come through that server's API
                   (the address is in its lock file; its BOTFLOW_TOKEN, if any, must be set here too)
  --schema NAME    PostgreSQL schema (BOTFLOW_DB_SCHEMA, default the store's)`;

const USAGE = `usage: botflow stats [--from DATE] [--to DATE] [--scenario ID] [--channel NAME] [--bot ID] [--tz ZONE] [--dim NAME=VALUE] [--group-by DIM] [--compare] [--json] [--data-dir DIR]

Prints the CSAT figures of the dialogues started in the period.
  --from DATE      first day (YYYY-MM-DD, or an ISO timestamp); default 30 days before --to
  --to DATE        last day, included (YYYY-MM-DD; an ISO timestamp is an exclusive end); default today
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

/** A query the store or the server refused as asked (a period too long, an unknown zone): the caller's mistake, exit 2. */
export function isQueryError(err: unknown): err is Error {
  return err instanceof Error && (err as { code?: unknown }).code === "STATS_QUERY_INVALID";
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { ...QUERY_OPTIONS, json: { type: "boolean" }, "group-by": { type: "string" }, limit: { type: "string" }, compare: { type: "boolean" } }, allowPositionals: false },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  // Checked here, so a mistake names the option (--from) whether the store or a server answers.
  const query = toQuery(v);
  if (typeof query === "string") {
    printUsageError(io, USAGE, query);
    return EXIT_USAGE;
  }
  const params = { ...queryParams(v), group_by: v["group-by"], limit: v.limit, compare: v.compare ? "previous" : undefined };
  let figures: Figures | GroupedFigures;
  try {
    figures = await (await import("../stats-source.ts")).withStatsSource(io, v, { command: "stats" }, (source) => source.figures(params));
  } catch (err) {
    if (isQueryError(err)) {
      printUsageError(io, USAGE, err.message);
      return EXIT_USAGE;
    }
    println(io.stderr, `botflow stats: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  if (v.json) println(io.stdout, JSON.stringify(figures));
  else if ("groups" in figures) printGroupsTable(io.stdout, figures);
  else printFiguresTable(io.stdout, figures);
  return EXIT_OK;
}
