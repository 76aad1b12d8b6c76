/**
 * Reads a period, filters and paging given as text — the statistics API's query string, or
 * the options of `botflow stats` / `botflow export` — into store queries, with one meaning
 * and one set of bounds everywhere: `to` as a day is included; days must exist; years fall in
 * MIN_YEAR–MAX_YEAR; `from` comes before `to`; the figures cover at most MAX_PERIOD_DAYS;
 * time zones are IANA names; unknown parameters are refused rather than silently ignored.
 *
 * @example
 * const q = figuresQuery({ from: "2026-03-01", to: "2026-03-31", tz: "Europe/Kyiv" });
 * if (!q.ok) reply.code(400).send({ error: "bad_request", parameter: q.parameter, message: q.message });
 */
import { MAX_PERIOD_DAYS, MAX_YEAR, MIN_YEAR, StatsQueryError, type FiguresQuery, type GroupedFiguresQuery, type PeriodBound } from "./figures-query.ts";
import type { DialogueQuery } from "./store/survey-store.ts";
import { EVENT_ID } from "./queue/parse-survey-event.ts";

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** ISO 8601 extended date-time with an explicit offset: no expanded (±YYYYYY) years, no local time. */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;
const ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const CURSOR = /^[A-Za-z0-9_=.:-]{1,400}$/;
const DAY_MS = 86_400_000;
/** Dialogue-list page sizes the API allows (the CLI's export pages are its own). */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** Query parameters as a web framework hands them over: a repeated key may come as an array. */
export type QueryParams = Readonly<Record<string, unknown>>;

/** A query ready for the store, or which parameter is wrong and why. */
export type ParsedQuery<T> = { ok: true; query: T } | { ok: false; parameter: string; message: string };

/** A checked period bound: an instant, or a local calendar day (cut in the query's zone). */
export type CheckedBound = { ms: number; day?: undefined } | { day: string; ms?: undefined };

function show(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function yearProblem(year: number): string | null {
  return year < MIN_YEAR || year > MAX_YEAR ? `is outside the years ${MIN_YEAR}–${MAX_YEAR} the statistics cover` : null;
}

/**
 * Checks one period bound, as given by a caller (text) or by code (epoch ms); `name` is how
 * the caller spells the parameter ("from", "--to"). Throws StatsQueryError naming it.
 */
export function checkBound(b: PeriodBound, name: string): CheckedBound {
  const parameter = name.replace(/^-+/, "");
  const fail = (why: string): never => {
    throw new StatsQueryError(`${name} ${typeof b === "number" ? String(b) : show(b)} ${why}`, parameter);
  };
  if (typeof b === "number") {
    if (!Number.isFinite(b)) fail("must be a finite number of epoch milliseconds");
    const problem = yearProblem(new Date(Math.max(-8.64e15, Math.min(8.64e15, b))).getUTCFullYear());
    if (problem) fail(problem);
    return { ms: b };
  }
  const day = DAY.exec(b);
  const stamp = day ? null : TIMESTAMP.exec(b);
  const m = day ?? stamp;
  if (!m) return fail("must be a day (YYYY-MM-DD) or an ISO timestamp with an offset (2026-03-01T09:00:00Z)");
  const [year, month, date] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const problem = yearProblem(year);
  if (problem) fail(problem);
  if (month < 1 || month > 12 || date < 1 || date > daysInMonth(year, month)) fail("is not a calendar day");
  if (day) return { day: b };
  const [hour, minute, second, offH, offM] = [4, 5, 6, 7, 8].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number];
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) fail("is not a valid time of day or offset");
  const ms = Date.parse(b);
  if (Number.isNaN(ms)) fail("is not an ISO timestamp");
  return { ms };
}

/** The bound as an approximate instant (a day as its UTC midnight): for checks in whole days. */
function approxMs(b: CheckedBound): number {
  return b.ms ?? Date.parse(`${b.day}T00:00:00Z`);
}

const FIGURES_PARAMS = ["from", "to", "tz", "scenario", "channel", "bot", "compare", "group_by", "limit"] as const;
const FILTER_PARAMS = ["from", "to", "tz", "scenario", "channel", "bot"] as const;
const LIST_PARAMS = [...FILTER_PARAMS, "surveysOnly", "trigger", "rating", "limit", "cursor"] as const;
const EXPORT_PARAMS = [...FILTER_PARAMS, "surveysOnly", "trigger", "rating"] as const;
/** A rating filter: one value ("3") or a range ("1-2", "4-5"; "-1-1" on a scale with negatives). */
const RATING = /^(-?\d{1,6}(?:\.\d{1,6})?)(?:-(-?\d{1,6}(?:\.\d{1,6})?))?$/;
/** A survey dimension filter: `dim.agent=olena` (any variable name after the dot). */
const DIM_PARAM = /^dim\.([A-Za-z_][A-Za-z0-9_]{0,63})$/;
/** Dimension filters one query may combine. */
const MAX_DIM_FILTERS = 5;

