/**
 * What the loader needs to know about the world outside the engine, passed in by the
 * composition root so the engine imports no action and no channel.
 */

/** An action the scenario may name, with the JSON Schema of its `config`. */
export interface ActionSpec {
  name: string;
  description: string;
  configSchema: Record<string, unknown>;
  /**
   * Checks a schema-valid `config` beyond what JSON Schema can say (an allowlisted host, a
   * secret's name); each problem is reported at its `path` inside `config`, with line and column.
   */
  checkConfig?(config: Readonly<Record<string, unknown>>): ActionConfigProblem[];
  /** The variables the action saves with this `config`, so `{{…}}` and `next` rules on them are not warned about. */
  savesVariables?(config: Readonly<Record<string, unknown>>): string[];
}

/** A problem `ActionSpec.checkConfig` found: where inside `config` (`["url"]`, `["save", "status"]`) and what to do. */
export interface ActionConfigProblem {
  path: (string | number)[];
  message: string;
}

/** A channel's rendering limits, checked at load time for every enabled channel. */
export interface ChannelLimits {
  channel: string;
  /** Longest button label, in characters. */
  maxLabelLength: number;
  /** Most buttons one keyboard may carry (including a skip button). */
  maxButtons: number;
  /** Longest message text, in characters. */
  maxTextLength: number;
}

/** Variables whose values feed statistics and therefore must be numeric on keyboards. */
export const NUMERIC_STAT_VARIABLES: ReadonlySet<string> = new Set(["quality_answer"]);
