/**
 * The embedded statistics store: PGlite (PostgreSQL compiled to WebAssembly) in a local data
 * folder, or in memory. The same schema and SQL as PostgreSQL. One process owns a data
 * folder at a time; queries from one process are serialised by PGlite.
 *
 * @example
 * const store = await PgliteSurveyStore.open({ dataDir: "./data/stats" });
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import type { SqlClient, SqlQueryable } from "./sql-client.ts";
import { SqlSurveyStore, type SqlSurveyStoreOptions } from "./sql-survey-store.ts";

export interface PgliteSurveyStoreOptions extends SqlSurveyStoreOptions {
  /** Folder for the database files; omitted: in memory. */
  dataDir?: string;
  /** Share an open database (several stores over one PGlite, as tests of concurrent writers do). */
  db?: PGlite;
}

/**
 * PGlite runs every statement on this thread, one at a time. Statements queued behind each
 * other would run back to back in one turn of the event loop (its lock hands over in a
 * microtask), so ten concurrent requests would block /healthz and every webhook for all ten.
 * This client takes statements (and whole transactions) in turn and lets the event loop run
 * between any two: nothing is lost, as PGlite never ran two at once anyway.
 */
class PgliteClient implements SqlClient {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: PGlite,
    private readonly owned: boolean,
  ) {}

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => yieldToLoop()).then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  query<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    return this.inTurn(async () => (await this.db.query<R>(text, params as unknown[] | undefined)).rows);
  }

  transaction<T>(fn: (q: SqlQueryable) => Promise<T>): Promise<T> {
    return this.inTurn(() =>
      this.db.transaction((tx) => fn({ query: async <R>(text: string, params?: readonly unknown[]) => (await tx.query<R>(text, params as unknown[] | undefined)).rows })),
    );
  }

  async close(): Promise<void> {
    if (this.owned && !this.db.closed) await this.db.close();
  }
}

export class PgliteSurveyStore extends SqlSurveyStore {
  private constructor(db: PGlite, owned: boolean, o: PgliteSurveyStoreOptions) {
    super(new PgliteClient(db, owned), o);
  }

  /** Opens (creating if needed) the database; call `migrate()` before use. */
  static async open(o: PgliteSurveyStoreOptions = {}): Promise<PgliteSurveyStore> {
    if (o.db) return new PgliteSurveyStore(o.db, false, o);
    const db = o.dataDir ? await PGlite.create({ dataDir: o.dataDir }) : await PGlite.create();
    return new PgliteSurveyStore(db, true, o);
  }
}
