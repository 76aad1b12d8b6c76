/**
 * Turns the runtime's user-visible effects into web chat server frames. Statistics and
 * action effects never reach the page.
 */
import { assertNever } from "../../engine/types.ts";
import type { VisibleEffect } from "../port.ts";
import type { ServerFrame } from "./protocol.ts";

/** The frames that show `effects` in the chat page, in order. */
export function renderEffects(effects: readonly VisibleEffect[]): ServerFrame[] {
  const frames: ServerFrame[] = [];
  for (const e of effects) {
    switch (e.type) {
      case "send": {
        const m = e.message;
        const buttons = m.buttons?.map((b) => ({ label: b.label, index: b.index, ...(b.skip ? { skip: true as const } : {}) }));
        frames.push({
          type: "message",
          text: m.text,
          ...(m.promptId !== undefined ? { promptId: m.promptId } : {}),
          ...(buttons && buttons.length > 0 ? { buttons } : {}),
          ...(m.rows && m.rows.length > 0 ? { rows: m.rows.map((row) => row.map((b) => b.index)) } : {}),
          ...(m.expectsText ? { expectsText: true } : {}),
        });
        break;
      }
      case "close":
        frames.push({ type: "edit", promptId: e.promptId, reason: e.reason, ...(e.answer ? { answer: e.answer.label } : {}) });
        break;
      case "ignored":
        if (e.reason === "stale_prompt" && e.promptId !== undefined) frames.push({ type: "edit", promptId: e.promptId, reason: "stale" });
        else if (e.reason === "unknown_button") frames.push({ type: "error", code: "unknown_button", message: "that button is not part of the question" });
        else frames.push({ type: "error", code: "no_dialogue", message: "no conversation is in progress: send a start frame to begin one" });
        break;
      default:
        assertNever(e, "effect");
    }
  }
  return frames;
}
