/**
 * Opens the statistics store a command or process was configured for: PostgreSQL when a
 * connection string is given, otherwise PGlite in the embedded data folder. Migrated. The one
 * way `botflow serve`, `botflow worker` and the CLI's commands open it.
 *
 * @example
 * const store = await openSurveyStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
 */
import { PgSurveyStore } from "./pg-survey-store.ts";
import { PgliteSurveyStore } from "./pglite-survey-store.ts";
import type { SqlSurveyStore } from "./sql-survey-store.ts";

export interface OpenSurveyStoreOptions {
  /** postgres:// URL; when set, PostgreSQL is used and `dataDir` ignored. */
  databaseUrl?: string;
  /** PostgreSQL schema (default the store's). */
  schema?: string;
  /** The embedded store's folder (PGlite). */
  dataDir: string;
  /** PostgreSQL pool size (default 2: a command; the web process and a worker ask for more). */
  maxConnections?: number;
}

export async function openSurveyStore(o: OpenSurveyStoreOptions): Promise<SqlSurveyStore> {
  const schema = o.schema !== undefined ? { schema: o.schema } : {};
  const store = o.databaseUrl
    ? new PgSurveyStore({ connectionString: o.databaseUrl, maxConnections: o.maxConnections ?? 2, ...schema })
    : await PgliteSurveyStore.open({ dataDir: o.dataDir, ...schema });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
