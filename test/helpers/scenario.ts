/**
 * Test helper: loads a scenario from YAML text through the real strict loader, checked
 * against the real action specs (statistic__set), so tests exercise what production runs.
 */
import { ActionRegistry } from "../../actions/registry.ts";
import { statisticSetAction } from "../../actions/statistic-set.ts";
import { formatProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import type { SurveyEvent, SurveyQueue } from "../../stats/events.ts";

/** A SurveyQueue that keeps what it was given, in order. */
export class RecordingQueue implements SurveyQueue {
  readonly events: SurveyEvent[] = [];
  async add(event: SurveyEvent): Promise<void> {
    this.events.push(event);
  }
  async close(): Promise<void> {}
}

/** The real action registry (statistic__set) over `queue`. */
export function testActions(queue: SurveyQueue = new RecordingQueue()): ActionRegistry {
  return new ActionRegistry().register(statisticSetAction(queue));
}

const specs = testActions().specs();

/** Loads `yaml` or throws with every problem as `file:line:col: severity: message`. */
export function loadTestScenario(yaml: string, file = "test.yaml"): LoadedScenario {
  const result = loadScenarioText(yaml, file, { actions: specs });
  if (!result.scenario) throw new Error(`test scenario does not load:\n${result.problems.map(formatProblem).join("\n")}`);
  return result.scenario;
}

/** Freezes `value` and everything reachable from it, so a test fails if code mutates it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
