/**
 * Adaptive Cards for Teams: a question with one Action.Submit per button, and the same card
 * once closed (the answer shown, no buttons). Version 1.2, the newest the Teams mobile apps
 * render, and the first with ActionSet (which lets buttons sit in several rows).
 */
import type { OutButton, OutMessage, VarValue } from "../../engine/types.ts";

export const CARD_VERSION = "1.2";
export const ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
/** Teams folds the buttons of one ActionSet beyond about six into a "…" menu; five stay visible on a phone. */
export const MAX_ACTIONS_PER_ROW = 5;

/** What a button sends back in `activity.value`; `botflow: 1` tells our submits from other cards'. */
export interface SubmitData {
  botflow: 1;
  promptId: string;
  index: number;
  value: VarValue;
  /** In a channel thread or group chat: the member (`from.id`) whose survey this is; a tap by anyone else changes nothing. */
  for?: string;
}

export interface SubmitAction {
  type: "Action.Submit";
  title: string;
  data: SubmitData;
}

export type CardElement =
  | { type: "TextBlock"; text: string; wrap: true; isSubtle?: boolean; weight?: "Bolder" }
  | { type: "ActionSet"; actions: SubmitAction[] };

export interface AdaptiveCard {
  type: "AdaptiveCard";
  $schema: "http://adaptivecards.io/schemas/adaptive-card.json";
  version: typeof CARD_VERSION;
  body: CardElement[];
}

function card(body: CardElement[]): AdaptiveCard {
  return { type: "AdaptiveCard", $schema: "http://adaptivecards.io/schemas/adaptive-card.json", version: CARD_VERSION, body };
}

/** The question card: its text, then the scenario's button rows, each cut to rows of MAX_ACTIONS_PER_ROW; `owner` in a shared conversation. */
export function questionCard(message: OutMessage & { promptId: string }, owner?: string): AdaptiveCard {
  const buttons = message.buttons ?? [];
  const rows: OutButton[][] = message.rows && message.rows.length > 0 ? message.rows : [buttons];
  const body: CardElement[] = [{ type: "TextBlock", text: message.text, wrap: true }];
  for (const row of rows) {
    for (let i = 0; i < row.length; i += MAX_ACTIONS_PER_ROW) {
      const actions = row.slice(i, i + MAX_ACTIONS_PER_ROW).map(
        (b): SubmitAction => ({
          type: "Action.Submit",
          title: b.label,
          data: { botflow: 1, promptId: message.promptId, index: b.index, value: b.value, ...(owner !== undefined ? { for: owner } : {}) },
        }),
      );
      if (actions.length > 0) body.push({ type: "ActionSet", actions });
    }
  }
  return card(body);
}

/** The closed card: the question (when known) and what became of it, with no buttons left to tap. */
export function closedCard(questionText: string | undefined, status: string | undefined): AdaptiveCard {
  const body: CardElement[] = [];
  if (questionText !== undefined) body.push({ type: "TextBlock", text: questionText, wrap: true });
  if (status !== undefined) body.push({ type: "TextBlock", text: status, wrap: true, isSubtle: true, weight: "Bolder" });
  return card(body.length > 0 ? body : [{ type: "TextBlock", text: "Closed", wrap: true, isSubtle: true }]);
}
