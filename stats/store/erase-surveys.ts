/**
 * Clears the personal data of survey rows: the comment text (in the `comment` column and in the
 * stored events), the conversation id, the start variables stats/personal-data.ts does not
 * keep, and the survey dimensions that are neither kept nor rolled up (keptDimensions). What a survey counts in the figures does not move: the rollups are not touched, and an
 * erased comment stays marked in its event (`erased`), so the fold (survey-state.ts) still counts
 * it as a comment and a later event re-deriving the row adds nothing it had not already counted.
 * Each batch checks exactly that before it writes.
 *
 * Batches of `batch` rows, one transaction each, under the rows' locks (the same lock `apply`
 * takes, so a row is never erased in the middle of an event being folded into it):
 * - a person's rows (`channel` + `conversationId`): `FOR UPDATE`, waiting for a writer; an erased
 *   row's conversation id is '' so the next batch and any concurrent erasure no longer match it;
 * - rows older than a cutoff (retention): oldest first from `survey_retention_idx`,
 *   `FOR UPDATE SKIP LOCKED`, so several processes sweeping at once share the work instead of
 *   queueing; a row being written is taken by the next sweep.
 * Running either again finds nothing left to clear: idempotent.
 */
import { KEPT_CONTEXT_KEYS, keptContext } from "../personal-data.ts";
import type { SqlClient } from "./sql-client.ts";
import { contributionOf, deriveSurvey, type StoredEvents } from "./survey-state.ts";

/** Whose surveys to clear: one person's (the channel and the conversation id botflow knows them by), or every one started before a time. */
export type SurveyErasureTarget = { channel: string; conversationId: string } | { startedBefore: number };

export interface EraseSurveysOptions {
  /** Rows per transaction; default 500. */
  batch?: number;
  /** At most this many batches (the retention sweep's share of one tick); default no limit. */
  maxBatches?: number;
}

interface Row {
  survey_id: string;
  events: StoredEvents;
  context: Record<string, unknown> | null;
  dimensions: Record<string, unknown> | null;
  dim_keys: string[] | null;
  rolled_keys: string[] | null;
}

/**
 * The survey's dimensions without the ones erasure drops: kept are those stats/personal-data.ts
 * keeps and those rolled up (their values are in survey_dim_rollup's counts anyway, which erasure
 * never touches); a dimension kept only on the row (group: false), such as a name, is dropped.
 */
function keptDimensions(r: Row): { dimensions: string | null; dimKeys: string | null } {
  if (!r.dimensions) return { dimensions: null, dimKeys: r.dim_keys ? JSON.stringify(r.dim_keys) : null };
  const rolled = new Set((r.rolled_keys ?? []).map((k) => k.slice(0, k.indexOf("="))));
  const keep = (name: string) => KEPT_CONTEXT_KEYS.includes(name) || rolled.has(name);
  const dims = Object.fromEntries(Object.entries(r.dimensions).filter(([name]) => keep(name)));
  const keys = (r.dim_keys ?? []).filter((k) => keep(k.slice(0, k.indexOf("="))));
  return { dimensions: Object.keys(dims).length > 0 ? JSON.stringify(dims) : null, dimKeys: keys.length > 0 ? JSON.stringify(keys) : null };
}

/** The event set with every comment text removed and marked `erased` (an empty comment is no text and stays). */
export function withoutComments(events: StoredEvents): StoredEvents {
  const out: StoredEvents = {};
  for (const [kind, e] of Object.entries(events) as [keyof StoredEvents, NonNullable<StoredEvents[keyof StoredEvents]>][]) {
    if (typeof e.comment === "string" && e.comment !== "") {
      const { comment: _comment, sanitized: _sanitized, ...rest } = e;
      out[kind] = { ...rest, erased: true };
    } else out[kind] = e;
  }
  return out;
}

function sameContribution(a: StoredEvents, b: StoredEvents): boolean {
  return JSON.stringify(contributionOf(a)) === JSON.stringify(contributionOf(b));
}

/** Clears the target's survey rows; resolves to how many rows it cleared. */
export async function eraseSurveys(db: SqlClient, schema: string, target: SurveyErasureTarget, o: EraseSurveysOptions = {}): Promise<number> {
  const batch = o.batch ?? 500;
  const maxBatches = o.maxBatches ?? Infinity;
  const [where, params, lock] =
    "startedBefore" in target
      ? [`erased_at IS NULL AND dialogue_started_at < to_timestamp($1::float8 / 1000) ORDER BY dialogue_started_at`, [target.startedBefore], "FOR UPDATE SKIP LOCKED"]
      : [`channel = $1 AND conversation_id = $2 AND conversation_id <> '' ORDER BY survey_id`, [target.channel, target.conversationId], "FOR UPDATE"];
  let total = 0;
  for (let n = 0; n < maxBatches; n++) {
    const cleared = await db.transaction(async (q) => {
      const rows = await q.query<Row>(`SELECT survey_id, events, context, dimensions, dim_keys, rolled_keys FROM ${schema}.survey WHERE ${where} LIMIT ${batch} ${lock}`, params);
      if (rows.length === 0) return 0;
      const ids: string[] = [];
      const events: string[] = [];
      const comments: (string | null)[] = [];
      const contexts: (string | null)[] = [];
      const dimensions: (string | null)[] = [];
      const dimKeys: (string | null)[] = [];
      for (const r of rows) {
        const next = withoutComments(r.events);
        // The one promise erasure makes about the figures, checked on every row it writes.
        if (!sameContribution(r.events, next)) throw new Error(`erasing survey ${r.survey_id} would change what it counts in the figures; nothing was erased`);
        const context = keptContext(r.context);
        ids.push(r.survey_id);
        events.push(JSON.stringify(next));
        comments.push(deriveSurvey(next).comment);
        contexts.push(context ? JSON.stringify(context) : null);
        const dims = keptDimensions(r);
        dimensions.push(dims.dimensions);
        dimKeys.push(dims.dimKeys);
      }
      await q.query(
        `UPDATE ${schema}.survey AS s
         SET events = u.events::jsonb, comment = u.comment, comment_sanitized = false, conversation_id = '',
             context = u.context::jsonb, dimensions = u.dimensions::jsonb,
             dim_keys = CASE WHEN u.dim_keys IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(u.dim_keys::jsonb)) END,
             erased_at = now(), updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(survey_id, events, comment, context, dimensions, dim_keys)
         WHERE s.survey_id = u.survey_id`,
        [ids, events, comments, contexts, dimensions, dimKeys],
      );
      return rows.length;
    });
    total += cleared;
    if (cleared < batch) break;
  }
  return total;
}
