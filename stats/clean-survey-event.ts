/**
 * The statistics side of the text-cleaning rule (engine/text.ts `cleanText`): a survey event
 * whose strings PostgreSQL or PGlite would refuse (U+0000, a lone surrogate) is cleaned instead
 * of refused, so a hostile or copy-pasted comment can never take its survey's rating with it.
 * The engine cleans text where it enters; this is the defense in depth for every other producer
 * (an older web process, a dead-lettered job being replayed, a hand-made job).
 */
import { cleanText, needsCleaning } from "../engine/text.ts";
import type { SurveyContext, SurveyDimensions, SurveyEvent } from "./events.ts";

/** The event's strings besides the comment and the context (ids, names, the decline reason). */
const TEXT_FIELDS = ["surveyId", "scenarioId", "scenarioVersion", "channel", "botId", "conversationId", "reason", "triggerId"] as const;

/** The event with storable strings; the same object when nothing had to change. */
export function cleanSurveyEvent(e: SurveyEvent): SurveyEvent {
  const dirtyComment = typeof e.comment === "string" && needsCleaning(e.comment);
  let dirtyText = false;
  for (const f of TEXT_FIELDS) {
    const v = e[f];
    if (typeof v === "string" && needsCleaning(v)) dirtyText = true;
  }
  // jsonb refuses "\u0000" and lone surrogate escapes as text does: one such value would fail the batch.
  const dirtyContext = e.context !== undefined && contextNeedsCleaning(e.context);
  const dirtyDimensions = e.dimensions !== undefined && Object.values(e.dimensions).some((v) => (typeof v === "string" ? needsCleaning(v) : v.some(needsCleaning)));
  if (!dirtyComment && !dirtyText && !dirtyContext && !dirtyDimensions) return e;
  const out: SurveyEvent = { ...e };
  for (const f of TEXT_FIELDS) {
    const v = out[f];
    if (typeof v === "string") (out as unknown as Record<string, string>)[f] = cleanText(v);
  }
  if (dirtyComment) {
    out.comment = cleanText(e.comment as string);
    out.commentSanitized = true;
  }
  if (dirtyContext) out.context = cleanContext(e.context as SurveyContext);
  // Names are variable names (checked where they enter); only the values can hold such text.
  if (dirtyDimensions) out.dimensions = Object.fromEntries(Object.entries(e.dimensions as SurveyDimensions).map(([k, v]) => [k, typeof v === "string" ? cleanText(v) : v.map(cleanText)]));
  return out;
}

function contextNeedsCleaning(c: SurveyContext): boolean {
  for (const k of Object.keys(c)) {
    const v = c[k];
    if (needsCleaning(k) || (typeof v === "string" && needsCleaning(v))) return true;
  }
  return false;
}

function cleanContext(c: SurveyContext): SurveyContext {
  const out: Record<string, string | number | boolean> = {};
  for (const k of Object.keys(c)) {
    const v = c[k] as string | number | boolean;
    const value = typeof v === "string" ? cleanText(v) : v;
    const name = cleanText(k);
    if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}
