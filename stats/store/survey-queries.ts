/**
 * The read side of the statistics store, in SQL both drivers run: time-zone checks, period
 * resolution, the figures' aggregate (from rollups, or naively from survey rows) and the
 * dialogue list with keyset pagination.
 */
import { BotflowError } from "../../engine/errors.ts";
import { computeFigures, daysBetween, type Figures, type FiguresQuery, type FiguresRow } from "../figures.ts";
import type { SqlQueryable } from "./sql-client.ts";
import type { DialoguePage, DialogueQuery, DialogueRow, PeriodBound, StatsFilter } from "./survey-store.ts";

const HOUR_MS = 3_600_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
export const DEFAULT_PERIOD_DAYS = 30;

/** A figures or list query that cannot run as asked (bad zone, bad period, bad cursor). */
export class StatsQueryError extends BotflowError {
  constructor(message: string) {
    super("STATS_QUERY_INVALID", message);
  }
}

/** Returns the canonical spelling of an IANA zone name, or throws saying how to fix it. */
export async function checkTimeZone(q: SqlQueryable, zone: string, cache: Map<string, string>): Promise<string> {
  const hit = cache.get(zone);
  if (hit) return hit;
  const rows = await q.query<{ name: string }>("SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1) ORDER BY name LIMIT 1", [zone]);
  const name = rows[0]?.name;
  if (!name) {
    throw new StatsQueryError(`unknown time zone "${zone}": use an IANA zone name such as UTC, Europe/Kyiv or America/New_York`);
  }
  cache.set(zone, name);
  return name;
}

async function localMidnight(q: SqlQueryable, day: string, tz: string): Promise<number> {
  const rows = await q.query<{ ms: number }>("SELECT (extract(epoch FROM ($1::date::timestamp AT TIME ZONE $2)) * 1000)::float8 AS ms", [day, tz]);
  return Number(rows[0]!.ms);
}

/** A bound as (epoch ms, local day): exactly one is set, or neither for the default. */
function splitBound(b: PeriodBound | undefined, what: string): [number | null, string | null] {
  if (b === undefined) return [null, null];
  if (typeof b === "number") {
    if (!Number.isFinite(b)) throw new StatsQueryError(`${what} must be a finite epoch-milliseconds number`);
    return [b, null];
  }
  if (DAY_RE.test(b)) {
    if (Number.isNaN(Date.parse(`${b}T00:00:00Z`))) throw new StatsQueryError(`${what} "${b}" is not a calendar day; write YYYY-MM-DD`);
    return [null, b];
  }
  const ms = Date.parse(b);
  if (Number.isNaN(ms)) throw new StatsQueryError(`${what} "${b}" is neither a day (YYYY-MM-DD) nor an ISO timestamp with an offset`);
  return [ms, null];
}

interface PeriodRow {
  from_ms: number;
  to_ms: number;
  first_day: string;
  last_day: string;
  aligned: boolean | null;
}

/**
 * Resolves the period in one round trip: [from, to) in epoch ms (defaults: the last
 * DEFAULT_PERIOD_DAYS local days, today included), its first and last local day, and
 * whether every day cut falls on a whole UTC hour (then hourly rollups are exact).
 */
export async function resolvePeriod(q: SqlQueryable, query: { from?: PeriodBound; to?: PeriodBound }, tz: string, now: number): Promise<PeriodRow> {
  const [fromMs, fromDay] = splitBound(query.from, "from");
  const [toMs, toDay] = splitBound(query.to, "to");
  const rows = await q.query<PeriodRow>(
    `WITH t AS (
       SELECT COALESCE(to_timestamp($6::float8 / 1000), $5::date::timestamp AT TIME ZONE $1,
                       ((to_timestamp($2::float8 / 1000) AT TIME ZONE $1)::date + 1)::timestamp AT TIME ZONE $1) AS t
     ), b AS (
       SELECT COALESCE(to_timestamp($4::float8 / 1000), $3::date::timestamp AT TIME ZONE $1,
                       ((((SELECT t FROM t) - interval '1 microsecond') AT TIME ZONE $1)::date + 1 - $7::int)::timestamp AT TIME ZONE $1) AS f,
              (SELECT t FROM t) AS t
     )
     SELECT (extract(epoch FROM f) * 1000)::float8 AS from_ms, (extract(epoch FROM t) * 1000)::float8 AS to_ms,
            (f AT TIME ZONE $1)::date::text AS first_day, ((t - interval '1 microsecond') AT TIME ZONE $1)::date::text AS last_day,
            (SELECT bool_and(mod((extract(epoch FROM (d::date::timestamp AT TIME ZONE $1)) * 1000)::bigint, ${HOUR_MS}) = 0)
             FROM generate_series((f AT TIME ZONE $1)::date, ((t - interval '1 microsecond') AT TIME ZONE $1)::date, interval '1 day') AS d) AS aligned
     FROM b`,
    [tz, now, fromDay, fromMs, toDay, toMs, DEFAULT_PERIOD_DAYS],
  );
  const r = rows[0]!;
  const period = { ...r, from_ms: Number(r.from_ms), to_ms: Number(r.to_ms) };
  if (!(period.from_ms < period.to_ms)) {
    throw new StatsQueryError(`empty period: from (${new Date(period.from_ms).toISOString()}) must be before to (${new Date(period.to_ms).toISOString()})`);
  }
  return period;
}

