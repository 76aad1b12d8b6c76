/**
 * The read side of the statistics store, in SQL both drivers run: time-zone checks, period
 * resolution, the figures' aggregate (from rollups, or naively from survey rows) and the
 * dialogue list with keyset pagination.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { computeMetrics, type MetricRow } from "../metric-figures.ts";
import { comparePeriods, computeFigures, computeGroups, trendBuckets, type Figures, type FiguresQuery, type FiguresRow, type GroupedFigures, type GroupRow, type RollupCounters } from "../figures.ts";
import { MAX_PERIOD_DAYS, StatsQueryError, trendGranularity, type GroupedFiguresQuery, type TrendGranularity } from "../figures-query.ts";
import { checkBound } from "../query-params.ts";
import type { SurveyContext, SurveyDimensions } from "../events.ts";
import type { RatingSlots } from "./rating-slots.ts";
import type { SqlQueryable } from "./sql-client.ts";
import type { DialoguePage, DialogueQuery, DialogueRow, PeriodBound, StatsFilter } from "./survey-store.ts";

export { StatsQueryError } from "../figures-query.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The figures read the store at most this much of the period at a time (whole hours). */
const READ_CHUNK_MS = 62 * DAY_MS;
export const DEFAULT_PERIOD_DAYS = 30;

/** The store's zone list, loaded once per store (pg_timezone_names is slow to read: ~40 ms on PGlite). */
const zoneLists = new WeakMap<Map<string, string>, Promise<void>>();

/**
 * Returns the canonical spelling of an IANA zone name, or throws saying how to fix it.
 * `cache` maps lower-case names to PostgreSQL's spelling; it is filled with every zone the
 * store knows on first use (so it stays bounded, and concurrent callers share one read).
 */
export async function checkTimeZone(q: SqlQueryable, zone: string, cache: Map<string, string>): Promise<string> {
  const key = zone.toLowerCase();
  if (key === "utc") return "UTC";
  let hit = cache.get(key);
  if (hit) return hit;
  let loading = zoneLists.get(cache);
  if (!loading) {
    loading = q.query<{ name: string }>("SELECT name FROM pg_timezone_names").then((rows) => {
      for (const { name } of rows) {
        const k = name.toLowerCase();
        const prev = cache.get(k);
        if (prev === undefined || name < prev) cache.set(k, name);
      }
    });
    zoneLists.set(cache, loading);
    loading.catch(() => zoneLists.delete(cache));
  }
  await loading;
  hit = cache.get(key);
  if (!hit) throw new StatsQueryError(`unknown time zone "${zone}": use an IANA zone name such as UTC, Europe/Kyiv or America/New_York`, "tz");
  return hit;
}

async function localMidnight(q: SqlQueryable, day: string, tz: string): Promise<number> {
  const rows = await q.query<{ ms: number }>("SELECT (extract(epoch FROM ($1::date::timestamp AT TIME ZONE $2)) * 1000)::float8 AS ms", [day, tz]);
  return Number(rows[0]!.ms);
}

/** A bound as (epoch ms, local day): exactly one is set, or neither for the default. */
function splitBound(b: PeriodBound | undefined, what: string): [number | null, string | null] {
  if (b === undefined) return [null, null];
  const c = checkBound(b, what);
  return c.day !== undefined ? [null, c.day] : [c.ms, null];
}

interface PeriodRow {
  from_ms: number;
  to_ms: number;
  first_day: string;
  last_day: string;
}

