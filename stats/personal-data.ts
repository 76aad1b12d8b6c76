/**
 * What botflow keeps of a person's data once it is erased (a person's erasure request, or the
 * retention period of BOTFLOW_RETENTION_COMMENTS passed), in one place for every store that
 * holds it.
 *
 * Kept: the start variables named here, the low-cardinality survey dimensions a team reads its
 * figures by (who served the customer, which team, which ticket in the helpdesk, its topic and
 * tags). They describe the service, not the person; the ticket is the helpdesk's own record, which
 * the helpdesk erases on its side. Every other start variable (a name, an email, a phone number,
 * anything a scenario or a trigger passed along) is dropped, as are the comment text and the
 * conversation id. Survey ids stay: they are sha256 hashes (engine/runtime.ts `surveyId`).
 */
import type { SurveyContext } from "./events.ts";

/** Start variables kept on an erased survey or trigger; every other one is dropped. */
export const KEPT_CONTEXT_KEYS: readonly string[] = ["agent", "team", "ticket", "tags", "topic"];

/** `context` without the variables erasure drops; null when none is left. */
export function keptContext(context: Readonly<Record<string, unknown>> | null | undefined): SurveyContext | null {
  if (!context) return null;
  const kept: Record<string, string | number | boolean> = {};
  for (const key of KEPT_CONTEXT_KEYS) {
    const v = context[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") kept[key] = v;
  }
  return Object.keys(kept).length > 0 ? kept : null;
}
