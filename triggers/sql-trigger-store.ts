/**
 * The TriggerStore on the statistics database (PostgreSQL or PGlite, the same SQL): the
 * `survey_trigger` table of migration 5, joined to `survey` for the state people see.
 *
 * @example
 * const triggers = new SqlTriggerStore(surveyStore.sql, surveyStore.schema);
 */
import type { ConversationRef, VarValue } from "../engine/types.ts";
import { quoteSchema, type SqlClient, type SqlQueryable } from "../stats/store/sql-client.ts";
import { GroupCommit, type Settled } from "../stats/store/group-commit.ts";
import { isTransient } from "../stats/store/sql-errors.ts";
import type { NewTrigger, SentTrigger, StoredTriggerStatus, TriggerRecord, TriggerState, TriggerStore } from "./trigger-store.ts";

/** A trigger as inserted (the cooldown already applied) and what its insert gave back. */
type Row0 = Omit<NewTrigger, "cooldownSince">;
type Inserted = { created: boolean; record: TriggerRecord };

const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

// The survey's progress folded into a sent trigger's state: declined wins over a recorded survey
// without a rating, a recorded survey over an answer still in progress.
const COLUMNS = `t.trigger_id, t.idempotency_key, t.channel, t.recipient, t.scenario_id, t.variables, t.locale, t.options,
  t.status, t.reason, ${ms("t.run_at")} AS run_at, t.expire_after_ms::float8 AS expire_after_ms, ${ms("t.created_at")} AS created_at,
  ${ms("t.sent_at")} AS sent_at, ${ms("t.expires_at")} AS expires_at, t.survey_id, t.ref, ${ms("t.updated_at")} AS updated_at,
  CASE WHEN t.status <> 'sent' THEN t.status
       WHEN s.denied THEN 'declined' WHEN s.completed THEN 'completed' WHEN s.accepted THEN 'answered'
       ELSE 'sent' END AS state`;

interface Row {
  trigger_id: string;
  idempotency_key: string | null;
  channel: string;
  recipient: string;
  scenario_id: string;
  variables: Record<string, VarValue>;
  locale: string | null;
  options: Record<string, unknown> | null;
  status: StoredTriggerStatus;
  reason: string | null;
  run_at: number;
  expire_after_ms: number | null;
  created_at: number;
  sent_at: number | null;
  expires_at: number | null;
  survey_id: string | null;
  ref: ConversationRef | null;
  updated_at: number;
  state: TriggerState;
}

export class SqlTriggerStore implements TriggerStore {
  private readonly t: string;
  private readonly from: string;

  constructor(
    private readonly db: SqlClient,
    schema: string,
  ) {
    const s = quoteSchema(schema);
    this.t = `${s}.survey_trigger`;
    this.from = `${s}.survey_trigger t LEFT JOIN ${s}.survey s ON s.survey_id = t.survey_id`;
  }