/**
 * Resolves the period in one round trip: [from, to) in epoch ms (defaults: the last
 * DEFAULT_PERIOD_DAYS local days, today included) and its first and last local day. Refuses
 * an empty period and one longer than MAX_PERIOD_DAYS.
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
            (f AT TIME ZONE $1)::date::text AS first_day, ((t - interval '1 microsecond') AT TIME ZONE $1)::date::text AS last_day
     FROM b`,
    [tz, now, fromDay, fromMs, toDay, toMs, DEFAULT_PERIOD_DAYS],
  );
  const r = rows[0]!;
  const period = { ...r, from_ms: Number(r.from_ms), to_ms: Number(r.to_ms) };
  const iso = (ms: number) => new Date(ms).toISOString();
  if (!(period.from_ms < period.to_ms)) {
    throw new StatsQueryError(`empty period: from (${iso(period.from_ms)}) must be before to (${iso(period.to_ms)})`, "to");
  }
  if (localDays(period.first_day, period.last_day) > MAX_PERIOD_DAYS) {
    throw new StatsQueryError(
      `the period from ${period.first_day} to ${period.last_day} is longer than the ${MAX_PERIOD_DAYS} days (ten years) the figures cover: move from or to closer`,
      "from",
    );
  }
  return period;
}

/** Local days from `first` to `last`, both included. */
function localDays(first: string, last: string): number {
  return Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / DAY_MS) + 1;
}

/** Whether every cut between trend points (local midnights) falls on a whole UTC hour. */
async function cutsOnWholeHours(q: SqlQueryable, tz: string, buckets: readonly string[], unit: TrendGranularity): Promise<boolean> {
  if (buckets.length < 2) return true;
  const rows = await q.query<{ aligned: boolean | null }>(
    `SELECT bool_and(mod((extract(epoch FROM (d::date::timestamp AT TIME ZONE $1)) * 1000)::bigint, ${HOUR_MS}) = 0) AS aligned
     FROM generate_series($2::date, $3::date, $4::interval) AS d`,
    [tz, buckets[1], buckets[buckets.length - 1], `1 ${unit}`],
  );
  return rows[0]?.aligned !== false;
}

async function resolveBound(q: SqlQueryable, b: PeriodBound, tz: string, what: string): Promise<number> {
  const c = checkBound(b, what);
  return c.day !== undefined ? localMidnight(q, c.day, tz) : c.ms;
}

/** SQL for the first local day of the trend point holding the timestamptz `col`, in zone $1. */
function bucketSql(col: string, unit: TrendGranularity): string {
  return unit === "day" ? `(${col} AT TIME ZONE $1)::date` : `date_trunc('${unit}', ${col} AT TIME ZONE $1)::date`;
}

/** Appends `col = $n` conditions for the filter's present fields (dimensions through the dim_keys GIN index); `alias` prefixes the columns. */
function filterSql(f: StatsFilter, params: unknown[], alias = ""): string {
  let sql = "";
  const add = (col: string, v: string | undefined) => {
    if (v === undefined) return;
    params.push(v);
    sql += ` AND ${alias}${col} = $${params.length}`;
  };
  add("scenario_id", f.scenarioId);
  add("channel", f.channel);
  add("bot_id", f.botId);
  const dims = dimensionKeys(f);
  if (dims.length > 0) {
    params.push(dims);
    sql += ` AND dim_keys @> $${params.length}::text[]`;
  }
  return sql;
}

/** The filter's dimensions as survey.dim_keys entries ("name=value"). */
function dimensionKeys(f: StatsFilter): string[] {
  return f.dimensions ? Object.entries(f.dimensions).map(([name, value]) => `${name}=${value}`) : [];
}

/** The one dimension value the filter asks for when it asks for nothing else: what survey_dim_rollup answers. */
function soleDimension(f: StatsFilter): [string, string] | undefined {
  const dims = f.dimensions ? Object.entries(f.dimensions) : [];
  if (dims.length !== 1 || f.scenarioId !== undefined || f.channel !== undefined || f.botId !== undefined) return undefined;
  return dims[0];
}

/**
 * A survey-row aggregate's rated value and counters, as the rollups hold them: a survey counts
 * its rating only once completed with a score; an erased comment still counts as a comment.
 */
const RATED = "(completed AND score IS NOT NULL)";
const SURVEY_ROW_COUNTERS = `CASE WHEN ${RATED} THEN scale ELSE '' END AS scale, ${RATED} AS rated, CASE WHEN ${RATED} THEN score ELSE 0 END AS score,
            count(*)::float8 AS dialogues, count(*) FILTER (WHERE offered)::float8 AS offered, count(*) FILTER (WHERE accepted)::float8 AS answered,
            count(*) FILTER (WHERE denied)::float8 AS declined, count(*) FILTER (WHERE completed)::float8 AS surveys,
            count(*) FILTER (WHERE completed AND (comment <> '' OR events->'completed'->>'erased' = 'true'))::float8 AS commented`;

