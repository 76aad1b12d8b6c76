/**
 * Clears the personal data of trigger rows (`survey_trigger`, triggers/sql-trigger-store.ts): the
 * recipient (a chat id, a wa_id, a phone number), the resolved conversation reference, the
 * channel options, and the variables stats/personal-data.ts does not keep. The trigger id, its
 * idempotency key (the caller's, which should name a ticket, not a person), its scenario, status
 * and times stay, so `GET /api/dialogues/{id}` still answers what became of it.
 *
 * A person's scheduled trigger is not sent any more: it ends `failed` with reason `erased` (the
 * outbox job finds it no longer scheduled). Retention leaves scheduled triggers alone: a trigger
 * may be scheduled further ahead than the retention period.
 *
 * Batches in one transaction each, like stats/store/erase-surveys.ts: a person's rows with
 * `FOR UPDATE` (an erased row's recipient is '' and no longer matches), old rows oldest first with
 * `FOR UPDATE SKIP LOCKED` from `survey_trigger_retention_idx`. Idempotent.
 */
import { keptContext } from "../stats/personal-data.ts";
import type { SqlClient } from "../stats/store/sql-client.ts";

/** Whose triggers to clear: one recipient's on a channel, or every one created before a time. */
export type TriggerErasureTarget = { channel: string; recipient: string } | { createdBefore: number };

/** Clears the target's trigger rows (at most `maxBatches` batches of `batch`); resolves to how many. */
export async function eraseTriggers(
  db: SqlClient,
  schema: string,
  target: TriggerErasureTarget,
  o: { batch?: number; maxBatches?: number } = {},
): Promise<number> {
  const batch = o.batch ?? 500;
  const maxBatches = o.maxBatches ?? Infinity;
  const [where, params, lock] =
    "createdBefore" in target
      ? [`erased_at IS NULL AND status <> 'scheduled' AND created_at < to_timestamp($1::float8 / 1000) ORDER BY created_at`, [target.createdBefore], "FOR UPDATE SKIP LOCKED"]
      : [`channel = $1 AND recipient = $2 AND recipient <> '' ORDER BY trigger_id`, [target.channel, target.recipient], "FOR UPDATE"];
  let total = 0;
  for (let n = 0; n < maxBatches; n++) {
    const cleared = await db.transaction(async (q) => {
      const rows = await q.query<{ trigger_id: string; variables: Record<string, unknown> | null }>(
        `SELECT trigger_id, variables FROM ${schema}.survey_trigger WHERE ${where} LIMIT ${batch} ${lock}`,
        params,
      );
      if (rows.length === 0) return 0;
      await q.query(
        `UPDATE ${schema}.survey_trigger AS t
         SET recipient = '', ref = NULL, options = NULL, variables = u.variables::jsonb,
             status = CASE WHEN t.status = 'scheduled' THEN 'failed' ELSE t.status END,
             reason = CASE WHEN t.status = 'scheduled' THEN 'erased' ELSE t.reason END,
             erased_at = now(), updated_at = now()
         FROM unnest($1::text[], $2::text[]) AS u(trigger_id, variables)
         WHERE t.trigger_id = u.trigger_id`,
        [rows.map((r) => r.trigger_id), rows.map((r) => JSON.stringify(keptContext(r.variables) ?? {}))],
      );
      return rows.length;
    });
    total += cleared;
    if (cleared < batch) break;
  }
  return total;
}
