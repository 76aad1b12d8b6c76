/**
 * The dialogue list as CSV (RFC 4180), the same columns `botflow export --format csv` writes.
 * Cells a spreadsheet would run as a formula (= + - @) are prefixed with '. The last two columns
 * say what started the dialogue: `trigger_id` (the trigger API call, empty when the user did) and
 * `context` (its start variables as compact JSON, empty when there were none). New columns are
 * only ever appended, so readers that pick columns by position keep working.
 */
import type { DialogueRow } from "../stats/store/survey-store.ts";

export const DIALOGUE_CSV_HEADER =
  "survey_id,dialogue_started_at,scenario_id,scenario_version,channel,bot_id,conversation_id,offered,accepted,denied,denied_reason,completed,csat,scale,client_comment,completed_at,trigger_id,context";

export function dialogueCsvLine(r: DialogueRow): string {
  return [
    text(r.surveyId),
    iso(r.dialogueStartedAt),
    text(r.scenarioId),
    text(r.scenarioVersion),
    text(r.channel),
    text(r.botId),
    text(r.conversationId),
    String(r.offered),
    String(r.accepted),
    String(r.denied),
    text(r.deniedReason),
    String(r.completed),
    r.score === null ? "" : String(r.score),
    text(r.scale),
    text(r.comment),
    iso(r.completedAt),
    text(r.triggerId),
    text(r.context === null ? null : JSON.stringify(r.context)),
  ].join(",");
}

function text(value: string | null): string {
  if (value === null) return "";
  const v = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v;
}

function iso(ms: number | null): string {
  return ms === null ? "" : new Date(ms).toISOString();
}
