import type { Scenario } from "./schema/scenario-schema.ts";
import type { Dimension } from "./survey-dimensions.ts";
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
  /** `dimensions:` parsed (engine/survey-dimensions.ts): frozen into each survey when its rating is offered. */
  dimensions?: readonly Dimension[];
  /** Its goto_scenario blocks, with where each names its target: checked against the other scenarios (engine/handovers.ts). */
  handovers?: readonly Handover[];
}

/** A goto_scenario block: the scenario it hands the conversation over to. */
export interface Handover {
  blockId: string;
  /** The scenario id the block names. */
  target: string;
  /** Reached from start through message and action blocks only: the handover happens before the user answers anything. */
  immediate: boolean;
  /** Where the file names the target (`scenario: csat`). */
  line: number;
  col: number;
}

/** Parses a schema `Duration` into milliseconds (engine/duration.ts; re-exported where callers have always found it). */
export { durationMs } from "./duration.ts";
