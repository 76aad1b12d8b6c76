/**
 * Statistics stores under test: real PostgreSQL (127.0.0.1:5432, database `test`, one schema
 * `test_<uuid>` per store, dropped after) and PGlite (one in-memory database per test file,
 * one schema per store). Both suites run the same contract and figures tests.
 */
import { randomUUID } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import type { Clock } from "../../engine/ports.ts";
import type { SurveyEvent, SurveyEventKind } from "../../stats/events.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";

export const PG_URL = "postgres://postgres@127.0.0.1:5432/test";

export interface StoreBackend {
  name: string;
  /** A migrated store in a fresh schema; `peer` opens a second store on the same schema, as another worker process would. */
  open(clock?: Clock): Promise<{ store: SqlSurveyStore; peer(): Promise<SqlSurveyStore>; cleanup(): Promise<void> }>;
  /** Stores on one fresh schema, not migrated yet. */
  openUnmigrated(n: number): Promise<{ stores: SqlSurveyStore[]; cleanup(): Promise<void> }>;
  /** Closes what the backend shares between tests. */
  shutdown(): Promise<void>;
}

function schemaName(): string {
  return `test_${randomUUID().replaceAll("-", "")}`;
}

export function pgBackend(): StoreBackend {
  const openStores = (schema: string, n: number, clock?: Clock) =>
    Array.from({ length: n }, () => new PgSurveyStore({ connectionString: PG_URL, schema, maxConnections: 4, ...(clock ? { clock } : {}) }));
  return {
    name: "PostgreSQL",
    async open(clock) {
      const schema = schemaName();
      const [store] = openStores(schema, 1, clock) as [PgSurveyStore];
      await store.migrate();
      const peers: PgSurveyStore[] = [];
      return {
        store,
        async peer() {
          const [p] = openStores(schema, 1, clock) as [PgSurveyStore];
          await p.migrate();
          peers.push(p);
          return p;
        },
        async cleanup() {
          await store.dropSchema();
          await Promise.all([store, ...peers].map((s) => s.close()));
        },
      };
    },
    async openUnmigrated(n) {
      const stores = openStores(schemaName(), n);
      return {
        stores,
        async cleanup() {
          await stores[0]!.dropSchema();
          await Promise.all(stores.map((s) => s.close()));
        },
      };
    },
    async shutdown() {},
  };
}

export function pgliteBackend(): StoreBackend {
  let shared: Promise<PGlite> | undefined;
  const db = () => (shared ??= PGlite.create());
  const openStore = async (schema: string, clock?: Clock) => PgliteSurveyStore.open({ db: await db(), schema, ...(clock ? { clock } : {}) });
  return {
    name: "PGlite",
    async open(clock) {
      const schema = schemaName();
      const store = await openStore(schema, clock);
      await store.migrate();
      return {
        store,
        async peer() {
          const p = await openStore(schema, clock);
          await p.migrate();
          return p;
        },
        cleanup: () => store.dropSchema(),
      };
    },
    async openUnmigrated(n) {
      const schema = schemaName();
      const stores = await Promise.all(Array.from({ length: n }, () => openStore(schema)));
      return { stores, cleanup: () => stores[0]!.dropSchema() };
    },
    async shutdown() {
      if (shared) await (await shared).close();
    },
  };
}

export const T0 = Date.UTC(2026, 2, 10, 9, 0, 0);

/** A survey event with sensible defaults for tests. */
export function surveyEvent(kind: SurveyEventKind, surveyId: string, o: Partial<SurveyEvent> = {}): SurveyEvent {
  const base: SurveyEvent = {
    kind,
    surveyId,
    scenarioId: "csat",
    scenarioVersion: "v1",
    channel: "telegram",
    botId: "",
    conversationId: `conv-${surveyId}`,
    dialogueStartedAt: T0,
    at: T0 + 60_000,
  };
  if (kind === "offered") base.scale = { min: 1, max: 5 };
  return { ...base, ...o };
}

/** The events of one survey the csat scenario produces: started, offered, answered, commented?, completed. */
export function fullSurvey(surveyId: string, score: number, comment: string | undefined, o: Partial<SurveyEvent> = {}): SurveyEvent[] {
  const evs = [surveyEvent("dialogue_started", surveyId, o), surveyEvent("offered", surveyId, o), surveyEvent("answered", surveyId, { ...o, score })];
  if (comment) evs.push(surveyEvent("commented", surveyId, { ...o, comment }));
  evs.push(surveyEvent("completed", surveyId, { ...o, score, comment: comment ?? "" }));
  return evs;
}
