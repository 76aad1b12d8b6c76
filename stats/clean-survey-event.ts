/**
 * The statistics side of the text-cleaning rule (engine/text.ts `cleanText`): a survey event
 * whose strings PostgreSQL or PGlite would refuse (U+0000, a lone surrogate) is cleaned instead
 * of refused, so a hostile or copy-pasted comment can never take its survey's rating with it.
 * The engine cleans text where it enters; this is the defense in depth for every other producer
 * (an older web process, a dead-lettered job being replayed, a hand-made job).
 */
import { cleanText, needsCleaning } from "../engine/text.ts";
import type { SurveyEvent } from "./events.ts";

/** The event's strings besides the comment (ids, names, the decline reason). */
const TEXT_FIELDS = ["surveyId", "scenarioId", "scenarioVersion", "channel", "botId", "conversationId", "reason"] as const;

/** The event with storable strings; the same object when nothing had to change. */
export function cleanSurveyEvent(e: SurveyEvent): SurveyEvent {
  const dirtyComment = typeof e.comment === "string" && needsCleaning(e.comment);
  let dirtyText = false;
  for (const f of TEXT_FIELDS) {
    const v = e[f];
    if (typeof v === "string" && needsCleaning(v)) dirtyText = true;
  }
  if (!dirtyComment && !dirtyText) return e;
  const out: SurveyEvent = { ...e };
  for (const f of TEXT_FIELDS) {
    const v = out[f];
    if (typeof v === "string") (out as unknown as Record<string, string>)[f] = cleanText(v);
  }
  if (dirtyComment) {
    out.comment = cleanText(e.comment as string);
    out.commentSanitized = true;
  }
  return out;
}
