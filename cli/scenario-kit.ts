/**
 * What CLI commands need around the engine: the action registry (the built-in actions of
 * actions/index.ts and the custom ones of BOTFLOW_ACTIONS, the same as `botflow serve`'s, over a
 * survey queue), the survey tracker on the same queue, and the loader options derived from them.
 *
 * @example
 * const actions = await loadCliActions(io);
 * if (!actions) return EXIT_FAILED;
 * const kit = createScenarioKit({ actions });
 * const scenario = await loadScenarioFile(file, kit.loadOptions);
 */
import path from "node:path";
import { createActionRegistry } from "../actions/index.ts";
import type { ActionRegistry } from "../actions/registry.ts";
import { openActionSetup, type ActionSetup, type ActionSetupOptions } from "../app/action-setup.ts";
import { readConfigFile } from "../app/config-file.ts";
import { configFileName, loadActionSettings } from "../app/config.ts";
import { BotflowError } from "../engine/errors.ts";
import type { LoadOptions } from "../engine/loader.ts";
import type { Tracker } from "../engine/ports.ts";
import type { SurveyQueue } from "../stats/events.ts";
import { SurveyTracker } from "../stats/survey-tracker.ts";
import { println, type CliIo } from "./io.ts";
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
  /** http__request's settings and the custom actions ({@link loadCliActions}); none: no host allowed, no custom action. */
  actions?: ActionSetup;
}

export function createScenarioKit(options: ScenarioKitOptions = {}): ScenarioKit {
  const queue = new RecordingSurveyQueue(options.queue);
  const actions = createActionRegistry({ surveys: queue, ...options.actions });
  // No per-update batch (the tracker's open()): each event reaches the queue when it is recorded,
  // so a transcript shows what an action queued beside it, in the order the dialogue made them.
  const tracker = new SurveyTracker(queue);
  return { actions, tracker: { track: (event, ctx) => tracker.track(event, ctx) }, queue, loadOptions: { actions: actions.specs() } };
}

/**
 * The action setup of the command's environment (BOTFLOW_ACTIONS, BOTFLOW_HTTP_ALLOW_HOSTS,
 * BOTFLOW_HTTP_ENV, from the environment or the BOTFLOW_CONFIG file), custom modules loaded.
 * Undefined, with the problems printed to stderr, when it is invalid or a module does not load.
 */
export async function loadCliActions(io: CliIo, options: ActionSetupOptions = {}): Promise<ActionSetup | undefined> {
  try {
    const fileName = configFileName(io.env, undefined);
    const file = fileName ? await readConfigFile(path.resolve(io.cwd, fileName), fileName) : undefined;
    return await openActionSetup(loadActionSettings(io.env, { cwd: io.cwd, ...(file ? { file } : {}) }), options);
  } catch (err) {
    if (!(err instanceof BotflowError)) throw err;
    println(io.stderr, err.message);
    return undefined;
  }
}