/** What `figuresQuery`, `dialogueQuery` and `exportQuery` accept besides the parameters. */
export interface ParamOptions {
  /** How parameter names are written in messages: "" for the API, "--" on the command line. */
  prefix?: string;
}

class ParamError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(fn: () => T): ParsedQuery<T> {
  try {
    return { ok: true, query: fn() };
  } catch (err) {
    if (err instanceof ParamError) return { ok: false, parameter: err.parameter, message: err.message };
    if (err instanceof StatsQueryError) return { ok: false, parameter: err.parameter ?? "query", message: err.message };
    throw err;
  }
}

/** Reads the string value of a parameter; refuses arrays (a key given twice) and non-strings. */
function reader(params: QueryParams, allowed: readonly string[], prefix: string) {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key) && !DIM_PARAM.test(key)) {
      throw new ParamError(key, `unknown parameter ${show(key)}: this endpoint takes ${allowed.join(", ")} and dim.<name> (a survey dimension such as dim.agent)`);
    }
  }
  return (name: string): string | undefined => {
    const v = params[name];
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string") throw new ParamError(name, `${prefix}${name} must be given once`);
    return v;
  };
}

/** The `dim.<name>=value` parameters as a dimensions filter. */
function readDimensions(params: QueryParams, get: (name: string) => string | undefined, prefix: string): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const key of Object.keys(params)) {
    const m = DIM_PARAM.exec(key);
    if (!m) continue;
    const value = get(key);
    if (value === undefined) continue;
    if (value.length > 200) throw new ParamError(key, `${prefix}${key} must be at most 200 characters`);
    out ??= Object.create(null) as Record<string, string>;
    out[m[1] as string] = value;
    if (Object.keys(out).length > MAX_DIM_FILTERS) throw new ParamError(key, `${prefix}${key}: at most ${MAX_DIM_FILTERS} dimension filters (${prefix}dim.<name>) at once`);
  }
  return out ? { ...out } : undefined;
}

