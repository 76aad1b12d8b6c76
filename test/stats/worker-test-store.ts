/**
 * Test doubles around the SurveyStore port for the queue and worker tests:
 * - EventLogStore: a real, minimal idempotent store (one PostgreSQL row per event job id,
 *   in its own schema) so queue tests do not depend on the production schema;
 * - ControlledStore: wraps any store and lets a test fail, refuse or hold `apply` calls,
 *   and records what each call was given.
 */
import pg from "pg";
import { surveyJobId, type SurveyEvent } from "../../stats/events.ts";
import type { SurveyWriteStore } from "../../stats/worker-batch-writer.ts";

export const TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

export class EventLogStore implements SurveyWriteStore {
  readonly pool: pg.Pool;

  constructor(
    readonly schema: string,
    connectionString = TEST_DATABASE_URL,
  ) {
    this.pool = new pg.Pool({ connectionString, max: 4 });
  }

  async migrate(): Promise<void> {
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
    await this.pool.query(
      `CREATE TABLE IF NOT EXISTS "${this.schema}".events (job_id text PRIMARY KEY, kind text NOT NULL, survey_id text NOT NULL, score double precision)`,
    );
  }

  async apply(events: readonly SurveyEvent[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO "${this.schema}".events (job_id, kind, survey_id, score)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) ON CONFLICT (job_id) DO NOTHING`,
      [events.map(surveyJobId), events.map((e) => e.kind), events.map((e) => e.surveyId), events.map((e) => e.score ?? null)],
    );
  }

  async jobIds(): Promise<string[]> {
    const r = await this.pool.query<{ job_id: string }>(`SELECT job_id FROM "${this.schema}".events ORDER BY job_id`);
    return r.rows.map((x) => x.job_id);
  }

  async count(): Promise<number> {
    const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${this.schema}".events`);
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Drops the schema; call from afterAll with a fresh pool-less connection. */
  static async dropSchema(schema: string, connectionString = TEST_DATABASE_URL): Promise<void> {
    const c = new pg.Client({ connectionString });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await c.end();
    }
  }
}

/** An error shaped like a refused row (SQLSTATE 23514, check_violation). */
export class RefusedRowError extends Error {
  readonly code = "23514";
  constructor(jobId: string) {
    super(`row refused for ${jobId} (simulated check violation)`);
  }
}

/** An error shaped like a lost database (ECONNREFUSED). */
export class DatabaseDownError extends Error {
  readonly code = "ECONNREFUSED";
  constructor() {
    super("connect ECONNREFUSED 127.0.0.1:5432 (simulated)");
  }
}

export class ControlledStore implements SurveyWriteStore {
  /** Every apply call's events, in call order (including failed calls). */
  readonly calls: SurveyEvent[][] = [];
  /** The next `failNext` apply calls throw DatabaseDownError. */
  failNext = 0;
  /** While true, every apply throws DatabaseDownError. */
  down = false;
  /** Events for which this returns true make their whole apply call throw RefusedRowError. */
  refuse: (e: SurveyEvent) => boolean = () => false;
  /** While set, apply calls wait for it before writing. */
  gate: Promise<void> | undefined;
  closed = false;
  /** Set when close() is called: how many apply calls had finished by then. */
  appliesDoneAtClose = -1;
  private appliesDone = 0;

  constructor(readonly inner: SurveyWriteStore) {}

  migrate(): Promise<void> {
    return this.inner.migrate();
  }

  /** The worker's outage probe: fails while `down`, like a database that is away. */
  async ping(): Promise<void> {
    if (this.down) throw new DatabaseDownError();
  }

  async apply(events: readonly SurveyEvent[]): Promise<void> {
    this.calls.push([...events]);
    try {
      if (this.gate) await this.gate;
      if (this.down) throw new DatabaseDownError();
      if (this.failNext > 0) {
        this.failNext--;
        throw new DatabaseDownError();
      }
      const refused = events.find(this.refuse);
      if (refused) throw new RefusedRowError(surveyJobId(refused));
      await this.inner.apply(events);
    } finally {
      this.appliesDone++;
    }
  }

  async close(): Promise<void> {
    this.appliesDoneAtClose = this.appliesDone;
    this.closed = true;
    await this.inner.close();
  }

  /** How many apply calls were made with this event (job id). */
  timesGiven(jobId: string): number {
    return this.calls.flat().filter((e) => surveyJobId(e) === jobId).length;
  }
}

/** A survey event with sensible defaults; `n` makes the survey id unique. */
export function testEvent(n: number, over: Partial<SurveyEvent> = {}): SurveyEvent {
  const t = Date.UTC(2026, 0, 1) + n * 1000;
  return {
    kind: "completed",
    surveyId: `s${n}`,
    scenarioId: "csat",
    scenarioVersion: "v1",
    channel: "telegram",
    botId: "",
    conversationId: `c${n}`,
    dialogueStartedAt: t - 60_000,
    at: t,
    score: (n % 5) + 1,
    scale: { min: 1, max: 5 },
    comment: "",
    ...over,
  };
}