/** The counters of an aggregated row as numbers (drivers may hand float8 sums back as strings). */
function numericCounters<T extends { score: unknown } & Record<"dialogues" | "offered" | "answered" | "declined" | "surveys" | "commented", unknown>>(r: T): T & { score: number } & RollupCounters {
  return {
    ...r,
    score: Number(r.score),
    dialogues: Number(r.dialogues),
    offered: Number(r.offered),
    answered: Number(r.answered),
    declined: Number(r.declined),
    surveys: Number(r.surveys),
    commented: Number(r.commented),
  };
}

/**
 * Reads [from, to) in chunks of two months, yielding to the event loop between them: PGlite runs
 * each query on this thread, so one query over ten years would block every other request. Rows
 * are additive (one per trend point × value), so chunks need not follow the trend's cuts.
 */
async function inChunks<T>(from: number, to: number, read: (range: [string, string], a: number, b: number) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let a = from; a < to; ) {
    const b = Math.min(to, a + READ_CHUNK_MS);
    if (a > from) await yieldToLoop();
    rows.push(...(await read([new Date(a).toISOString(), new Date(b).toISOString()], a, b)));
    a = b;
  }
  return rows;
}

/** The rollup grouping (`dims`) that keeps exactly the filter's scenario, channel and bot. */
function groupingOf(f: StatsFilter): number {
  return (f.scenarioId !== undefined ? 1 : 0) | (f.channel !== undefined ? 2 : 0) | (f.botId !== undefined ? 4 : 0);
}

const COUNTER_NAMES = ["dialogues", "offered", "answered", "declined", "surveys", "commented"] as const;

const SUMS = COUNTER_NAMES.map((c) => `sum(${c})::float8 AS ${c}`).join(", ");

async function rollupRows(q: SqlQueryable, s: string, f: StatsFilter, tz: string, from: number, to: number, unit: TrendGranularity): Promise<FiguresRow[]> {
  const sole = soleDimension(f);
  if (sole) {
    return q.query<FiguresRow>(
      `SELECT bucket::text AS bucket, scale, rated, score, dialogues, offered, answered, declined, surveys, commented
       FROM (SELECT ${bucketSql("hour", unit)} AS bucket, scale, rated, score, ${SUMS}
             FROM ${s}.survey_dim_rollup
             WHERE dim = $2 AND value = $3 AND hour >= $4::timestamptz AND hour < $5::timestamptz
             GROUP BY 1, 2, 3, 4) AS g`,
      [tz, sole[0], sole[1], new Date(from).toISOString(), new Date(to).toISOString()],
    );
  }
  const dims = groupingOf(f);
  return q.query<FiguresRow>(
    `SELECT bucket::text AS bucket, scale, rated, score, dialogues, offered, answered, declined, surveys, commented
     FROM (SELECT ${bucketSql("hour", unit)} AS bucket, scale, rated, score, ${SUMS}
           FROM ${s}.survey_rollup
           WHERE dims = $2 AND scenario_id = $3 AND channel = $4 AND bot_id = $5 AND hour >= $6::timestamptz AND hour < $7::timestamptz
           GROUP BY 1, 2, 3, 4) AS g`,
    [tz, dims, f.scenarioId ?? "", f.channel ?? "", f.botId ?? "", new Date(from).toISOString(), new Date(to).toISOString()],
  );
}

