/**
 * A Teams test file's app: the shared PGlite store and one fake connector for the file, a web
 * process in Bot Framework Emulator mode per test (disposed after it), the connector's calls
 * cleared between tests.
 *
 * @example
 * const teams = useTeamsApp();
 * const url = await teams.start();
 * await post(url, activity("message-personal", conversationId, teams.connector.url));
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, type TestApp } from "../app/app-harness.ts";
import { FakeConnector } from "./teams-fake-connector.ts";

export interface TeamsApp {
  readonly store: PgliteSurveyStore;
  readonly connector: FakeConnector;
  /** Starts the web process with Teams enabled (the sweeper an hour apart); returns its URL. */
  start(): Promise<string>;
  /** The log lines of the web process the test started. */
  readonly logs: string[];
}

export function useTeamsApp(): TeamsApp {
  let store: PgliteSurveyStore | undefined;
  let connector: FakeConnector | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    store = await openSharedStore();
    connector = await FakeConnector.start();
  });
  afterAll(async () => {
    await connector?.close();
    await store?.close();
  });
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
    if (connector) connector.calls.length = 0;
  });
  const opened = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error("useTeamsApp: used before its beforeAll ran");
    return v;
  };
  return {
    get store() {
      return opened(store);
    },
    get connector() {
      return opened(connector);
    },
    get logs() {
      return opened(t).logs;
    },
    async start() {
      t = await startTestApp({ BOTFLOW_TEAMS_EMULATOR: "true", BOTFLOW_SWEEP_INTERVAL: "1h" }, { surveyStore: opened(store) });
      return (await t.app.listen()).url;
    },
  };
}