async function resolveBound(q: SqlQueryable, b: PeriodBound, tz: string, what: string): Promise<number> {
  if (typeof b === "number") {
    if (!Number.isFinite(b)) throw new StatsQueryError(`${what} must be a finite epoch-milliseconds number`);
    return b;
  }
  if (DAY_RE.test(b)) {
    if (Number.isNaN(Date.parse(`${b}T00:00:00Z`))) throw new StatsQueryError(`${what} "${b}" is not a calendar day; write YYYY-MM-DD`);
    return localMidnight(q, b, tz);
  }
  const ms = Date.parse(b);
  if (Number.isNaN(ms)) throw new StatsQueryError(`${what} "${b}" is neither a day (YYYY-MM-DD) nor an ISO timestamp with an offset`);
  return ms;
}

/** Appends `col = $n` conditions for the filter's present fields. */
function filterSql(f: StatsFilter, params: unknown[]): string {
  let sql = "";
  const add = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    params.push(v);
    sql += ` AND ${col} = $${params.length}`;
  };
  add("scenario_id", f.scenarioId);
  add("channel", f.channel);
  add("bot_id", f.botId);
  return sql;
}

const SUMS = ["dialogues", "offered", "answered", "declined", "surveys", "commented"].map((c) => `sum(${c})::float8 AS ${c}`).join(", ");

async function rollupRows(q: SqlQueryable, s: string, f: StatsFilter, tz: string, from: number, to: number): Promise<FiguresRow[]> {
  const dims = (f.scenarioId !== undefined ? 1 : 0) | (f.channel !== undefined ? 2 : 0) | (f.botId !== undefined ? 4 : 0);
  return q.query<FiguresRow>(
    `SELECT day::text AS day, scale, rated, score, dialogues, offered, answered, declined, surveys, commented
     FROM (SELECT (hour AT TIME ZONE $1)::date AS day, scale, rated, score, ${SUMS}
           FROM ${s}.survey_rollup
           WHERE dims = $2 AND scenario_id = $3 AND channel = $4 AND bot_id = $5 AND hour >= $6::timestamptz AND hour < $7::timestamptz
           GROUP BY 1, 2, 3, 4) AS g`,
    [tz, dims, f.scenarioId ?? "", f.channel ?? "", f.botId ?? "", new Date(from).toISOString(), new Date(to).toISOString()],
  );
}

/** The naive aggregate: every survey row of the period, grouped by local day and rated value. */
async function surveyRows(q: SqlQueryable, s: string, f: StatsFilter, tz: string, from: number, to: number): Promise<FiguresRow[]> {
  const params: unknown[] = [tz, new Date(from).toISOString(), new Date(to).toISOString()];
  const where = filterSql(f, params);
  const rated = "(completed AND score IS NOT NULL)";
  return q.query<FiguresRow>(
    `SELECT (dialogue_started_at AT TIME ZONE $1)::date::text AS day,
            CASE WHEN ${rated} THEN scale ELSE '' END AS scale, ${rated} AS rated, CASE WHEN ${rated} THEN score ELSE 0 END AS score,
            count(*)::float8 AS dialogues, count(*) FILTER (WHERE offered)::float8 AS offered, count(*) FILTER (WHERE accepted)::float8 AS answered,
            count(*) FILTER (WHERE denied)::float8 AS declined, count(*) FILTER (WHERE completed)::float8 AS surveys,
            count(*) FILTER (WHERE completed AND comment <> '')::float8 AS commented
     FROM ${s}.survey
     WHERE dialogue_started_at >= $2::timestamptz AND dialogue_started_at < $3::timestamptz${where}
     GROUP BY 1, 2, 3, 4`,
    params,
  );
}

export interface FiguresContext {
  schema: string;
  zones: Map<string, string>;
  now: number;
}

