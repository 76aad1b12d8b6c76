/**
 * What WhatsApp Web can show, declared once: the limits the loader checks scenarios against and
 * the numbered text prompt a question becomes (render.ts `instructions`), with a poll beside it
 * when WHATSAPP_WEB_POLLS is on. Pure, for `botflow validate`.
 */
import type { ChannelLimits, QuestionMessage, QuestionPlan } from "../../engine/catalog.ts";
import { instructions, WHATSAPP_WEB } from "./render.ts";

/** WhatsApp polls take at most 12 options of up to 100 characters; texts up to 4096 are comfortable. */
export const WHATSAPP_WEB_LIMITS: ChannelLimits = {
  channel: WHATSAPP_WEB,
  maxLabelLength: 100,
  maxButtons: 12,
  maxTextLength: 4096,
  planQuestion: planWhatsappWebQuestion,
};

/** A numbered prompt ("Reply 1–5."), since buttons sent by whatsapp-web.js no longer arrive. */
export function planWhatsappWebQuestion(message: QuestionMessage): QuestionPlan {
  const buttons = message.buttons ?? [];
  const line = instructions(buttons, message.expectsText === true);
  if (message.expectsText || buttons.length === 0) return { form: `text; ${line}` };
  return { form: `numbered prompt; ${line} (and a poll with WHATSAPP_WEB_POLLS=true)` };
}
