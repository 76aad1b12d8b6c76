/**
 * The words every channel's `planQuestion` (capabilities.ts) shares, so `botflow validate
 * --channels` says the same thing the same way for each: a question without buttons, the typed
 * answer a keyboard also takes, and counts.
 */
import type { QuestionMessage, QuestionPlan } from "../engine/catalog.ts";

/** A question without buttons: shown as text, answered by typing. */
export const TYPED_ONLY: QuestionPlan = { form: "text; the answer is typed" };

/** ", or a typed answer" when the question takes one beside its buttons. */
export function orTyped(message: QuestionMessage): string {
  return message.expectsText ? ", or a typed answer" : "";
}

/** "1 button", "5 buttons". */
export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
