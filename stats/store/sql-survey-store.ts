/**
 * The SurveyStore both drivers share: the same schema, the same SQL, only the connection
 * differs (PgSurveyStore: a `pg` pool; PgliteSurveyStore: an embedded PGlite database).
 */
import { systemClock, type Clock } from "../../engine/ports.ts";
import type { SurveyEvent } from "../events.ts";
import type { Figures, FiguresQuery, GroupedFigures } from "../figures.ts";
import type { GroupedFiguresQuery } from "../figures-query.ts";
import { applySurveyEvents } from "./apply-survey-events.ts";
import { runMigrations } from "./migrations.ts";
import { RatingSlots } from "./rating-slots.ts";
import { quoteSchema, type SqlClient } from "./sql-client.ts";
import { queryDialogues, queryFigures, queryGroupedFigures } from "./survey-queries.ts";
import type { DialoguePage, DialogueQuery, SurveyStore } from "./survey-store.ts";

/** The schema the statistics live in unless configured otherwise. */
export const DEFAULT_STATS_SCHEMA = "botflow_stats";

export interface SqlSurveyStoreOptions {
  /** PostgreSQL schema holding the tables; default "botflow_stats". Tests use one per run. */
  schema?: string;
  /** "Today" for the default period. */
  clock?: Clock;
}

/** Deadlocks cannot happen with ordered locking, but a retry is cheap insurance. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 3;

export class SqlSurveyStore implements SurveyStore {
  readonly schema: string;
  private readonly quoted: string;
  private readonly clock: Clock;
  private readonly zones = new Map<string, string>();
  private readonly slots = new RatingSlots();

  constructor(
    protected readonly db: SqlClient,
    o: SqlSurveyStoreOptions = {},
  ) {
    this.schema = o.schema ?? DEFAULT_STATS_SCHEMA;
    this.quoted = quoteSchema(this.schema);
    this.clock = o.clock ?? systemClock;
  }

  /** The connection, for the stores that share this database and schema (triggers/sql-trigger-store.ts). */
  get sql(): SqlClient {
    return this.db;
  }

  async migrate(): Promise<void> {
    await this.db.transaction((q) => runMigrations(q, this.schema, this.quoted));
  }

  async apply(events: readonly SurveyEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        const slots = this.slots.begin();
        await this.db.transaction((q) => applySurveyEvents(q, this.quoted, events, slots));
        slots.commit();
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== "string" || !RETRYABLE.has(code)) throw err;
      }
    }
  }

  figures(query: FiguresQuery): Promise<Figures> {
    return queryFigures(this.db, this.context(), query);
  }

  groupedFigures(query: GroupedFiguresQuery): Promise<GroupedFigures> {
    return queryGroupedFigures(this.db, this.context(), query);
  }

  listDialogues(query: DialogueQuery): Promise<DialoguePage> {
    return queryDialogues(this.db, this.context(), query);
  }

  /** Drops the schema and everything in it: for tests and benchmarks that made their own. */
  async dropSchema(): Promise<void> {
    await this.db.query(`DROP SCHEMA IF EXISTS ${this.quoted} CASCADE`);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private context() {
    return { schema: this.quoted, zones: this.zones, slots: this.slots, now: this.clock.now() };
  }
}
