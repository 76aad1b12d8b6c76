/**
 * The actions every process that loads scenarios registers, built once from the action settings:
 * http__request over the shared retry helper and Node's fetch, and the custom action modules
 * (BOTFLOW_ACTIONS). `botflow serve` (app/compose.ts) and the CLI commands (cli/scenario-kit.ts)
 * both come through here, so a scenario one accepts the others accept too.
 *
 * @example
 * const setup = await openActionSetup(config.actions, { logger });
 * const actions = createActionRegistry({ surveys, ...setup });
 */
import { BUILT_IN_ACTION_NAMES, type ActionDeps } from "../actions/index.ts";
import { loadCustomActions } from "../actions/load-custom-actions.ts";
import { retry } from "../channels/retry.ts";
import type { Logger } from "../engine/ports.ts";
import type { ActionSettings } from "./action-settings.ts";

/** Everything createActionRegistry needs but the survey queue. */
export type ActionSetup = Required<Omit<ActionDeps, "surveys">>;

export interface ActionSetupOptions {
  logger?: Logger;
  /** http__request's HTTP client instead of Node's fetch (`botflow test` answers its mocks with one). */
  fetch?: typeof fetch;
}

/** Loads the custom action modules and wires http__request; throws ConfigError naming a bad module. */
export async function openActionSetup(settings: ActionSettings, o: ActionSetupOptions = {}): Promise<ActionSetup> {
  const custom = await loadCustomActions(settings.modules, BUILT_IN_ACTION_NAMES);
  return {
    custom,
    http: {
      allowHosts: settings.http.allowHosts,
      env: settings.http.env,
      retry,
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    },
  };
}
