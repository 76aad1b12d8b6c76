/**
 * What the WhatsApp Cloud API can show, declared once: the limits the loader checks scenarios
 * against and which interactive form a question takes (render.ts `questionForm`: reply buttons
 * or a list). Pure, for `botflow validate`.
 */
import type { ChannelLimits, QuestionMessage, QuestionPlan } from "../../engine/catalog.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import { count, orTyped, TYPED_ONLY } from "../question-plan.ts";
import { MAX_INTERACTIVE_BODY, MAX_LIST_ROW_TITLE, MAX_LIST_ROWS, MAX_REPLY_BUTTON_TITLE, MAX_REPLY_BUTTONS, questionForm } from "./render.ts";

/**
 * Checked when the scenario loads: the list is the widest form, so its limits are the channel's.
 * Texts are held to the interactive body's 1024 characters, since any text may be a question's.
 */
export const WHATSAPP_CLOUD_LIMITS: ChannelLimits = {
  channel: WHATSAPP_CLOUD,
  maxLabelLength: MAX_LIST_ROW_TITLE,
  maxButtons: MAX_LIST_ROWS,
  maxTextLength: MAX_INTERACTIVE_BODY,
  planQuestion: planWhatsappCloudQuestion,
};

/** Reply buttons, or a list when there are more than 3 or a title is over 20 characters. */
export function planWhatsappCloudQuestion(message: QuestionMessage): QuestionPlan {
  const buttons = message.buttons ?? [];
  if (buttons.length === 0) return TYPED_ONLY;
  const typed = orTyped(message);
  if (questionForm(buttons) === "button") return { form: `reply buttons, ${buttons.length}${typed}` };
  const why = buttons.length > MAX_REPLY_BUTTONS ? `more than ${MAX_REPLY_BUTTONS} buttons` : `a label over ${MAX_REPLY_BUTTON_TITLE} characters`;
  return { form: `list, ${count(buttons.length, "row")} (${why})${typed}` };
}
