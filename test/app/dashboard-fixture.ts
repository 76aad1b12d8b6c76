/**
 * The dashboard's browser tests: the composed web process on a PGlite store holding generated
 * surveys with dimensions (agent, team, tags, ticket) over March 2026, and the statistics API's
 * own answers to compare the page with.
 */
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { generateSurveys, type PlannedSurvey } from "../stats/figures-dataset.ts";
import { openSharedStore, startTestApp, type TestApp } from "./app-harness.ts";

/** The period the tests open: the second half of March; the first half is its previous period. */
export const PERIOD = { from: "2026-03-16", to: "2026-03-31" } as const;

export interface DashboardApp {
  store: PgliteSurveyStore;
  t: TestApp;
  url: string;
  plan: PlannedSurvey[];
  /** GET an API path (with its query) as JSON. */
  api<T = Record<string, unknown>>(pathAndQuery: string): Promise<T>;
  dispose(): Promise<void>;
}

/** Opens a store, fills it with `n` generated surveys and starts the app on a free port. */
export async function startDashboardApp(n = 2400, seed = 13): Promise<DashboardApp> {
  const store = await openSharedStore();
  const plan = generateSurveys(n, seed);
  const events = plan.flatMap((p) => p.events);
  for (let i = 0; i < events.length; i += 500) await store.apply(events.slice(i, i + 500));
  const t = await startTestApp({}, { surveyStore: store });
  const { url } = await t.app.listen();
  return {
    store,
    t,
    url,
    plan,
    async api<T>(pathAndQuery: string): Promise<T> {
      const res = await fetch(`${url}${pathAndQuery}`);
      if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async dispose() {
      await t.dispose();
      await store.close();
    },
  };
}
