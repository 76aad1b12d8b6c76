import type { Scenario } from "./schema/scenario-schema.ts";
import type { SurveyRules } from "./survey-rules.ts";

/** A scenario that passed strict loading, with the version conversations record. */
export interface LoadedScenario {
  def: Scenario;
  id: string;
  /** A hash of the file's content, after the file's `version` when it has one (`2026.1+3f9c0a1b2c4d`). */
  version: string;
  /** Default locale. */
  locale: string;
  /** Where it was loaded from, for messages. */
  source: string;
  /** `survey_rules:` parsed (engine/survey-rules.ts): the trigger API's defaults, under each call's `policy`. */
  surveyRules?: SurveyRules;
}

/** Parses a schema `Duration` into milliseconds (engine/duration.ts; re-exported where callers have always found it). */
export { durationMs } from "./duration.ts";
