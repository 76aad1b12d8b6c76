/**
 * What CLI commands need around the engine: the action registry (the built-in actions of
 * actions/index.ts, the same as `botflow serve`'s, over a survey queue), the survey tracker on
 * the same queue, and the loader options derived from them.
 *
 * @example
 * const kit = createScenarioKit();
 * const scenario = await loadScenarioFile(file, kit.loadOptions);
 */
import { createActionRegistry } from "../actions/index.ts";
import type { ActionRegistry } from "../actions/registry.ts";
import type { LoadOptions } from "../engine/loader.ts";
import type { Tracker } from "../engine/ports.ts";
import type { SurveyQueue } from "../stats/events.ts";
import { SurveyTracker } from "../stats/survey-tracker.ts";
import { RecordingSurveyQueue } from "./recording-survey-queue.ts";

export interface ScenarioKit {
  actions: ActionRegistry;
  tracker: Tracker;
  /** Every survey event goes through here; `events` lists them in order. */
  queue: RecordingSurveyQueue;
  loadOptions: LoadOptions;
}

export interface ScenarioKitOptions {
  /** Where survey events go besides the in-memory record (the in-process or BullMQ queue); none by default. */
  queue?: SurveyQueue;
}

export function createScenarioKit(options: ScenarioKitOptions = {}): ScenarioKit {
  const queue = new RecordingSurveyQueue(options.queue);
  const actions = createActionRegistry({ surveys: queue });
  return { actions, tracker: new SurveyTracker(queue), queue, loadOptions: { actions: actions.specs() } };
}
