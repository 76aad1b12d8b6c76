/**
 * Reads what the store holds of surveys just written (score, scale, comment, completed and
 * declined flags), for the webhooks that follow the commit. A completed event carries no scale
 * (the keyboard's scale comes with the offer and the answer), so the record is the one place
 * that knows it; reading it also makes the webhook say what the figures count.
 *
 * One query per committed batch that holds a completed, answered or declined event.
 */
import { parseScaleKey } from "../stats/figures.ts";
import type { SqlQueryable } from "../stats/store/sql-client.ts";
import { quoteSchema } from "../stats/store/sql-client.ts";
import type { SurveyOutcome } from "./webhook-event.ts";

/** Outcomes by survey id; a survey the store does not hold is absent. */
export type ReadOutcomes = (surveyIds: readonly string[]) => Promise<Map<string, SurveyOutcome>>;

interface Row {
  survey_id: string;
  completed: boolean;
  denied: boolean;
  denied_reason: string | null;
  score: number | null;
  scale: string;
  comment: string | null;
  completed_at: number | null;
  declined_at: number | null;
}

/** Reads outcomes from the statistics tables in `schema` (the store's connection). */
export function sqlOutcomes(sql: SqlQueryable, schema: string): ReadOutcomes {
  const s = quoteSchema(schema);
  const text = `SELECT survey_id, completed, denied, denied_reason, score::float8 AS score, scale, comment,
      (extract(epoch FROM completed_at) * 1000)::float8 AS completed_at, (extract(epoch FROM declined_at) * 1000)::float8 AS declined_at
    FROM ${s}.survey WHERE survey_id = ANY($1::text[])`;
  return async (surveyIds) => {
    const out = new Map<string, SurveyOutcome>();
    if (surveyIds.length === 0) return out;
    const rows = await sql.query<Row>(text, [surveyIds], { prepare: true });
    for (const r of rows) {
      out.set(r.survey_id, {
        completed: r.completed,
        denied: r.denied,
        deniedReason: r.denied_reason,
        score: r.score === null ? null : Number(r.score),
        scale: parseScaleKey(r.scale),
        comment: r.comment,
        completedAt: r.completed_at === null ? null : Number(r.completed_at),
        declinedAt: r.declined_at === null ? null : Number(r.declined_at),
      });
    }
    return out;
  };
}

