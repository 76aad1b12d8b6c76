/**
 * What a caller asks the statistics for: a period, a filter and a time zone. Shared by the
 * figures, the dialogue list, the CLI and the HTTP API, with the bounds every reader enforces.
 */
import { BotflowError } from "../engine/errors.ts";

/** Which dialogues a figures query or the dialogue list looks at; absent means all. */
export interface StatsFilter {
  scenarioId?: string;
  channel?: string;
  botId?: string;
  /**
   * Survey dimension values the surveys must have (`{ team: "billing" }`; a list dimension such as
   * tags matches when one of its items is the value). Frozen when the rating was offered.
   */
  dimensions?: Readonly<Record<string, string>>;
}

/**
 * One end of a period: epoch milliseconds, an ISO timestamp with an offset, or a calendar
 * day "YYYY-MM-DD", which means that day's midnight in the query's time zone.
 */
export type PeriodBound = number | string;

export interface FiguresQuery extends StatsFilter {
  /** Start of the period (inclusive); default 30 days before `to`. */
  from?: PeriodBound;
  /** End of the period (exclusive); default the start of tomorrow in `timeZone`. */
  to?: PeriodBound;
  /** IANA time zone the days are cut in; default "UTC". */
  timeZone?: string;
  /**
   * "auto" (default) reads the hourly rollups when the period's bounds and trend cuts fall on
   * whole UTC hours, and the survey rows otherwise (zones such as Asia/Kolkata, odd bounds).
   * "surveys" forces the naive scan over survey rows (benchmarks and cross-checks).
   */
  source?: "auto" | "surveys";
  /** "previous": also the figures of the period of the same length just before, and the change (Figures.previous). */
  compare?: "previous";
}

/** A figures query grouped by one dimension: the figures of each of its values (`groupFigures`). */
export interface GroupedFiguresQuery extends FiguresQuery {
  groupBy: string;
  /** Groups returned at most, largest first (default 500). */
  limit?: number;
}

/** Years a period bound may fall in: the statistics hold clock times, nothing before 1970. */
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2999;
/** The longest period the figures cover: ten calendar years (with their leap days). */
export const MAX_PERIOD_DAYS = 3653;

/** How the trend is cut: chosen from the period's length so it never has more than ~120 points. */
export type TrendGranularity = "day" | "week" | "month";
/** Periods up to this many local days get one trend point per day, … */
export const DAILY_TREND_MAX_DAYS = 92;
/** … up to this many one per ISO week, longer ones one per month. */
export const WEEKLY_TREND_MAX_DAYS = 735;

/** The trend granularity of a period of `days` local days. */
export function trendGranularity(days: number): TrendGranularity {
  return days <= DAILY_TREND_MAX_DAYS ? "day" : days <= WEEKLY_TREND_MAX_DAYS ? "week" : "month";
}

/**
 * A figures or list query that cannot run as asked (bad zone, bad period, bad cursor);
 * `parameter` names the query parameter at fault (the API answers 400 with it).
 */
export class StatsQueryError extends BotflowError {
  constructor(
    message: string,
    readonly parameter?: string,
  ) {
    super("STATS_QUERY_INVALID", message);
  }
}
