/**
 * What the web chat can show, declared once: the limits the loader checks scenarios against and
 * how the chat page shows a question (buttons in the scenario's rows). Pure, for `botflow validate`.
 */
import type { ChannelLimits, QuestionMessage, QuestionPlan } from "../../engine/catalog.ts";
import { count, orTyped, TYPED_ONLY } from "../question-plan.ts";

export const WEBCHAT = "webchat";

/** Buttons wrap on a page, so the limits only keep a keyboard usable on a phone. */
export const WEBCHAT_LIMITS: ChannelLimits = {
  channel: WEBCHAT,
  maxLabelLength: 64,
  maxButtons: 24,
  maxTextLength: 4096,
  planQuestion: planWebchatQuestion,
};

/** Buttons in the scenario's rows (render.ts sends them as they are; the page wraps a long row). */
export function planWebchatQuestion(message: QuestionMessage): QuestionPlan {
  const buttons = message.buttons ?? [];
  if (buttons.length === 0) return TYPED_ONLY;
  const rows = message.rows?.length ?? 1;
  return { form: `buttons, ${buttons.length} in ${count(rows, "row")}${orTyped(message)}` };
}
