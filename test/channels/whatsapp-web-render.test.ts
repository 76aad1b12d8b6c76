/**
 * What a WhatsApp Web question says to reply: the numbers shown must be the ones the engine
 * accepts (labels, or positions when no label is a number).
 */
import { visibleEffects } from "../../channels/port.ts";
import { describe, expect, it } from "vitest";
import { instructions, renderEffects } from "../../channels/whatsapp/render.ts";
import type { OutButton } from "../../engine/types.ts";

const buttons = (labels: string[], skip?: string): OutButton[] => [
  ...labels.map((label, index) => ({ label, value: index, index })),
  ...(skip ? [{ label: skip, value: "", index: labels.length, skip: true }] : []),
];

describe("instructions", () => {
  it("shows a range for consecutive numbers, positions for words and emoji, and the skip label", () => {
    expect(instructions(buttons(["1", "2", "3", "4", "5"], "Skip"), false)).toBe('Reply 1–5, or "Skip".');
    expect(instructions(buttons(Array.from({ length: 11 }, (_, i) => String(i))), false)).toBe("Reply 0–10.");
    expect(instructions(buttons(["1", "3", "5"]), false)).toBe("Reply 1 / 3 / 5.");
    expect(instructions(buttons(["👍", "👎"], "Skip"), false)).toBe('Reply 1 👍 / 2 👎, or "Skip".');
    expect(instructions(buttons(["Yes", "No"]), false)).toBe("Reply 1 Yes / 2 No.");
    // With a numeric label among words the engine does not match positions: list the labels.
    expect(instructions(buttons(["Bad", "10"]), false)).toBe("Reply Bad / 10.");
    expect(instructions(buttons([], "No comment"), true)).toBe('Type your answer, or "No comment".');
  });
});

describe("renderEffects", () => {
  const ask = { type: "send" as const, message: { text: "Rate us", promptId: "p3", buttons: buttons(["1", "2", "3"], "Skip") } };

  it("sends the numbered prompt, plus a poll only when enabled and never for a free-text question", () => {
    expect(renderEffects([ask], { polls: false })).toEqual([{ kind: "text", text: 'Rate us\n\nReply 1–3, or "Skip".' }]);
    expect(renderEffects([ask], { polls: true })).toEqual([
      { kind: "text", text: 'Rate us\n\nReply 1–3, or "Skip".' },
      { kind: "poll", name: "Rate us", options: ["1", "2", "3", "Skip"], promptId: "p3", buttonIndexes: [0, 1, 2, 3] },
    ]);
    const comment = { type: "send" as const, message: { text: "Comment?", promptId: "p4", buttons: buttons([], "No comment"), expectsText: true } };
    expect(renderEffects([comment], { polls: true })).toEqual([{ kind: "text", text: 'Comment?\n\nType your answer, or "No comment".' }]);
  });

  it("sends nothing for closes, stale answers and bookkeeping", () => {
    expect(
      renderEffects(
        visibleEffects([
          { type: "close", promptId: "p3", reason: "answered", answer: { label: "2", value: 2 } },
          { type: "ignored", reason: "stale_prompt", promptId: "p1" },
          { type: "track", event: { type: "dialogue_started" } },
          { type: "send", message: { text: "Thanks!" } },
        ]),
        { polls: true },
      ),
    ).toEqual([{ kind: "text", text: "Thanks!" }]);
  });
});
