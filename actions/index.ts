/**
 * The built-in actions, listed once: `botflow serve` and the CLI (`validate`, `chat`, `run`)
 * register the same ones, so a scenario that one accepts the other accepts too. A new built-in
 * is one file in this folder and one line here. Custom actions (BOTFLOW_ACTIONS, loaded by
 * load-custom-actions.ts) are registered after them.
 *
 * @example
 * const actions = createActionRegistry({ surveys: queue, http: { allowHosts, env, retry } });
 * const scenario = await loadScenarioFile(file, { actions: actions.specs() });
 */
import type { SurveyQueue } from "../stats/events.ts";
import { httpRequestAction, HTTP_REQUEST, type HttpRequestDeps } from "./http-request.ts";
import { ActionRegistry, type ActionDefinition } from "./registry.ts";
import { statisticSetAction } from "./statistic-set.ts";

/** What the built-in actions run against. */
export interface ActionDeps {
  /** Where statistic__set queues a survey. */
  surveys: SurveyQueue;
  /** What http__request may call and send; absent: no host and no secret is allowed. */
  http?: HttpRequestDeps;
  /** Custom actions (load-custom-actions.ts), registered after the built-ins. */
  custom?: readonly ActionDefinition[];
}

/** The names of the built-in actions: a custom action may not take one. */
export const BUILT_IN_ACTION_NAMES: readonly string[] = ["statistic__set", HTTP_REQUEST];

/** Sends nothing again: with no host allowed, http__request never runs anyway. */
const NO_HTTP: HttpRequestDeps = { allowHosts: [], env: {}, retry: (fn) => fn(1) };

/** The built-in actions, in the order they are registered. */
export function builtInActions(deps: ActionDeps): ActionDefinition[] {
  return [statisticSetAction(deps.surveys), httpRequestAction(deps.http ?? NO_HTTP)];
}

/** A registry holding every built-in action, then the custom ones. */
export function createActionRegistry(deps: ActionDeps): ActionRegistry {
  const registry = new ActionRegistry();
  for (const action of builtInActions(deps)) registry.register(action);
  for (const action of deps.custom ?? []) {
    if (registry.has(action.name)) throw new Error(`custom action "${action.name}" has a built-in action's name; give it another`);
    registry.register(action);
  }
  return registry;
}
