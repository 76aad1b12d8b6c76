/**
 * What the loader needs to know about the world outside the engine, passed in by the
 * composition root so the engine imports no action and no channel.
 */
import type { OutMessage } from "./types.ts";

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

/**
 * A channel's rendering limits and what it makes of a question, declared once by each channel
 * (its `limits`) and checked at load time: as errors for the enabled channels (the scenario does
 * not load), as warnings for the others (it loads, but that channel would refuse it).
 */
export interface ChannelLimits {
  channel: string;
  /** Longest button label, in characters. */
  maxLabelLength: number;
  /** Most buttons one keyboard may carry (including a skip button). */
  maxButtons: number;
  /** Longest message text, in characters. */
  maxTextLength: number;
  /**
   * How the channel shows a question (`botflow validate --channels`), and what it could not send
   * beyond the limits above. Given the message the interpreter sends for the question, with
   * `{{variables}}` not replaced. Pure and fast: it runs for every question at every load.
   * Absent: the question is shown as buttons.
   */
  planQuestion?(message: QuestionMessage): QuestionPlan;
}

/** A question as the interpreter sends it (engine/types.ts `OutMessage`), with its prompt id. */
export type QuestionMessage = OutMessage & { promptId: string };

/** What one channel makes of one question. */
export interface QuestionPlan {
  /** In a few words: "inline keyboard, 5 buttons in 1 row", "list, 7 rows", "numbered prompt". */
  form: string;
  /** What the channel would refuse, beyond ChannelLimits, each at the part of the question at fault. */
  problems?: QuestionPlanProblem[];
}

export interface QuestionPlanProblem {
  /** The question's text, its keyboard as a whole, or the button at this index of `message.buttons`. */
  at: "text" | "buttons" | number;
  /** What is wrong and how to fix it, without the block or channel name (the loader adds them). */
  message: string;
}

/** Variables whose values feed statistics and therefore must be numeric on keyboards. */
export const NUMERIC_STAT_VARIABLES: ReadonlySet<string> = new Set(["quality_answer"]);
