/**
 * Turns the runtime's effects into what WhatsApp Web can show. Buttons and list messages sent
 * by whatsapp-web.js no longer reach recipients, so a question is a numbered text prompt
 * ("Reply 1–5", or "1 👍 / 2 👎") that always arrives, and optionally a single-choice poll too.
 * The engine matches a typed answer by label, or by position when no label is a number, so the
 * numbers shown here are exactly the ones it accepts.
 *
 * Nothing can be edited afterwards either: `close` sends nothing, and a stale or unknown answer
 * (a vote changed after the survey moved on) is dropped silently rather than puzzling the user.
 */
import type { OutButton } from "../../engine/types.ts";
import { renderWith, type VisibleEffect } from "../port.ts";

export const WHATSAPP_WEB = "whatsapp";

const MAX_POLL_NAME = 255;

/** One thing to send: text, or a poll standing for a prompt's buttons. */
export type WebOutgoing =
  | { kind: "text"; text: string }
  | { kind: "poll"; name: string; options: string[]; promptId: string; buttonIndexes: number[] };

/** The messages that show `effects`, in order; polls only when `polls` is on. */
export function renderEffects(effects: readonly VisibleEffect[], o: { polls: boolean }): WebOutgoing[] {
  return renderWith<WebOutgoing>(effects, {
    send: ({ message: m }) => {
      const buttons = m.buttons ?? [];
      if (m.promptId === undefined || buttons.length === 0) return [{ kind: "text", text: m.text }];
      const prompt: WebOutgoing = { kind: "text", text: `${m.text}\n\n${instructions(buttons, m.expectsText === true)}` };
      if (!o.polls || m.expectsText) return [prompt];
      return [prompt, { kind: "poll", name: clip(m.text, MAX_POLL_NAME), options: buttons.map((b) => b.label), promptId: m.promptId, buttonIndexes: buttons.map((b) => b.index) }];
    },
    // Nothing can be edited, and a stale answer is dropped rather than puzzling the user.
    close: () => [],
    ignored: () => [],
  });
}

/**
 * The line under a question saying what to reply: "Reply 1–5, or "Skip"." for numeric labels in
 * a row, "Reply 1 👍 / 2 👎, or "Skip"." for others, "Type your answer, or "No comment"." for text.
 */
export function instructions(buttons: readonly OutButton[], expectsText: boolean): string {
  const real = buttons.filter((b) => !b.skip);
  const skip = buttons.find((b) => b.skip);
  const orSkip = skip ? `, or "${skip.label}"` : "";
  if (expectsText || real.length === 0) return `Type your answer${orSkip}.`;
  const numbers = real.map((b) => b.label.trim());
  const numeric = numbers.every((l) => /^[0-9]+$/.test(l));
  if (numeric) {
    const values = numbers.map(Number);
    const consecutive = values.every((v, i) => i === 0 || v === (values[i - 1] as number) + 1);
    const list = consecutive && values.length > 2 ? `${values[0]}–${values.at(-1)}` : numbers.join(" / ");
    return `Reply ${list}${orSkip}.`;
  }
  // The engine matches by position only when no label is a number: then "2" means the second.
  if (numbers.some((l) => /^[0-9]+$/.test(l))) return `Reply ${numbers.join(" / ")}${orSkip}.`;
  return `Reply ${real.map((b, i) => `${i + 1} ${b.label}`).join(" / ")}${orSkip}.`;
}

function clip(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}
