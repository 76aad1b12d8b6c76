/**
 * What botflow answers a Teams `invoke` activity with. An invoke is a request the Teams client
 * waits on: the HTTP response *is* the answer, and one without an invoke response (botbuilder
 * answers 501) is shown to the user as an error. So every invoke gets 200:
 *
 * | invoke | answer |
 * |---|---|
 * | `adaptiveCard/action` (Action.Execute) on a botflow question card | the card closed in place (`application/vnd.microsoft.card.adaptive`: the question and the answer, no buttons), or a short message (`application/vnd.microsoft.activity.message`): "This survey is closed", the other-member notice, or that the answer is recorded |
 * | `adaptiveCard/action` on any other card | a short message that the action is not handled |
 * | anything else (`composeExtension/*`, `task/*`, `signin/*`, …) | 200 with an empty body: botflow handles none of them |
 *
 * botflow's own cards use Action.Submit (a `message` activity, no invoke), which every Teams
 * client renders; Action.Execute reaches it from cards an integrator builds on botflow's data
 * (`{ botflow: 1, promptId, index, value }`), and is answered as above.
 */
import { ADAPTIVE_CARD_CONTENT_TYPE, type AdaptiveCard } from "./adaptive-card.ts";
import { ADAPTIVE_CARD_ACTION } from "./parse-activity.ts";

/** The response type of an `adaptiveCard/action` invoke answered with a message. */
export const ACTIVITY_MESSAGE_TYPE = "application/vnd.microsoft.activity.message";
export const RECORDED_NOTICE = "Thank you, your answer is recorded.";
export const NOT_HANDLED_NOTICE = "This bot does not handle that action.";

/** What the turn of an `adaptiveCard/action` invoke gathered for its answer (render ops put it here instead of sending it). */
export interface InvokeReply {
  /** The tapped card, closed: Teams replaces the card with it. */
  card?: AdaptiveCard;
  /** A notice for the user who tapped. */
  text?: string;
}

/** The body of an `adaptiveCard/action` response (Universal Actions). */
export type AdaptiveCardActionResponse =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: AdaptiveCard }
  | { statusCode: 200; type: typeof ACTIVITY_MESSAGE_TYPE; value: string };

/** botbuilder's InvokeResponse, as the CloudAdapter writes it to the HTTP response. */
export interface TeamsInvokeResponse {
  status: 200;
  body: AdaptiveCardActionResponse | Record<string, never>;
}

/** The answer to invoke `name`; `handled`: the activity carried a botflow answer the runtime took. */
export function invokeResponse(name: string | undefined, reply: InvokeReply | undefined, handled: boolean): TeamsInvokeResponse {
  if (name !== ADAPTIVE_CARD_ACTION) return { status: 200, body: {} };
  if (reply?.card) return { status: 200, body: { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: reply.card } };
  const text = reply?.text ?? (handled ? RECORDED_NOTICE : NOT_HANDLED_NOTICE);
  return { status: 200, body: { statusCode: 200, type: ACTIVITY_MESSAGE_TYPE, value: text } };
}