  async insert(n: NewTrigger): Promise<{ created: boolean; record: TriggerRecord }> {
    const { cooldownSince, ...t } = n;
    if (cooldownSince === undefined || t.status !== "scheduled") return this.inserts.submit(t);
    // The cooldown's check and the insert under one lock per recipient, so that triggers with
    // different keys accepted at once (on any process) cannot all pass the check before any is
    // recorded. A transaction-scoped advisory lock: released at commit, nothing to clean up.
    return this.db.transaction(async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`trigger ${this.t} ${t.channel} ${t.recipient}`]);
      const recent = await q.query(
        `SELECT 1 FROM ${this.t} WHERE channel = $1 AND recipient = $2 AND created_at >= to_timestamp($3 / 1000.0)
           AND status IN ('scheduled', 'sent', 'expired') LIMIT 1`,
        [t.channel, t.recipient, cooldownSince],
      );
      const [inserted] = await this.insertRows(q, [recent.length > 0 ? { ...t, status: "skipped", reason: "cooldown" } : t]);
      return inserted as Inserted;
    });
  }

  /**
   * Triggers accepted at once (the API under load, a bulk CLI run) share one INSERT statement
   * (stats/store/group-commit.ts): a statement per trigger was most of the accept path's cost on
   * PGlite. A batch the database refuses for one row's data is written row by row, so only that
   * trigger fails.
   */
  private readonly inserts = new GroupCommit<Row0, Inserted>(
    async (rows) => {
      try {
        return (await this.insertRows(this.db, rows)).map((value) => ({ ok: true, value }));
      } catch (err) {
        if (rows.length === 1 || isTransient(err)) throw err;
        const settled: Settled<Inserted>[] = [];
        for (const row of rows) {
          try {
            settled.push({ ok: true, value: (await this.insertRows(this.db, [row]))[0] as Inserted });
          } catch (e) {
            settled.push({ ok: false, error: e });
          }
        }
        return settled;
      }
    },
    { maxBatch: 200 },
  );

  /** Inserts `rows` in one statement; a row whose key is taken gives back the trigger holding it. */
  private async insertRows(q: SqlQueryable, rows: readonly Row0[]): Promise<Inserted[]> {
    const params: unknown[] = [];
    const values = rows.map((n) => {
      const o = params.length;
      params.push(
        n.id,
        n.key ?? null,
        n.channel,
        n.recipient,
        n.scenarioId,
        JSON.stringify(n.variables),
        n.locale ?? null,
        n.options === undefined ? null : JSON.stringify(n.options),
        n.status,
        n.reason ?? null,
        n.runAt,
        n.expireAfterMs ?? null,
        n.createdAt,
      );
      const $ = (i: number) => `$${o + i}`;
      return `(${$(1)}, ${$(2)}, ${$(3)}, ${$(4)}, ${$(5)}, ${$(6)}::jsonb, ${$(7)}, ${$(8)}::jsonb, ${$(9)}, ${$(10)}, to_timestamp(${$(11)} / 1000.0), ${$(12)}::bigint, to_timestamp(${$(13)} / 1000.0), to_timestamp(${$(13)} / 1000.0))`;
    });
    const inserted = await q.query<{ trigger_id: string }>(
      `INSERT INTO ${this.t} (trigger_id, idempotency_key, channel, recipient, scenario_id, variables, locale, options, status, reason,
         run_at, expire_after_ms, created_at, updated_at)
       VALUES ${values.join(", ")}
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING trigger_id`,
      params,
      { prepare: rows.length === 1 },
    );
    const created = new Set(inserted.map((r) => r.trigger_id));
    const taken = rows.filter((n) => !created.has(n.id)).map((n) => n.key);
    const holders = new Map<string | undefined, TriggerRecord>();
    if (taken.length > 0) for (const r of await this.select(q, `WHERE t.idempotency_key = ANY($1::text[])`, [taken])) holders.set(r.key, r);
    return rows.map((n) => {
      if (created.has(n.id)) return { created: true, record: { ...n, state: n.status, updatedAt: n.createdAt } };
      const record = holders.get(n.key);
      if (!record) throw new Error(`trigger key ${JSON.stringify(n.key)} conflicted but no trigger holds it`);
      return { created: false, record };
    });
  }

  async get(id: string): Promise<TriggerRecord | undefined> {
    return (await this.query(`WHERE t.trigger_id = $1`, [id]))[0];
  }

  async byKey(key: string): Promise<TriggerRecord | undefined> {
    return (await this.query(`WHERE t.idempotency_key = $1`, [key]))[0];
  }

  async markSent(id: string, sent: SentTrigger): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE ${this.t} SET status = 'sent', sent_at = to_timestamp($2 / 1000.0), expires_at = to_timestamp($3 / 1000.0), survey_id = $4,
         ref = $5::jsonb, updated_at = to_timestamp($2 / 1000.0)
       WHERE trigger_id = $1 AND status = 'scheduled' RETURNING trigger_id`,
      [id, sent.sentAt, sent.expiresAt ?? null, sent.surveyId ?? null, JSON.stringify(sent.ref)],
    );
    return rows.length > 0;
  }

  async markFailed(id: string, reason: string, at: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE ${this.t} SET status = 'failed', reason = $2, updated_at = to_timestamp($3 / 1000.0)
       WHERE trigger_id = $1 AND status = 'scheduled' RETURNING trigger_id`,
      [id, reason.slice(0, 500), at],
    );
    return rows.length > 0;
  }

  async markExpired(id: string, at: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE ${this.t} SET status = 'expired', updated_at = to_timestamp($2 / 1000.0) WHERE trigger_id = $1 AND status = 'sent' RETURNING trigger_id`,
      [id, at],
    );
    return rows.length > 0;
  }

  async remove(id: string): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t} WHERE trigger_id = $1`, [id]);
  }

  scheduled(before: number, limit: number): Promise<TriggerRecord[]> {
    return this.query(`WHERE t.status = 'scheduled' AND t.run_at <= to_timestamp($1 / 1000.0) ORDER BY t.run_at, t.trigger_id LIMIT $2`, [before, limit]);
  }

  expiring(now: number, limit: number): Promise<TriggerRecord[]> {
    return this.query(
      `WHERE t.status = 'sent' AND t.expires_at <= to_timestamp($1 / 1000.0) AND NOT coalesce(s.accepted, false) AND NOT coalesce(s.denied, false)
       ORDER BY t.expires_at, t.trigger_id LIMIT $2`,
      [now, limit],
    );
  }

  private query(where: string, params: readonly unknown[]): Promise<TriggerRecord[]> {
    return this.select(this.db, where, params);
  }

  private async select(q: SqlQueryable, where: string, params: readonly unknown[]): Promise<TriggerRecord[]> {
    const rows = await q.query<Row>(`SELECT ${COLUMNS} FROM ${this.from} ${where}`, params);
    return rows.map(toRecord);
  }
}

function toRecord(r: Row): TriggerRecord {
  const record: TriggerRecord = {
    id: r.trigger_id,
    channel: r.channel,
    recipient: r.recipient,
    scenarioId: r.scenario_id,
    variables: r.variables,
    status: r.status,
    state: r.state,
    runAt: Number(r.run_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
  if (r.idempotency_key !== null) record.key = r.idempotency_key;
  if (r.locale !== null) record.locale = r.locale;
  if (r.options !== null) record.options = r.options;
  if (r.reason !== null) record.reason = r.reason;
  if (r.expire_after_ms !== null) record.expireAfterMs = Number(r.expire_after_ms);
  if (r.sent_at !== null) record.sentAt = Number(r.sent_at);
  if (r.expires_at !== null) record.expiresAt = Number(r.expires_at);
  if (r.survey_id !== null) record.surveyId = r.survey_id;
  if (r.ref !== null) record.ref = r.ref;
  return record;
}
