/**
 * The built-in actions, listed once: `botflow serve` and the CLI (`validate`, `chat`, `run`)
 * register the same ones, so a scenario that one accepts the other accepts too. A new built-in
 * is one file in this folder and one line here.
 *
 * @example
 * const actions = createActionRegistry({ surveys: queue });
 * const scenario = await loadScenarioFile(file, { actions: actions.specs() });
 */
import type { SurveyQueue } from "../stats/events.ts";
import { ActionRegistry, type ActionDefinition } from "./registry.ts";
import { statisticSetAction } from "./statistic-set.ts";

/** What the built-in actions run against. */
export interface ActionDeps {
  /** Where statistic__set queues a survey. */
  surveys: SurveyQueue;
}

/** The built-in actions, in the order they are registered. */
export function builtInActions(deps: ActionDeps): ActionDefinition[] {
  return [statisticSetAction(deps.surveys)];
}

/** A registry holding every built-in action. */
export function createActionRegistry(deps: ActionDeps): ActionRegistry {
  const registry = new ActionRegistry();
  for (const action of builtInActions(deps)) registry.register(action);
  return registry;
}
