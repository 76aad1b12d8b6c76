/**
 * `invalid.default`: when the re-prompts run out, the default is recorded as the answer
 * (save_to, a prompt_answered track event marked `defaulted`), then `invalid.next` is followed
 * (or the question's `next`). At load the default must be one of the keyboard's values.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import { toSurveyEvent } from "../../stats/survey-tracker.ts";
import { ofType, TestConversation, texts, tracks } from "../helpers/conversation.ts";
import { loadTestScenario, testActions } from "../helpers/scenario.ts";

const actions = testActions().specs();
const show = (p: ScenarioProblem): string => `${p.line}:${p.col} ${p.severity}: ${p.message}`;
const problems = (yaml: string): string[] => loadScenarioText(yaml, "default.yaml", { actions }).problems.map(show);

const RATE = loadTestScenario(`
id: rate
start: rate
locale: en
blocks:
  rate:
    type: message_with_keyboard
    text: Rate us 1 to 5
    buttons:
      - { label: "1", value: 1 }
      - { label: "2", value: 2 }
      - { label: "3", value: 3 }
      - { label: "4", value: 4 }
      - { label: "5", value: 5 }
    save_to: quality_answer
    invalid: { text: "Tap 1 to 5", max_attempts: 2, default: 3, next: save }
    next: thanks
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: thanks
  thanks:
    type: end
    text: "Recorded {{quality_answer}}"
`);

describe("invalid.default", () => {
  it("re-prompts max_attempts times, then records the default, tracks it as defaulted and follows invalid.next", () => {
    const c = new TestConversation(RATE);
    c.start();
    expect(texts(c.text("great"))).toEqual(["Tap 1 to 5"]);
    expect(texts(c.text("superb"))).toEqual(["Tap 1 to 5"]);
    const effects = c.text("wonderful");
    expect(effects).toEqual([
      { type: "close", promptId: "p3", reason: "invalid" },
      { type: "track", event: { type: "prompt_answered", blockId: "rate", saveTo: "quality_answer", value: 3, defaulted: true } },
      { type: "runAction", blockId: "save", name: "statistic__set", config: { type: "quality" } },
    ]);
    expect(c.state?.vars.quality_answer).toBe(3);
    expect(texts(c.actionResult("save", true))).toEqual(["Recorded 3"]);
  });

  it("statistics see the defaulted answer as the survey's score", () => {
    const c = new TestConversation(RATE);
    c.start();
    c.text("a");
    c.text("b");
    const [event] = tracks(c.text("c"));
    const ctx = { ref: { channel: "test", conversationId: "c1", userId: "u1" }, scenarioId: "rate", scenarioVersion: "1", surveyId: "s1", dialogueStartedAt: 0, at: 0, vars: {} };
    expect(event?.defaulted).toBe(true);
    expect(toSurveyEvent(event as NonNullable<typeof event>, ctx)).toMatchObject({ kind: "answered", score: 3 });
  });

  it("a real answer before the attempts run out is no default", () => {
    const c = new TestConversation(RATE);
    c.start();
    c.text("great");
    const effects = c.tap(4);
    expect(tracks(effects)).toContainEqual({ type: "prompt_answered", blockId: "rate", saveTo: "quality_answer", value: 5 });
    expect(tracks(effects).some((t) => t.defaulted)).toBe(false);
  });

  it("skip and timeout still decline: the default is only for answers that never fit", () => {
    const s = loadTestScenario(`
id: t
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    skip: { label: Skip }
    timeout: { after: 1h }
    invalid: { max_attempts: 1, default: 2 }
`);
    const skipped = new TestConversation(s);
    skipped.start();
    expect(tracks(skipped.tap(2))[0]).toEqual({ type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "skipped" });
    const late = new TestConversation(s);
    late.start();
    expect(tracks(late.feed({ kind: "timeout" }, 3_600_000))[0]).toEqual({ type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "timeout" });
    expect(late.state?.vars.quality_answer).toBeUndefined();
  });

  it("without invalid.next the question's own next is followed: it has its answer", () => {
    const s = loadTestScenario(`
id: t
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Happy?
    buttons: [{ label: "👍", value: 100 }, { label: "👎", value: 0 }]
    save_to: quality_answer
    invalid: { max_attempts: 1, default: 100 }
    next: bye
  bye:
    type: end
    text: "Got {{quality_answer}}"
`);
    const c = new TestConversation(s);
    c.start();
    c.text("meh");
    expect(texts(c.text("meh"))).toEqual(["Got 100"]);
  });

  it("records the button's own value and type, in the user's locale when the value is a translated label", () => {
    const s = loadTestScenario(`
id: t
start: rate
locale: en
blocks:
  rate:
    type: message_with_keyboard
    text: Rate
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    invalid: { max_attempts: 1, default: "2", next: pick }
  pick:
    type: message_with_keyboard
    text: Pick
    buttons: [{ label: { en: Yes, uk: Так } }, { label: { en: No, uk: Ні } }]
    save_to: answer
    invalid: { max_attempts: 1, default: "No" }
`);
    const c = new TestConversation(s);
    c.start({ locale: "uk" });
    c.text("x");
    c.text("x");
    expect(c.state?.vars.quality_answer).toBe(2);
    c.text("x");
    const effects = c.text("x");
    expect(tracks(effects)[0]).toEqual({ type: "prompt_answered", blockId: "pick", saveTo: "answer", value: "Ні", defaulted: true });
    expect(c.state?.ended).toBe(true);
  });

  it("a wait_for_response records its default text when no answer fits", () => {
    const s = loadTestScenario(`
id: t
start: why
blocks:
  why:
    type: wait_for_response
    text: Why?
    save_to: quality_comment
    max_length: 5
    invalid: { max_attempts: 1, default: "(none)", next: bye }
  bye:
    type: end
`);
    const c = new TestConversation(s);
    c.start();
    c.text("far too long");
    const effects = c.text("still too long");
    expect(tracks(effects)[0]).toEqual({ type: "prompt_answered", blockId: "why", saveTo: "quality_comment", value: "(none)", defaulted: true });
    expect(ofType(effects, "close")).toEqual([{ type: "close", promptId: "p2", reason: "invalid" }]);
    expect(c.state?.ended).toBe(true);
  });
});

describe("invalid.default at load", () => {
  const keyboard = (invalid: string, buttons = '[{ label: "1", value: 1 }, { label: "2", value: 2 }]', saveTo = "quality_answer") =>
    `id: t\nstart: rate\nblocks:\n  rate:\n    type: message_with_keyboard\n    text: Rate\n    buttons: ${buttons}\n    save_to: ${saveTo}\n    invalid: ${invalid}\n`;

  it("refuses a default that is not one of the keyboard's values, at the default", () => {
    expect(problems(keyboard("{ max_attempts: 2, default: 7 }"))).toEqual([
      '9:42 error: block "rate" invalid.default: 7 is not one of the keyboard\'s values (1, 2); use one of them',
    ]);
  });

  it("names the value when the default is written as a label", () => {
    expect(problems(keyboard('{ default: "👍" }', '[{ label: "👍", value: 100 }, { label: "👎", value: 0 }]'))).toEqual([
      '9:25 error: block "rate" invalid.default: "👍" is not one of the keyboard\'s values (100, 0); the button labelled "👍" records 100: write default: 100',
    ]);
  });

  it("accepts a value written as text or as a number, and a label that is its own value", () => {
    expect(problems(keyboard('{ default: "2" }'))).toEqual([]);
    expect(problems(keyboard("{ default: Yes }", "[{ label: Yes }, { label: No }]", "answer"))).toEqual([]);
  });

  it("refuses text as the default of a wait_for_response that saves quality_answer", () => {
    const yaml = `id: t\nstart: why\nblocks:\n  why:\n    type: wait_for_response\n    text: Rate 1-5\n    save_to: quality_answer\n    invalid: { default: three }\n`;
    expect(problems(yaml)).toEqual([
      '8:25 error: block "why" invalid.default: "three" is recorded into quality_answer, which feeds statistics and must be a number; write a number',
    ]);
  });

  it("warns when the question saves nowhere", () => {
    const yaml = `id: t\nstart: rate\nblocks:\n  rate:\n    type: message_with_keyboard\n    text: Rate\n    buttons: [{ label: "1", value: 1 }]\n    invalid: { default: 1 }\n`;
    expect(problems(yaml)).toEqual([
      '8:25 warning: block "rate" invalid.default: the block has no save_to, so the default is recorded nowhere; add save_to or remove default',
    ]);
  });

  it("is not allowed in defaults.invalid: a default belongs to one question's buttons", () => {
    const yaml = `id: t\nstart: rate\ndefaults:\n  invalid: { default: 1 }\nblocks:\n  rate:\n    type: message_with_keyboard\n    text: Rate\n    buttons: [{ label: "1", value: 1 }]\n    save_to: quality_answer\n`;
    expect(problems(yaml)).toEqual(['4:14 error: defaults.invalid: unknown key "default"; allowed keys: text, max_attempts, next']);
  });
});