function readFigures(get: (name: string) => string | undefined, prefix: string, boundedPeriod: boolean, params: QueryParams = {}): FiguresQuery {
  const q: FiguresQuery = {};
  const dims = readDimensions(params, get, prefix);
  if (dims) q.dimensions = dims;
  const bounds: Partial<Record<"from" | "to", CheckedBound>> = {};
  for (const name of ["from", "to"] as const) {
    const value = get(name);
    if (value === undefined) continue;
    const b = checkBound(value, `${prefix}${name}`);
    bounds[name] = b;
    // A day as `to` is included: the store's end is exclusive, so it gets the next day.
    q[name] = name === "to" && b.day !== undefined ? new Date(Date.parse(`${b.day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10) : value;
  }
  if (bounds.from && bounds.to) {
    // Both days: `to` is included, so equal is fine. Otherwise compare instants (a day at UTC
    // midnight: the store checks exactly once the zone is known).
    const from = approxMs(bounds.from);
    const to = approxMs(bounds.to) + (bounds.to.day !== undefined ? DAY_MS : 0);
    const slack = (bounds.from.day === undefined) !== (bounds.to.day === undefined) ? DAY_MS : 0;
    if (from >= to + slack) throw new ParamError("to", `${prefix}to ${show(get("to") ?? "")} is not after ${prefix}from ${show(get("from") ?? "")}: the period is empty`);
    if (boundedPeriod && to - from > (MAX_PERIOD_DAYS + 1) * DAY_MS) {
      throw new ParamError("from", `the period from ${get("from")} to ${get("to")} is longer than the ${MAX_PERIOD_DAYS} days (ten years) the figures cover: move ${prefix}from or ${prefix}to closer`);
    }
  }
  for (const [param, key] of [["scenario", "scenarioId"], ["channel", "channel"], ["bot", "botId"]] as const) {
    const value = get(param);
    if (value === undefined) continue;
    if (!ID.test(value)) throw new ParamError(param, `${prefix}${param} must be an id (letters, digits, _ . : -)`);
    q[key] = value;
  }
  const tz = get("tz");
  if (tz !== undefined) {
    if (!isTimeZone(tz)) throw new ParamError("tz", `${prefix}tz ${show(tz)} is not an IANA time zone such as UTC or Europe/Kyiv`);
    q.timeZone = tz;
  }
  return q;
}

/**
 * The figures query of `params` (from, to, tz, scenario, channel, bot, dim.<name>, compare=previous),
 * or what is wrong. With `group_by=<dimension>` (and `limit`, 1–10,000 groups) it is a grouped query.
 */
export function figuresQuery(params: QueryParams, o: ParamOptions = {}): ParsedQuery<FiguresQuery | GroupedFiguresQuery> {
  const prefix = o.prefix ?? "";
  return parse(() => {
    const get = reader(params, FIGURES_PARAMS, prefix);
    const q: FiguresQuery | GroupedFiguresQuery = readFigures(get, prefix, true, params);
    const compare = get("compare");
    if (compare !== undefined) {
      if (compare !== "previous") throw new ParamError("compare", `${prefix}compare must be "previous" (the period of the same length just before)`);
      q.compare = "previous";
    }
    const groupBy = get("group_by");
    const limit = get("limit");
    if (groupBy === undefined) {
      if (limit !== undefined) throw new ParamError("limit", `${prefix}limit applies to grouped figures: give ${prefix}group_by too`);
      return q;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(groupBy)) throw new ParamError("group_by", `${prefix}group_by must name a survey dimension (a variable name such as agent, team or tags)`);
    if (q.compare !== undefined) throw new ParamError("compare", `${prefix}compare applies to ungrouped figures`);
    const grouped: GroupedFiguresQuery = { ...q, groupBy };
    if (limit !== undefined) {
      const n = Number(limit);
      if (!/^\d{1,5}$/.test(limit) || n < 1 || n > 10_000) throw new ParamError("limit", `${prefix}limit must be a whole number of groups from 1 to 10000`);
      grouped.limit = n;
    }
    return grouped;
  });
}

/** Whether a parsed figures query is grouped by a dimension. */
export function isGrouped(q: FiguresQuery | GroupedFiguresQuery): q is GroupedFiguresQuery {
  return "groupBy" in q && typeof q.groupBy === "string";
}

function readSurveysOnly(get: (name: string) => string | undefined, prefix: string): boolean {
  const v = get("surveysOnly");
  if (v === undefined || v === "0" || v === "false") return false;
  if (v === "1" || v === "true") return true;
  throw new ParamError("surveysOnly", `${prefix}surveysOnly must be 1, true, 0 or false`);
}

/**
 * The list's own filters: surveysOnly, trigger (the one dialogue a trigger API call started) and
 * rating (the dialogues whose rating lies in a range: rating=1-2 the unhappy ones).
 */
function readListFilters(get: (name: string) => string | undefined, prefix: string, out: DialogueQuery): void {
  if (readSurveysOnly(get, prefix)) out.surveysOnly = true;
  const rating = get("rating");
  if (rating !== undefined) {
    const m = RATING.exec(rating);
    const [min, max] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [Number.NaN, Number.NaN];
    if (!(min <= max)) throw new ParamError("rating", `${prefix}rating ${show(rating)} must be a rating or a range of ratings, lowest first: 1-2, 3 or 4-5`);
    out.rating = { min, max };
  }
  const trigger = get("trigger");
  if (trigger === undefined) return;
  if (!EVENT_ID.test(trigger)) throw new ParamError("trigger", `${prefix}trigger ${show(trigger)} must be a trigger id: 1–200 characters of A-Z a-z 0-9 _ . @ + -`);
  out.triggerId = trigger;
}

/** One page of the dialogue list: the figures' filters plus surveysOnly, trigger, limit (1–500, default 50) and cursor. */
export function dialogueQuery(params: QueryParams, o: ParamOptions = {}): ParsedQuery<DialogueQuery> {
  const prefix = o.prefix ?? "";
  return parse(() => {
    const get = reader(params, LIST_PARAMS, prefix);
    const out: DialogueQuery = { ...readFigures(get, prefix, false, params), limit: DEFAULT_PAGE_SIZE };
    readListFilters(get, prefix, out);
    const limit = get("limit");
    if (limit !== undefined) {
      const n = Number(limit);
      if (!/^\d{1,6}$/.test(limit) || n < 1 || n > MAX_PAGE_SIZE) throw new ParamError("limit", `${prefix}limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
      out.limit = n;
    }
    const cursor = get("cursor");
    if (cursor !== undefined) {
      if (!CURSOR.test(cursor)) throw new ParamError("cursor", `${prefix}cursor must be the nextCursor of a previous page`);
      out.cursor = cursor;
    }
    return out;
  });
}

/** The whole dialogue list (an export): the figures' filters plus surveysOnly and trigger; any period length. */
export function exportQuery(params: QueryParams, o: ParamOptions = {}): ParsedQuery<Omit<DialogueQuery, "limit" | "cursor">> {
  const prefix = o.prefix ?? "";
  return parse(() => {
    const get = reader(params, EXPORT_PARAMS, prefix);
    const out: DialogueQuery = readFigures(get, prefix, false, params);
    readListFilters(get, prefix, out);
    return out;
  });
}

function isTimeZone(tz: string): boolean {
  if (tz.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
