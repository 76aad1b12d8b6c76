/**
 * Turns the runtime's user-visible effects into what the Teams channel does with the connector:
 * send a text or a question card, close (update in place) the card of a prompt, or send a notice.
 * Statistics and action effects never reach Teams (channels/port.ts filters them).
 */
import type { CloseReason } from "../../engine/types.ts";
import { renderWith, type VisibleEffect } from "../port.ts";
import { questionCard, type AdaptiveCard } from "./adaptive-card.ts";

export type TeamsOp =
  | { kind: "send"; text: string; card?: AdaptiveCard; promptId?: string }
  | { kind: "close"; promptId: string; status?: string }
  | { kind: "notice"; text: string };

export const STALE_NOTICE = "This survey is closed";
/** A tap on another member's question card in a channel thread or group chat. */
export const OTHER_MEMBER_NOTICE = "This survey is for the person who asked for it; mention me to get your own.";
export const UNKNOWN_BUTTON_NOTICE = "That button is not part of the question.";

/** The card's closing line per reason; a reprompt just takes the buttons away (the new question follows). */
const CLOSED_STATUS: Record<CloseReason, string | undefined> = {
  answered: undefined,
  skipped: undefined,
  timeout: STALE_NOTICE,
  invalid: STALE_NOTICE,
  reprompt: undefined,
  restart: "This survey was restarted",
};

/** Longest answer echoed on a closed card: a long comment stays in the chat, not on the card. */
const MAX_ECHO = 80;

/** What Teams should do for `effects`, in order; `owner`: the member a shared conversation's survey belongs to. */
export function planEffects(effects: readonly VisibleEffect[], o: { owner?: string } = {}): TeamsOp[] {
  return renderWith<TeamsOp>(effects, {
    send: ({ message: m }) =>
      m.promptId !== undefined && m.buttons && m.buttons.length > 0
        ? [{ kind: "send", text: m.text, card: questionCard({ ...m, promptId: m.promptId }, o.owner), promptId: m.promptId }]
        : [{ kind: "send", text: m.text }],
    close: (e) => {
      const label = e.answer?.label;
      const status = label !== undefined ? `Your answer: ${label.length > MAX_ECHO ? `${label.slice(0, MAX_ECHO - 1)}…` : label}` : CLOSED_STATUS[e.reason];
      return [{ kind: "close", promptId: e.promptId, ...(status !== undefined ? { status } : {}) }];
    },
    ignored: (e) => [{ kind: "notice", text: e.reason === "unknown_button" ? UNKNOWN_BUTTON_NOTICE : STALE_NOTICE }],
  });
}
