/**
 * The statistics store port: one record per survey plus the rollups behind the figures.
 * PostgreSQL (`pg`, production) and PGlite (embedded default) implement it with the same
 * schema and the same SQL, and pass the same contract tests.
 *
 * Deliberately left out: deleting or editing surveys, per-user history, and any query
 * that the figures, the dialogue list and the export do not need.
 */
import type { SurveyEvent } from "../events.ts";

export interface SurveyStore {
  /** Creates or upgrades the schema; safe when several processes start at once. */
  migrate(): Promise<void>;
  /**
   * Folds events into survey records and rollups in one transaction. Idempotent: an event
   * (identified by `surveyJobId`) applied twice, in one batch or in two, counts once.
   */
  apply(events: readonly SurveyEvent[]): Promise<void>;
  close(): Promise<void>;
}
