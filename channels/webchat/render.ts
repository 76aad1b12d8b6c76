/**
 * Turns the runtime's user-visible effects into web chat server frames. Statistics and
 * action effects never reach the page.
 */
import { renderWith, type VisibleEffect } from "../port.ts";
import type { ServerFrame } from "./protocol.ts";

/** The frames that show `effects` in the chat page, in order. */
export function renderEffects(effects: readonly VisibleEffect[]): ServerFrame[] {
  return renderWith<ServerFrame>(effects, {
    send: ({ message: m }) => {
      const buttons = m.buttons?.map((b) => ({ label: b.label, index: b.index, ...(b.skip ? { skip: true as const } : {}) }));
      return [
        {
          type: "message",
          text: m.text,
          ...(m.promptId !== undefined ? { promptId: m.promptId } : {}),
          ...(buttons && buttons.length > 0 ? { buttons } : {}),
          ...(m.rows && m.rows.length > 0 ? { rows: m.rows.map((row) => row.map((b) => b.index)) } : {}),
          ...(m.expectsText ? { expectsText: true } : {}),
        },
      ];
    },
    close: (e) => [{ type: "edit", promptId: e.promptId, reason: e.reason, ...(e.answer ? { answer: e.answer.label } : {}) }],
    ignored: (e) => {
      if (e.reason === "stale_prompt" && e.promptId !== undefined) return [{ type: "edit", promptId: e.promptId, reason: "stale" }];
      if (e.reason === "unknown_button") return [{ type: "error", code: "unknown_button", message: "that button is not part of the question" }];
      return [{ type: "error", code: "no_dialogue", message: "no conversation is in progress: send a start frame to begin one" }];
    },
  });
}
