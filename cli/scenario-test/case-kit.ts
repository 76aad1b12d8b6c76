/**
 * The kits test cases run with: the CLI's own (cli/scenario-kit.ts: the built-in actions and the
 * custom ones of BOTFLOW_ACTIONS, http__request's allowlist and secrets from the environment or
 * BOTFLOW_CONFIG, as `botflow serve` has them), except that http__request's fetch answers from
 * the case's `mock:` steps and its retries do not pause: the case runs on a simulated clock, and
 * nothing leaves the process.
 */
import { retry } from "../../channels/retry.ts";
import type { ActionSetup } from "../../app/action-setup.ts";
import type { CliIo } from "../io.ts";
import { createScenarioKit, loadCliActions, type ScenarioKit } from "../scenario-kit.ts";
import { HttpMocks } from "./http-mocks.ts";

export class CaseKits {
  private constructor(private readonly setup: ActionSetup) {}

  /** The kits of this environment; undefined, the problems printed, when its action settings are invalid. */
  static async open(io: CliIo): Promise<CaseKits | undefined> {
    const setup = await loadCliActions(io);
    return setup ? new CaseKits(setup) : undefined;
  }

  /** The mocks of a new case; its secrets never show in what they report. */
  mocks(): HttpMocks {
    return new HttpMocks(this.setup.http.env);
  }

  /** A fresh kit (survey record, actions) whose http__request calls go to `mocks`. */
  kit(mocks: HttpMocks): ScenarioKit {
    const http = { ...this.setup.http, fetch: mocks.fetch, retry: noPause };
    return createScenarioKit({ actions: { ...this.setup, http } });
  }
}

/** The shared retry policy with its pauses skipped. */
const noPause: ActionSetup["http"]["retry"] = (fn, options) => retry(fn, { ...options, sleep: async () => {} });
