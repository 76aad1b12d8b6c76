/**
 * Turns the runtime's user-visible effects into WhatsApp Cloud API message bodies.
 *
 * A question with at most 3 buttons whose titles fit 20 characters goes out as reply buttons;
 * any other (up to 10 options, titles up to 24 characters: the load-time limits, capabilities.ts) as an
 * interactive list. Each button or row id carries the prompt id and the button index, so a
 * reply maps back to the question it answers. The Cloud API cannot edit a sent message, so
 * `close` effects send nothing: the user's own reply already shows what they chose.
 */
import type { OutButton } from "../../engine/types.ts";
import { renderWith, type VisibleEffect } from "../port.ts";
import { WHATSAPP_CLOUD, type GraphMessage } from "./graph-client.ts";

/** WhatsApp's own limits: reply buttons, list rows and interactive bodies. */
export const MAX_REPLY_BUTTONS = 3;
export const MAX_REPLY_BUTTON_TITLE = 20;
export const MAX_LIST_ROWS = 10;
export const MAX_LIST_ROW_TITLE = 24;
export const MAX_INTERACTIVE_BODY = 1024;

/** How a question's buttons go out: reply buttons when at most 3 fit 20 characters each, else a list. */
export function questionForm(buttons: readonly Pick<OutButton, "label">[]): "button" | "list" {
  return buttons.length <= MAX_REPLY_BUTTONS && buttons.every((b) => [...b.label].length <= MAX_REPLY_BUTTON_TITLE) ? "button" : "list";
}

/** The label on the button that opens a list (at most 20 characters). */
const LIST_BUTTON = "Choose an answer";
const STALE_TEXT = "That question has already been answered or has expired.";
const UNKNOWN_TEXT = "That option is not part of the question.";

const REPLY_ID = /^bf1\|([A-Za-z0-9_-]{1,64})\|([0-9]{1,3})$/;

/** The id a button or list row carries: the prompt and the button's index. */
export function replyId(promptId: string, index: number): string {
  return `bf1|${promptId}|${index}`;
}

/** The prompt and button a reply id names, or undefined for an id botflow did not make. */
export function parseReplyId(id: string): { promptId: string; buttonIndex: number } | undefined {
  const m = REPLY_ID.exec(id);
  return m ? { promptId: m[1] as string, buttonIndex: Number(m[2]) } : undefined;
}

/** The message bodies that show `effects` to `to`, in order. */
export function renderEffects(to: string, effects: readonly VisibleEffect[]): GraphMessage[] {
  return renderWith<GraphMessage>(effects, {
    send: ({ message: m }) => [m.promptId !== undefined && (m.buttons ?? []).length > 0 ? interactive(to, m.text, m.promptId, m.buttons ?? []) : text(to, m.text)],
    // The Cloud API cannot edit a sent message: the user's own reply shows what they chose.
    close: () => [],
    // no_dialogue: a tap on a survey that is over; a reply would only puzzle.
    ignored: (e) => (e.reason === "stale_prompt" ? [text(to, STALE_TEXT)] : e.reason === "unknown_button" ? [text(to, UNKNOWN_TEXT)] : []),
  });
}

function text(to: string, body: string): GraphMessage {
  return { messaging_product: "whatsapp", recipient_type: "individual", to, type: "text", text: { body: clip(body, 4096), preview_url: false } };
}

/** Loading keeps texts in bounds; a {{variable}} substituted at run time could still overflow. */
function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

function interactive(to: string, body: string, promptId: string, buttons: readonly OutButton[]): GraphMessage {
  const fitsButtons = questionForm(buttons) === "button";
  const action = fitsButtons
    ? { buttons: buttons.map((b) => ({ type: "reply", reply: { id: replyId(promptId, b.index), title: b.label } })) }
    : { button: LIST_BUTTON, sections: [{ rows: buttons.map((b) => ({ id: replyId(promptId, b.index), title: b.label })) }] };
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to,
    type: "interactive",
    interactive: { type: fitsButtons ? "button" : "list", body: { text: clip(body, MAX_INTERACTIVE_BODY) }, action },
  };
}
