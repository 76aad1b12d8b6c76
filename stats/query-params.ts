/**
 * Reads a period, filters and paging given as text — the statistics API's query string, or
 * the options of `botflow stats` / `botflow export` — into store queries, with one meaning
 * everywhere: `to` as a day is included.
 */
import type { FiguresQuery } from "./figures-query.ts";
import type { DialogueQuery } from "./store/survey-store.ts";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const CURSOR = /^[A-Za-z0-9_=.:-]{1,400}$/;

export type QueryParams = Readonly<Record<string, string | undefined>>;

/**
 * The figures query of `params`; a string says what is wrong, naming each parameter as
 * `prefix` + its name (`--from` on the command line).
 */
export function figuresQuery(params: QueryParams, prefix = ""): FiguresQuery | string {
  const q: FiguresQuery = {};
  for (const name of ["from", "to"] as const) {
    const value = params[name];
    if (value === undefined || value === "") continue;
    if (DAY.test(value)) {
      const ms = Date.parse(`${value}T00:00:00Z`);
      if (Number.isNaN(ms)) return `${prefix}${name} "${value}" is not a calendar day`;
      q[name] = name === "to" ? new Date(ms + 86_400_000).toISOString().slice(0, 10) : value;
    } else if (/T/.test(value) && !Number.isNaN(Date.parse(value))) q[name] = value;
    else return `${prefix}${name} "${value.slice(0, 64)}" must be a day (YYYY-MM-DD) or an ISO timestamp`;
  }
  for (const [param, key] of [["scenario", "scenarioId"], ["channel", "channel"], ["bot", "botId"]] as const) {
    const value = params[param];
    if (value === undefined || value === "") continue;
    if (!ID.test(value)) return `${prefix}${param} must be an id (letters, digits, _ . : -)`;
    q[key] = value;
  }
  const tz = params.tz;
  if (tz !== undefined && tz !== "") {
    if (!isTimeZone(tz)) return `${prefix}tz "${tz.slice(0, 64)}" is not an IANA time zone such as UTC or Europe/Kyiv`;
    q.timeZone = tz;
  }
  return q;
}

/** The dialogue-list query of `params` (figures query plus surveysOnly, limit, cursor). */
export function dialogueQuery(params: QueryParams, maxLimit = 500): DialogueQuery | string {
  const base = figuresQuery(params);
  if (typeof base === "string") return base;
  const { source: _source, ...q } = base as FiguresQuery & { source?: unknown };
  const out: DialogueQuery = { ...q };
  if (params.surveysOnly === "1" || params.surveysOnly === "true") out.surveysOnly = true;
  if (params.limit !== undefined && params.limit !== "") {
    const n = Number(params.limit);
    if (!/^\d+$/.test(params.limit) || n < 1 || n > maxLimit) return `limit must be a whole number from 1 to ${maxLimit}`;
    out.limit = n;
  }
  if (params.cursor !== undefined && params.cursor !== "") {
    if (!CURSOR.test(params.cursor)) return "cursor must be the nextCursor of a previous page";
    out.cursor = params.cursor;
  }
  return out;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
