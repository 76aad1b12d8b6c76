/**
 * The statistics store port: one record per survey plus the rollups behind the figures.
 * PostgreSQL (`pg`, production) and PGlite (embedded default) implement it with the same
 * schema and the same SQL, and pass the same contract tests (test/stats/store-contract.ts).
 *
 * Deliberately left out: deleting or editing surveys, per-user history, and any query
 * that the figures, the dialogue list and the export do not need.
 */
import type { SurveyContext, SurveyDimensions, SurveyEvent } from "../events.ts";
import type { SurveyDerived } from "./survey-state.ts";
import type { Figures, GroupedFigures } from "../figures.ts";
import type { FiguresQuery, GroupedFiguresQuery, PeriodBound, StatsFilter } from "../figures-query.ts";

export type { PeriodBound, StatsFilter } from "../figures-query.ts";

/** One page of the dialogue list, newest dialogue first. */
export interface DialogueQuery extends StatsFilter {
  /** Dialogues started at or after this (default: the beginning of time). */
  from?: PeriodBound;
  /** Dialogues started before this (default: no end). */
  to?: PeriodBound;
  /** Time zone for calendar-day bounds; default UTC. */
  timeZone?: string;
  /** Only dialogues whose survey was completed (statistic__set recorded something). */
  surveysOnly?: boolean;
  /** Only the dialogue the trigger API call with this id started (`survey_trigger_idx`). */
  triggerId?: string;
  /** Only dialogues whose CSAT column (the rating given) lies in [min, max]: `{min: 1, max: 2}` reads the unhappy ones. */
  rating?: { min: number; max: number };
  /** Rows per page, 1–10,000; default 100. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * One dialogue in the list, with its CSAT and client-comment columns: the survey's identity and
 * the derived columns of its row (`score` is the CSAT column; `comment` the client-comment one,
 * "" for a rating without a comment, null when there is neither — personal data; `commentSanitized`
 * when it had to be cleaned to be stored), then what started the dialogue: `context`, the start
 * variables (a trigger's agent, team, ticket; null when it had none), and `triggerId`, the trigger
 * API call (null when the user started it).
 */
export type DialogueRow = Pick<SurveyEvent, "surveyId" | "scenarioId" | "scenarioVersion" | "channel" | "botId" | "conversationId" | "dialogueStartedAt"> &
  Pick<SurveyDerived, "offered" | "accepted" | "denied" | "deniedReason" | "completed" | "score" | "scale" | "comment" | "commentSanitized" | "completedAt"> & {
    context: SurveyContext | null;
    triggerId: string | null;
    /** The survey's dimensions as frozen when its rating was offered; null when it has none. */
    dimensions: SurveyDimensions | null;
  };

export interface DialoguePage {
  rows: DialogueRow[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export interface SurveyStore {
  /** Creates or upgrades the schema; safe when several processes start at once. */
  migrate(): Promise<void>;
  /**
   * Folds events into survey records and rollups in one transaction. Idempotent: an event
   * (identified by `surveyJobId`) applied twice, in one batch or in two, counts once.
   */
  apply(events: readonly SurveyEvent[]): Promise<void>;
  /** The figures for a period and filter, days cut in the query's time zone (see stats/figures.ts). */
  figures(query: FiguresQuery): Promise<Figures>;
  /** The figures of each value of one survey dimension (agent, team, tag) over a period. */
  groupedFigures(query: GroupedFiguresQuery): Promise<GroupedFigures>;
  /** One page of the dialogue list, newest first (keyset pagination: stable under inserts). */
  listDialogues(query: DialogueQuery): Promise<DialoguePage>;
  close(): Promise<void>;
}