/** Every figure for a period and filter (see stats/figures.ts for definitions). */
export async function queryFigures(q: SqlQueryable, ctx: FiguresContext, query: FiguresQuery): Promise<Figures> {
  const tz = await checkTimeZone(q, query.timeZone ?? "UTC", ctx.zones);
  const period = await resolvePeriod(q, query, tz, ctx.now);
  const { from_ms: from, to_ms: to, first_day: firstDay, last_day: lastDay } = period;
  const filter: StatsFilter = {};
  if (query.scenarioId !== undefined) filter.scenarioId = query.scenarioId;
  if (query.channel !== undefined) filter.channel = query.channel;
  if (query.botId !== undefined) filter.botId = query.botId;
  const useRollups = query.source !== "surveys" && period.aligned === true && from % HOUR_MS === 0 && to % HOUR_MS === 0;
  const rows = useRollups ? await rollupRows(q, ctx.schema, filter, tz, from, to) : await surveyRows(q, ctx.schema, filter, tz, from, to);
  const numeric = rows.map((r) => ({
    day: r.day,
    scale: r.scale,
    rated: r.rated,
    score: Number(r.score),
    dialogues: Number(r.dialogues),
    offered: Number(r.offered),
    answered: Number(r.answered),
    declined: Number(r.declined),
    surveys: Number(r.surveys),
    commented: Number(r.commented),
  }));
  return computeFigures(numeric, { from, to, timeZone: tz, filter, days: daysBetween(firstDay, lastDay), source: useRollups ? "rollups" : "surveys" });
}

interface ListRow {
  survey_id: string;
  scenario_id: string;
  scenario_version: string;
  channel: string;
  bot_id: string;
  conversation_id: string;
  started_ms: number;
  offered: boolean;
  accepted: boolean;
  denied: boolean;
  denied_reason: string | null;
  completed: boolean;
  score: number | null;
  scale: string;
  comment: string | null;
  comment_sanitized: boolean;
  completed_ms: number | null;
}

function encodeCursor(ms: number, id: string): string {
  return Buffer.from(JSON.stringify([ms, id])).toString("base64url");
}

function decodeCursor(c: string): [number, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through to the error below
  }
  throw new StatsQueryError("invalid dialogue-list cursor: pass the nextCursor of the previous page unchanged");
}

/** One page of the dialogue list, newest first; keyset on (dialogue_started_at, survey_id). */
export async function queryDialogues(q: SqlQueryable, ctx: FiguresContext, query: DialogueQuery): Promise<DialoguePage> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new StatsQueryError(`limit must be an integer from 1 to 10000, got ${limit}`);
  const tz = await checkTimeZone(q, query.timeZone ?? "UTC", ctx.zones);
  const params: unknown[] = [];
  let where = "TRUE";
  if (query.from !== undefined) {
    params.push(new Date(await resolveBound(q, query.from, tz, "from")).toISOString());
    where += ` AND dialogue_started_at >= $${params.length}::timestamptz`;
  }
  if (query.to !== undefined) {
    params.push(new Date(await resolveBound(q, query.to, tz, "to")).toISOString());
    where += ` AND dialogue_started_at < $${params.length}::timestamptz`;
  }
  where += filterSql(query, params);
  if (query.surveysOnly) where += " AND completed";
  if (query.cursor !== undefined) {
    const [ms, id] = decodeCursor(query.cursor);
    params.push(new Date(ms).toISOString(), id);
    where += ` AND (dialogue_started_at, survey_id) < ($${params.length - 1}::timestamptz, $${params.length}::text)`;
  }
  params.push(limit + 1);
  const rows = await q.query<ListRow>(
    `SELECT survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id,
            (extract(epoch FROM dialogue_started_at) * 1000)::float8 AS started_ms, offered, accepted, denied, denied_reason,
            completed, score, scale, comment, comment_sanitized, (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms
     FROM ${ctx.schema}.survey WHERE ${where}
     ORDER BY dialogue_started_at DESC, survey_id DESC LIMIT $${params.length}`,
    params,
  );
  const page = rows.slice(0, limit).map(toDialogueRow);
  const last = page[page.length - 1];
  return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last.dialogueStartedAt, last.surveyId) : null };
}

function toDialogueRow(r: ListRow): DialogueRow {
  return {
    surveyId: r.survey_id,
    scenarioId: r.scenario_id,
    scenarioVersion: r.scenario_version,
    channel: r.channel,
    botId: r.bot_id,
    conversationId: r.conversation_id,
    dialogueStartedAt: Number(r.started_ms),
    offered: r.offered,
    accepted: r.accepted,
    denied: r.denied,
    deniedReason: r.denied_reason,
    completed: r.completed,
    score: r.score === null ? null : Number(r.score),
    scale: r.scale,
    comment: r.comment,
    commentSanitized: r.comment_sanitized,
    completedAt: r.completed_ms === null ? null : Number(r.completed_ms),
  };
}
