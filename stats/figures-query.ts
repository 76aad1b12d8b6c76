/**
 * What a caller asks the statistics for: a period, a filter and a time zone. Shared by the
 * figures, the dialogue list, the CLI and the HTTP API.
 */

/** Which dialogues a figures query or the dialogue list looks at; absent means all. */
export interface StatsFilter {
  scenarioId?: string;
  channel?: string;
  botId?: string;
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
   * "auto" (default) reads the hourly rollups when the period's bounds and day cuts fall on
   * whole UTC hours, and the survey rows otherwise (zones such as Asia/Kolkata, odd bounds).
   * "surveys" forces the naive scan over survey rows (benchmarks and cross-checks).
   */
  source?: "auto" | "surveys";
}