/** The naive aggregate: every survey row of the period, grouped by trend point and rated value. */
async function surveyRows(q: SqlQueryable, s: string, f: StatsFilter, tz: string, from: number, to: number, unit: TrendGranularity): Promise<FiguresRow[]> {
  const params: unknown[] = [tz, new Date(from).toISOString(), new Date(to).toISOString()];
  const where = filterSql(f, params);
  return q.query<FiguresRow>(
    `SELECT ${bucketSql("dialogue_started_at", unit)}::text AS bucket,
            ${SURVEY_ROW_COUNTERS}
     FROM ${s}.survey
     WHERE dialogue_started_at >= $2::timestamptz AND dialogue_started_at < $3::timestamptz${where}
     GROUP BY 1, 2, 3, 4`,
    params,
  );
}

export interface FiguresContext {
  schema: string;
  zones: Map<string, string>;
  /** The store's rating slots (survey_dim_day.rated). */
  slots: RatingSlots;
  now: number;
}

/** Every figure for a period and filter (see stats/figures.ts for definitions). */
export async function queryFigures(q: SqlQueryable, ctx: FiguresContext, query: FiguresQuery): Promise<Figures> {
  const tz = await checkTimeZone(q, query.timeZone ?? "UTC", ctx.zones);
  const period = await resolvePeriod(q, query, tz, ctx.now);
  const { from_ms: from, to_ms: to, first_day: firstDay, last_day: lastDay } = period;
  const filter = filterOf(query);
  const granularity = trendGranularity(localDays(firstDay, lastDay));
  const buckets = trendBuckets(firstDay, lastDay, granularity);
  // The rollups answer no filter or the (scenario, channel, bot) ones, or one dimension value alone;
  // other combinations with dimensions read the survey rows.
  const rollupsCover = dimensionKeys(filter).length === 0 || soleDimension(filter) !== undefined;
  const useRollups =
    query.source !== "surveys" && rollupsCover && from % HOUR_MS === 0 && to % HOUR_MS === 0 && (await cutsOnWholeHours(q, tz, buckets, granularity));
  const rows = await readFiguresRows(q, ctx.schema, useRollups, filter, tz, from, to, granularity);
  const figures = computeFigures(rows, { from, to, timeZone: tz, filter, granularity, buckets, source: useRollups ? "rollups" : "surveys" });
  // Further metrics: their rollup covers the (scenario, channel, bot) filters; dimensions join the survey rows.
  const metricRows = await readMetricRows(q, ctx.schema, useRollups && dimensionKeys(filter).length === 0, filter, tz, from, to, granularity);
  figures.metrics = computeMetrics(metricRows, buckets);
  if (query.compare !== "previous") return figures;
  // The period of the same length just before, read the same way (its bounds are as aligned as these).
  const before = from - (to - from);
  const previousRows = await readFiguresRows(q, ctx.schema, useRollups, filter, tz, before, from, granularity);
  const previous = computeFigures(previousRows, { from: before, to: from, timeZone: tz, filter, granularity, buckets: [], source: figures.source });
  return { ...figures, previous: comparePeriods(figures, previous) };
}

/** The figures' aggregated rows over [from, to), from the rollups or the survey rows. */
async function readFiguresRows(
  q: SqlQueryable,
  schema: string,
  useRollups: boolean,
  filter: StatsFilter,
  tz: string,
  from: number,
  to: number,
  granularity: TrendGranularity,
): Promise<FiguresRow[]> {
  const rows = await inChunks(from, to, (_range, a, b) => (useRollups ? rollupRows(q, schema, filter, tz, a, b, granularity) : surveyRows(q, schema, filter, tz, a, b, granularity)));
  return rows.map(numericCounters);
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
  /** jsonb: both drivers parse it. */
  context: SurveyContext | null;
  trigger_id: string | null;
  dimensions: SurveyDimensions | null;
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
  throw new StatsQueryError("invalid dialogue-list cursor: pass the nextCursor of the previous page unchanged", "cursor");
}

