/**
 * What Teams can show, declared once: the limits the loader checks scenarios against and the
 * Adaptive Card a question becomes (adaptive-card.ts), measured against Teams' message size.
 * Pure, and free of botbuilder, so `botflow validate` loads it without the SDK.
 */
import type { ChannelLimits, QuestionMessage, QuestionPlan } from "../../engine/catalog.ts";
import { MAX_ACTIONS_PER_ROW, questionCard } from "./adaptive-card.ts";
import { TEAMS } from "./parse-activity.ts";
import { count, orTyped, TYPED_ONLY } from "../question-plan.ts";

/** Teams refuses a message above about 28 KB, the card and its text included. */
export const MAX_TEAMS_MESSAGE_BYTES = 28_000;
/** Room left in a message for the activity around the card (its ids, the conversation, the recipient). */
const ACTIVITY_OVERHEAD_BYTES = 2_000;
/** A member id (`29:…`) as long as Teams makes them, carried by each button in a channel thread. */
const LONG_MEMBER = `29:${"x".repeat(120)}`;

/** Teams cuts long button titles and a message above ~28 KB is refused. */
export const TEAMS_LIMITS: ChannelLimits = {
  channel: TEAMS,
  maxLabelLength: 40,
  maxButtons: 20,
  maxTextLength: 25_000,
  planQuestion: planTeamsQuestion,
};

/** An Adaptive Card with the buttons in rows of at most MAX_ACTIONS_PER_ROW, its size within the message limit. */
export function planTeamsQuestion(message: QuestionMessage): QuestionPlan {
  const buttons = message.buttons ?? [];
  if (buttons.length === 0) return TYPED_ONLY;
  const card = questionCard(message, LONG_MEMBER);
  const rows = card.body.filter((e) => e.type === "ActionSet").length;
  const bytes = Buffer.byteLength(JSON.stringify(card)) + ACTIVITY_OVERHEAD_BYTES;
  const form = `Adaptive Card, ${count(buttons.length, "button")} in ${count(rows, "row")} of up to ${MAX_ACTIONS_PER_ROW}${orTyped(message)}`;
  if (bytes <= MAX_TEAMS_MESSAGE_BYTES) return { form };
  return { form, problems: [{ at: "text", message: `the question's card would be about ${Math.ceil(bytes / 1000)} KB; Teams refuses messages above ${MAX_TEAMS_MESSAGE_BYTES / 1000} KB: shorten the text or the labels` }] };
}
