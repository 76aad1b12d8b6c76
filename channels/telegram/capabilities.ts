/**
 * What Telegram can show, declared once: the limits the loader checks scenarios against and how
 * a question becomes an inline keyboard (render.ts), measured for its callback_data budget.
 * Pure, and free of grammY, so `botflow validate` loads it without the SDK.
 */
import type { ChannelLimits, QuestionMessage, QuestionPlan } from "../../engine/catalog.ts";
import { MAX_CALLBACK_DATA_BYTES } from "./callback-data.ts";
import { TELEGRAM } from "./inbound.ts";
import { inlineKeyboard } from "./render.ts";
import { count, orTyped, TYPED_ONLY } from "../question-plan.ts";

/**
 * The longest ids a button's callback_data carries: a conversation's billionth prompt, and a
 * group member's user id at the 16 digits the data may hold (callback-data.ts).
 */
const LONGEST_PROMPT_ID = `p${"9".repeat(9)}`;
const LONGEST_MEMBER = "9".repeat(16);

/** Inline keyboards take up to 100 buttons; labels longer than this are cut off on phones. */
export const TELEGRAM_LIMITS: ChannelLimits = {
  channel: TELEGRAM,
  maxLabelLength: 64,
  maxButtons: 100,
  maxTextLength: 4096,
  planQuestion: planTelegramQuestion,
};

/** An inline keyboard in the scenario's rows; each button's callback_data within 64 bytes even in a group. */
export function planTelegramQuestion(message: QuestionMessage): QuestionPlan {
  const buttons = message.buttons ?? [];
  if (buttons.length === 0) return TYPED_ONLY;
  const typed = orTyped(message);
  let keyboard;
  try {
    keyboard = inlineKeyboard({ ...message, promptId: LONGEST_PROMPT_ID }, LONGEST_MEMBER);
  } catch {
    const index = buttons.length - 1;
    return { form: "inline keyboard", problems: [{ at: index, message: `button ${index + 1}'s callback_data would not fit Telegram's ${MAX_CALLBACK_DATA_BYTES} bytes; use fewer buttons` }] };
  }
  const rows = keyboard?.inline_keyboard ?? [];
  const bytes = Math.max(0, ...rows.flat().map((b) => ("callback_data" in b && b.callback_data !== undefined ? Buffer.byteLength(b.callback_data) : 0)));
  return { form: `inline keyboard, ${count(buttons.length, "button")} in ${count(rows.length, "row")}${typed} (callback_data ≤ ${bytes} of ${MAX_CALLBACK_DATA_BYTES} bytes)` };
}
