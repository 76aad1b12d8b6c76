/**
 * Checks a job's payload before the worker stores it. Jobs cross process and version
 * boundaries (an old web process, a hand-made replay), so the worker trusts nothing:
 * a payload that is not a survey event can never succeed and goes to the dead letter
 * without retries.
 */
import { BotflowError } from "../../engine/errors.ts";
import { cleanSurveyEvent } from "../clean-survey-event.ts";
import { SURVEY_EVENT_KINDS, type SurveyEvent, type SurveyEventKind } from "../events.ts";

/** A job payload that is not a survey event; retrying cannot fix it. */
export class MalformedSurveyEventError extends BotflowError {
  constructor(readonly problem: string) {
    super("SURVEY_EVENT_MALFORMED", `survey event rejected: ${problem}; it was moved to the dead-letter queue (fix the producer, then replay it)`);
  }
}

/** Ids become parts of BullMQ job ids and database keys: keep them short and printable. */
const ID_RE = /^[\w.@+-]{1,200}$/;
const KINDS: ReadonlySet<string> = new Set(SURVEY_EVENT_KINDS);

/** Returns the payload as a SurveyEvent, or throws MalformedSurveyEventError saying which field is wrong. */
export function parseSurveyEvent(data: unknown): SurveyEvent {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new MalformedSurveyEventError("payload is not an object");
  const d = data as Record<string, unknown>;
  const kind = d.kind;
  if (typeof kind !== "string" || !KINDS.has(kind)) throw new MalformedSurveyEventError(`unknown kind ${JSON.stringify(kind)}`);
  if (typeof d.surveyId !== "string" || !ID_RE.test(d.surveyId)) throw new MalformedSurveyEventError("surveyId must be 1–200 characters of [A-Za-z0-9_.@+-]");
  const text = (key: string, max = 500): string => {
    const v = d[key];
    if (typeof v !== "string" || v.length > max) throw new MalformedSurveyEventError(`${key} must be a string of at most ${max} characters`);
    return v;
  };
  const time = (key: string): number => {
    const v = d[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new MalformedSurveyEventError(`${key} must be epoch milliseconds`);
    return v;
  };
  const event: SurveyEvent = {
    kind: kind as SurveyEventKind,
    surveyId: d.surveyId,
    scenarioId: text("scenarioId", 200),
    scenarioVersion: text("scenarioVersion", 200),
    channel: text("channel", 100),
    botId: text("botId", 200),
    conversationId: text("conversationId"),
    dialogueStartedAt: time("dialogueStartedAt"),
    at: time("at"),
  };
  if (d.score !== undefined) {
    if (typeof d.score !== "number" || !Number.isFinite(d.score)) throw new MalformedSurveyEventError("score must be a finite number");
    event.score = d.score;
  }
  if (d.scale !== undefined) {
    const s = d.scale as { min?: unknown; max?: unknown } | null;
    if (typeof s !== "object" || s === null || typeof s.min !== "number" || typeof s.max !== "number" || !(s.min <= s.max)) {
      throw new MalformedSurveyEventError("scale must be { min, max } with min <= max");
    }
    event.scale = { min: s.min, max: s.max };
  }
  if (d.comment !== undefined) {
    if (typeof d.comment !== "string") throw new MalformedSurveyEventError("comment must be a string");
    event.comment = d.comment;
  }
  if (d.commentSanitized !== undefined) {
    if (typeof d.commentSanitized !== "boolean") throw new MalformedSurveyEventError("commentSanitized must be a boolean");
    if (d.commentSanitized) event.commentSanitized = true;
  }
  if (d.reason !== undefined) event.reason = text("reason", 50);
  if (kind === "answered" && event.score === undefined) throw new MalformedSurveyEventError("an answered event needs a score");
  // Text the database cannot hold is cleaned, not refused: this is also what recovers jobs that
  // were dead-lettered for it before botflow cleaned text where it enters (replay-dead).
  return cleanSurveyEvent(event);
}