/** One page of the dialogue list, newest first; keyset on (dialogue_started_at, survey_id). */
export async function queryDialogues(q: SqlQueryable, ctx: FiguresContext, query: DialogueQuery): Promise<DialoguePage> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new StatsQueryError(`limit must be an integer from 1 to 10000, got ${limit}`, "limit");
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
  if (query.triggerId !== undefined) {
    params.push(query.triggerId);
    where += ` AND trigger_id = $${params.length}`;
  }
  if (query.rating !== undefined) {
    params.push(query.rating.min, query.rating.max);
    where += ` AND score >= $${params.length - 1}::float8 AND score <= $${params.length}::float8`;
  }
  if (query.cursor !== undefined) {
    const [ms, id] = decodeCursor(query.cursor);
    params.push(new Date(ms).toISOString(), id);
    where += ` AND (dialogue_started_at, survey_id) < ($${params.length - 1}::timestamptz, $${params.length}::text)`;
  }
  params.push(limit + 1);
  const rows = await q.query<ListRow>(
    `SELECT survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id,
            (extract(epoch FROM dialogue_started_at) * 1000)::float8 AS started_ms, offered, accepted, denied, denied_reason,
            completed, score, scale, comment, comment_sanitized, (extract(epoch FROM completed_at) * 1000)::float8 AS completed_ms,
            context, trigger_id, dimensions
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
    context: r.context ?? null,
    triggerId: r.trigger_id ?? null,
    dimensions: r.dimensions ?? null,
  };
}

/** The filter of a query: its present fields only. */
function filterOf(query: FiguresQuery): StatsFilter {
  const filter: StatsFilter = {};
  if (query.scenarioId !== undefined) filter.scenarioId = query.scenarioId;
  if (query.channel !== undefined) filter.channel = query.channel;
  if (query.botId !== undefined) filter.botId = query.botId;
  if (query.dimensions !== undefined && Object.keys(query.dimensions).length > 0) filter.dimensions = { ...query.dimensions };
  return filter;
}

/**
 * The figures of every value of one dimension over a period (agents by CDSAT), each with its
 * sample size and intervals. Read from survey_dim_rollup when nothing else is filtered and the
 * period falls on whole hours; otherwise, and for a dimension that is not rolled up (a ticket
 * id), from the survey rows (one row per dimension item).
 */
export async function queryGroupedFigures(q: SqlQueryable, ctx: FiguresContext, query: GroupedFiguresQuery): Promise<GroupedFigures> {
  const tz = await checkTimeZone(q, query.timeZone ?? "UTC", ctx.zones);
  const { from_ms: from, to_ms: to } = await resolvePeriod(q, query, tz, ctx.now);
  const filter = filterOf(query);
  const limit = query.limit ?? 500;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new StatsQueryError(`limit must be an integer from 1 to 10000, got ${limit}`, "limit");
  let useRollups = query.source !== "surveys" && Object.keys(filter).length === 0 && from % HOUR_MS === 0 && to % HOUR_MS === 0;
  let rows = await readGroupRows(q, ctx.schema, ctx.slots, useRollups, query.groupBy, filter, from, to);
  // A dimension that is not rolled up (a ticket id) has no rollup rows: its groups come from the surveys.
  if (useRollups && rows.length === 0) {
    useRollups = false;
    rows = await readGroupRows(q, ctx.schema, ctx.slots, false, query.groupBy, filter, from, to);
  }
  // One order whichever rows were read (rollups by slot, survey rows by hash), so the floats
  // summed from them come out bit for bit the same.
  const sorted = rows.sort(byGroupKey);
  const { groups, truncated } = computeGroups(sorted, limit);
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    timeZone: tz,
    filter,
    groupBy: query.groupBy,
    groups,
    truncated,
    source: useRollups ? "rollups" : "surveys",
  };
}

function byGroupKey(a: GroupRow, b: GroupRow): number {
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  if (a.scale !== b.scale) return a.scale < b.scale ? -1 : 1;
  if (a.rated !== b.rated) return a.rated ? 1 : -1;
  return a.score - b.score;
}

/**
 * A grouped query's rows over [from, to): from the rollups — survey_dim_day for the period's whole
 * UTC days, survey_dim_rollup's hours for the partial days at its edges — or the survey rows (one
 * per dimension item).
 */
async function readGroupRows(q: SqlQueryable, schema: string, slots: RatingSlots, rollups: boolean, dim: string, filter: StatsFilter, from: number, to: number): Promise<GroupRow[]> {
  if (!rollups) return readHourlyGroupRows(q, schema, false, dim, filter, from, to);
  const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return readHourlyGroupRows(q, schema, true, dim, filter, from, to);
  const rows = await readHourlyGroupRows(q, schema, true, dim, filter, from, firstDay);
  rows.push(...(await readDayGroupRows(q, schema, slots, dim, firstDay, lastDay)));
  rows.push(...(await readHourlyGroupRows(q, schema, true, dim, filter, lastDay, to)));
  return rows;
}

/**
 * survey_dim_day's rows of [from, to) (whole UTC days) summed per value in SQL, as GroupRows: one
 * row with the counters (its surveys the unrated ones) and one per rated value. The counts by
 * rating slot sum column by column (sum(rated[1]), …) up to the slots this store knows; a row
 * holding a slot allocated since (its `width` beyond them) makes it read the slots and sum again,
 * in a statement of its own, so no rated survey is counted as unrated.
 */
async function readDayGroupRows(q: SqlQueryable, schema: string, slots: RatingSlots, dim: string, from: number, to: number): Promise<GroupRow[]> {
  for (let attempt = 0; ; attempt++) {
    const width = slots.width;
    // One statement for the whole period: its answer is a row per value however long the period
    // is, and chunks would each walk the dimension's whole key range of the primary key.
    const rows = await readDaySums(q, schema, width, dim, [new Date(from).toISOString(), new Date(to).toISOString()]);
    const widest = Math.max(0, ...rows.map((r) => Number(r.width)));
    const grouped = widest <= width ? dayGroupRows(rows, slots) : undefined;
    if (grouped) return grouped;
    if (attempt >= 2) throw new Error(`survey_dim_day counts rating slots that survey_rating_slot does not hold (up to ${widest}, ${slots.width} known): the statistics schema is inconsistent`);
    await slots.refresh(q, schema);
  }
}

interface DaySums extends RollupCounters {
  value: string;
  width: number;
  /** Completed surveys by slot, index 0 = slot 1. */
  rated: number[];
}

async function readDaySums(q: SqlQueryable, schema: string, width: number, dim: string, range: [string, string]): Promise<DaySums[]> {
  const where = `dim = $1 AND day >= ($2::timestamptz AT TIME ZONE 'UTC')::date AND day < ($3::timestamptz AT TIME ZONE 'UTC')::date`;
  const counters = COUNTER_NAMES.map((c) => `sum(${c})::float8 AS ${c}`).join(", ");
  // One array column, however many slots: ARRAY[…] is not bound by a statement's column limit.
  const sums = Array.from({ length: width }, (_, i) => `, sum(rated[${i + 1}])::float8`).join("");
  const rows = await q.query<RollupCounters & { value: string; width: number | null; rated: number[] | null }>(
    `SELECT value, ${counters}, max(cardinality(rated)) AS width, ARRAY[0::float8${sums}] AS rated
     FROM ${schema}.survey_dim_day WHERE ${where} GROUP BY value`,
    [dim, ...range],
  );
  return rows.map((r) => ({ ...r, width: Number(r.width ?? 0), rated: (r.rated ?? []).slice(1).map(Number) }));
}

/** Per value (chunks summed), the counters row and one row per rated value; undefined when a counted slot is not known yet. */
function dayGroupRows(rows: readonly DaySums[], slots: RatingSlots): GroupRow[] | undefined {
  const byValue = new Map<string, { counters: RollupCounters; rated: number[] }>();
  for (const d of rows) {
    let v = byValue.get(d.value);
    if (!v) byValue.set(d.value, (v = { counters: { dialogues: 0, offered: 0, answered: 0, declined: 0, surveys: 0, commented: 0 }, rated: [] }));
    for (const c of COUNTER_NAMES) v.counters[c] += Number(d[c]);
    d.rated.forEach((n, i) => (v.rated[i] = (v.rated[i] ?? 0) + n));
  }
  const out: GroupRow[] = [];
  for (const [value, { counters, rated }] of byValue) {
    let total = 0;
    for (let i = 0; i < rated.length; i++) {
      const count = rated[i];
      if (!count) continue;
      const r = slots.valueOf(i + 1);
      if (!r) return undefined;
      total += count;
      out.push({ value, scale: r.scale, rated: true, score: r.score, dialogues: 0, offered: 0, answered: 0, declined: 0, surveys: count, commented: 0 });
    }
    out.push({ value, scale: "", rated: false, score: 0, ...counters, surveys: counters.surveys - total });
  }
  return out;
}

/** A grouped query's rows over [from, to) from survey_dim_rollup's hours, or from the survey rows, as numbers. */
async function readHourlyGroupRows(q: SqlQueryable, schema: string, rollups: boolean, dim: string, filter: StatsFilter, from: number, to: number): Promise<GroupRow[]> {
  const prefix = `${dim}=`;
  const rows = await inChunks(from, to, (range) => {
    if (rollups) {
      return q.query<GroupRow>(
        `SELECT value, scale, rated, score, ${SUMS} FROM ${schema}.survey_dim_rollup
         WHERE dim = $1 AND hour >= $2::timestamptz AND hour < $3::timestamptz GROUP BY 1, 2, 3, 4`,
        [dim, ...range],
      );
    }
    const params: unknown[] = [prefix, ...range];
    const where = filterSql(filter, params);
    return q.query<GroupRow>(
      `SELECT substr(k, ${prefix.length + 1}) AS value,
              ${SURVEY_ROW_COUNTERS}
       FROM ${schema}.survey, unnest(dim_keys) AS k
       WHERE left(k, ${prefix.length}) = $1 AND dialogue_started_at >= $2::timestamptz AND dialogue_started_at < $3::timestamptz${where}
       GROUP BY 1, 2, 3, 4`,
      params,
    );
  });
  return rows.map(numericCounters);
}

/** Further metrics' rows over [from, to): survey_metric_rollup, or survey_metric (joined to survey for dimensions). */
async function readMetricRows(
  q: SqlQueryable,
  schema: string,
  useRollups: boolean,
  filter: StatsFilter,
  tz: string,
  from: number,
  to: number,
  unit: TrendGranularity,
): Promise<MetricRow[]> {
  const rows = await inChunks(from, to, (range) => {
    if (useRollups) {
      return q.query<MetricRow>(
        `SELECT metric, scale, ${bucketSql("hour", unit)}::text AS bucket, value, sum(responses)::float8 AS responses
         FROM ${schema}.survey_metric_rollup
         WHERE dims = $2 AND scenario_id = $3 AND channel = $4 AND bot_id = $5 AND hour >= $6::timestamptz AND hour < $7::timestamptz
         GROUP BY 1, 2, 3, 4`,
        [tz, groupingOf(filter), filter.scenarioId ?? "", filter.channel ?? "", filter.botId ?? "", ...range],
      );
    }
    const params: unknown[] = [tz, ...range];
    // survey_metric has the scenario, channel and bot columns itself; dimensions are the survey's.
    const where = filterSql({ ...filter, dimensions: undefined }, params, "m.");
    const dimKeys = dimensionKeys(filter);
    let join = "";
    if (dimKeys.length > 0) {
      params.push(dimKeys);
      join = ` JOIN ${schema}.survey s ON s.survey_id = m.survey_id AND s.dim_keys @> $${params.length}::text[]`;
    }
    return q.query<MetricRow>(
      `SELECT m.metric, m.scale, ${bucketSql("m.dialogue_started_at", unit)}::text AS bucket, m.value, count(*)::float8 AS responses
       FROM ${schema}.survey_metric m${join}
       WHERE m.dialogue_started_at >= $2::timestamptz AND m.dialogue_started_at < $3::timestamptz${where}
       GROUP BY 1, 2, 3, 4`,
      params,
    );
  });
  return rows.map((r) => ({ metric: r.metric, scale: r.scale, bucket: r.bucket, value: Number(r.value), responses: Number(r.responses) }));
}
