import { describe, expect, it } from "vitest";
import { MAX_BLOCKS_PER_STEP, resolveNext, step } from "../../engine/interpreter.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import type { ConversationState, Effect } from "../../engine/types.ts";
import { ofType, sends, T0, TestConversation, texts, tracks } from "../helpers/conversation.ts";
import { deepFreeze, loadTestScenario } from "../helpers/scenario.ts";

const SURVEY = loadTestScenario(`
id: survey
locale: en
start: hello
blocks:
  hello:
    type: message
    text: { en: "Hello!", uk: "Привіт!", de: "Hallo!" }
    next: intro
  intro:
    type: message
    text: Two questions.
    next: rate
  rate:
    type: message_with_keyboard
    text: { en: Rate us, uk: Оцініть нас }
    buttons:
      - { label: "1", value: 1 }
      - { label: "2", value: 2 }
      - { label: "3", value: 3 }
      - { label: "4", value: 4 }
      - { label: "5", value: 5 }
    columns: 2
    save_to: quality_answer
    skip: { label: { en: Skip, uk: Пропустити }, next: thanks }
    invalid: { text: { en: "Tap 1 to 5", uk: "Натисніть 1–5" }, max_attempts: 2, next: save }
    timeout: { after: 1h, next: save }
    next:
      - { var: quality_answer, lte: 2, goto: why }
      - { var: quality_answer, equals: 3, goto: thanks }
      - { var: quality_answer, in: [4, 5], goto: save }
      - { default: thanks }
  why:
    type: wait_for_response
    text: "You gave {{quality_answer}}. Why?"
    save_to: quality_comment
    min_length: 3
    max_length: 10
    skip: { label: No comment, next: save }
    invalid: { text: "3 to 10 characters, please", max_attempts: 1, next: save }
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    on_error: sorry
    next: thanks
  sorry:
    type: message
    text: Sorry, we could not save that.
    next: thanks
  thanks:
    type: end
    text: "Thanks! ({{quality_answer}})"
`);

const EMOJI = loadTestScenario(`
id: emoji
start: rate
defaults:
  invalid: { text: "Use the buttons", max_attempts: 1, next: bye }
  timeout: { after: 10m, next: bye }
blocks:
  rate:
    type: message_with_keyboard
    text: Happy?
    buttons:
      - { label: "👍", value: 100 }
      - { label: "👎", value: 0 }
    save_to: quality_answer
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: bye
  bye:
    type: end
    text: Bye
`);

const REVERSED = loadTestScenario(`
id: reversed
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate
    buttons:
      - { label: "5", value: 5 }
      - { label: "4", value: 4 }
      - { label: "3", value: 3 }
      - { label: "2", value: 2 }
      - { label: "1", value: 1 }
    save_to: quality_answer
    next: done
  done:
    type: end
`);

const WORDS = loadTestScenario(`
id: words
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Continue?
    buttons: [{ label: "Yes ✔️" }, { label: "No" }]
    save_to: go
    next: done
  done:
    type: end
    text: "go={{go}}"
`);

function keyboard(effects: readonly Effect[]) {
  const kb = sends(effects).find((m) => m.buttons !== undefined);
  if (!kb) throw new Error(`no keyboard in ${JSON.stringify(effects)}`);
  return kb;
}

describe("start", () => {
  it("runs message blocks up to the first waiting block and sends its keyboard", () => {
    const c = new TestConversation(SURVEY);
    const effects = c.start();
    expect(effects.map((e) => e.type)).toEqual(["track", "send", "send", "send", "track"]);
    expect(texts(effects)).toEqual(["Hello!", "Two questions.", "Rate us"]);
    const kb = keyboard(effects);
    expect(kb.promptId).toBe("p1");
    expect(kb.buttons).toEqual([
      { label: "1", value: 1, index: 0 },
      { label: "2", value: 2, index: 1 },
      { label: "3", value: 3, index: 2 },
      { label: "4", value: 4, index: 3 },
      { label: "5", value: 5, index: 4 },
      { label: "Skip", value: "", index: 5, skip: true },
    ]);
    // columns: 2 → rows of two, the skip button last on a row of its own.
    expect(kb.rows?.map((r) => r.map((b) => b.label))).toEqual([["1", "2"], ["3", "4"], ["5"], ["Skip"]]);
    expect(kb.expectsText).toBeUndefined();
    expect(tracks(effects)).toEqual([
      { type: "dialogue_started" },
      { type: "prompt_offered", blockId: "rate", saveTo: "quality_answer", scale: { min: 1, max: 5 } },
    ]);
    expect(c.state).toMatchObject({
      scenarioId: "survey",
      scenarioVersion: SURVEY.version,
      dialogue: 1,
      seq: 1,
      prompt: { id: "p1", blockId: "rate", attempts: 0, deadline: T0 + 1000 + 3_600_000 },
      pendingAction: null,
      vars: {},
      locale: "en",
      ended: false,
      startedAt: T0 + 1000,
    });
  });

  it("puts all buttons in one row up to five by default", () => {
    const c = new TestConversation(EMOJI);
    const kb = keyboard(c.start());
    expect(kb.rows?.map((r) => r.map((b) => b.label))).toEqual([["👍", "👎"]]);
    expect(tracks(c.start())).toContainEqual({ type: "prompt_offered", blockId: "rate", saveTo: "quality_answer", scale: { min: 0, max: 100 } });
  });

  it("a wait_for_response prompt expects text and offers its skip button", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.tap(0);
    const ask = sends(effects).at(-1);
    expect(ask).toEqual({
      text: "You gave 1. Why?",
      promptId: "p2",
      expectsText: true,
      buttons: [{ label: "No comment", value: "", index: 0, skip: true }],
      rows: [[{ label: "No comment", value: "", index: 0, skip: true }]],
    });
    expect(tracks(effects).at(-1)).toEqual({ type: "prompt_offered", blockId: "why", saveTo: "quality_comment", scale: undefined });
  });
});

describe("choices", () => {
  it("a tap records the button's value and follows next", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.tap(4);
    expect(effects[0]).toEqual({ type: "close", promptId: "p1", reason: "answered", answer: { label: "5", value: 5 } });
    expect(tracks(effects)).toEqual([{ type: "prompt_answered", blockId: "rate", saveTo: "quality_answer", value: 5 }]);
    expect(ofType(effects, "runAction")).toEqual([{ type: "runAction", blockId: "save", name: "statistic__set", config: { type: "quality" } }]);
    expect(c.state).toMatchObject({ vars: { quality_answer: 5 }, prompt: null, pendingAction: "save", ended: false });
  });

  it("a stale prompt id (double tap) is ignored and the state is unchanged", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(0); // → why (p2)
    const before = c.state;
    const effects = c.tap(1, "p1");
    expect(effects).toEqual([{ type: "ignored", reason: "stale_prompt", promptId: "p1" }]);
    expect(c.state).toBe(before);
    expect(c.state?.vars).toEqual({ quality_answer: 1 });
  });

  it("a choice without a prompt id is stale too", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const before = c.state;
    expect(c.feed({ kind: "choice", buttonIndex: 0 })).toEqual([{ type: "ignored", reason: "stale_prompt", promptId: undefined }]);
    expect(c.state).toBe(before);
  });

  it.each([6, 99, -1, 1.5, undefined])("an unknown button index (%s) is ignored", (index) => {
    const c = new TestConversation(SURVEY);
    c.start();
    const before = c.state;
    const effects = c.feed({ kind: "choice", promptId: "p1", buttonIndex: index });
    expect(effects).toEqual([{ type: "ignored", reason: "unknown_button", promptId: "p1" }]);
    expect(c.state).toBe(before);
  });

  it("a choice on an ended dialogue is ignored", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(2); // 3 → thanks (end)
    expect(c.state?.ended).toBe(true);
    const before = c.state;
    expect(c.tap(2, "p1")).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: "p1" }]);
    expect(c.state).toBe(before);
  });
});

describe("typed answers on a keyboard", () => {
  it("the exact label counts as a tap", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.text(" 4 ");
    expect(effects[0]).toEqual({ type: "close", promptId: "p1", reason: "answered", answer: { label: "4", value: 4 } });
    expect(c.state?.vars).toEqual({ quality_answer: 4 });
  });

  it("labels match case-insensitively and ignore emoji variation selectors", () => {
    const c = new TestConversation(WORDS);
    c.start();
    expect(texts(c.text("yes ✔"))).toEqual(["go=Yes ✔️"]);
    const d = new TestConversation(EMOJI);
    d.start();
    d.text("👎\uFE0F");
    expect(d.state?.vars).toEqual({ quality_answer: 0 });
  });

  it("a typed digit picks by label first", () => {
    const c = new TestConversation(REVERSED);
    c.start();
    c.text("1");
    expect(c.state?.vars).toEqual({ quality_answer: 1 });
  });

  it("a typed digit picks by position when no label matches (👍/👎: 1 is 👍)", () => {
    const c = new TestConversation(EMOJI);
    c.start();
    const effects = c.text("1");
    expect(effects[0]).toEqual({ type: "close", promptId: "p1", reason: "answered", answer: { label: "👍", value: 100 } });
    const d = new TestConversation(EMOJI);
    d.start();
    d.text("2");
    expect(d.state?.vars).toEqual({ quality_answer: 0 });
  });

  it("a keyboard with number labels is never matched by position: on 0–10, 11 is invalid", () => {
    const nps = loadTestScenario(`
id: nps
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: How likely are you to recommend us?
    buttons: [${Array.from({ length: 11 }, (_, i) => `{ label: "${i}", value: ${i} }`).join(", ")}]
    save_to: quality_answer
    next: done
  done:
    type: end
`);
    const c = new TestConversation(nps);
    c.start();
    expect(ofType(c.text("11"), "close")[0]?.reason).toBe("reprompt");
    c.text("0");
    expect(c.state?.vars).toEqual({ quality_answer: 0 });
  });

  it("word labels are matched by position", () => {
    const stars = loadTestScenario(`
id: stars
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Stars?
    buttons: [{ label: "1 star", value: 1 }, { label: "2 stars", value: 2 }, { label: "3 stars", value: 3 }]
    save_to: quality_answer
    next: done
  done:
    type: end
`);
    const c = new TestConversation(stars);
    c.start();
    c.text("2");
    expect(c.state?.vars).toEqual({ quality_answer: 2 });
  });

  it("the skip label typed declines like the skip button", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.text("skip");
    expect(effects[0]).toMatchObject({ type: "close", promptId: "p1", reason: "skipped" });
    expect(c.state?.ended).toBe(true);
  });

  it("text that matches nothing re-prompts with the configured text, then follows invalid.next", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    let effects = c.text("great service");
    expect(effects[0]).toEqual({ type: "close", promptId: "p1", reason: "reprompt" });
    const again = keyboard(effects);
    expect(again.text).toBe("Tap 1 to 5");
    expect(again.promptId).toBe("p2");
    expect(again.buttons?.map((b) => b.value)).toEqual([1, 2, 3, 4, 5, ""]);
    expect(tracks(effects)).toEqual([]); // a re-prompt is the same question, not a new offer
    expect(c.state?.prompt).toMatchObject({ id: "p2", blockId: "rate", attempts: 1 });

    effects = c.text("6"); // a digit past the last button is invalid too
    expect(c.state?.prompt).toMatchObject({ id: "p3", attempts: 2 });
    expect(texts(effects)).toEqual(["Tap 1 to 5"]);

    effects = c.text("no idea");
    expect(effects.slice(0, 2)).toEqual([
      { type: "close", promptId: "p3", reason: "invalid" },
      { type: "track", event: { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "invalid" } },
    ]);
    expect(ofType(effects, "runAction").map((e) => e.blockId)).toEqual(["save"]);
    expect(c.state).toMatchObject({ prompt: null, pendingAction: "save", vars: {} });
  });

  it("the re-prompt text follows the conversation's locale", () => {
    const c = new TestConversation(SURVEY);
    c.start({ locale: "uk" });
    expect(texts(c.text("???"))).toEqual(["Натисніть 1–5"]);
  });

  it("a valid answer after a re-prompt is accepted", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.text("hmm");
    c.tap(1);
    expect(c.state?.vars).toEqual({ quality_answer: 2 });
    expect(c.state?.prompt?.blockId).toBe("why");
  });

  it("defaults.invalid applies to a block without its own invalid", () => {
    const c = new TestConversation(EMOJI);
    c.start();
    expect(texts(c.text("meh"))).toEqual(["Use the buttons"]);
    const effects = c.text("meh");
    expect(tracks(effects)[0]).toEqual({ type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "invalid" });
    expect(texts(effects)).toEqual(["Bye"]);
    expect(c.state?.ended).toBe(true);
  });

  it("without any invalid config, the built-in text and attempts apply and the dialogue ends", () => {
    const c = new TestConversation(WORDS);
    c.start();
    for (let i = 1; i <= 3; i++) {
      expect(texts(c.text("maybe"))).toEqual(["Please choose one of the options below."]);
      expect(c.state?.prompt?.attempts).toBe(i);
    }
    const effects = c.text("maybe");
    expect(tracks(effects).map((t) => t.type)).toEqual(["prompt_declined", "dialogue_ended"]);
    expect(c.state).toMatchObject({ ended: true, prompt: null });
  });
});

describe("wait_for_response", () => {
  function atWhy(): TestConversation {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(0);
    return c;
  }

  it("saves free text within the length limits (counted in characters, trimmed)", () => {
    const c = atWhy();
    const effects = c.text("  👍👍👍  ");
    expect(effects[0]).toEqual({ type: "close", promptId: "p2", reason: "answered", answer: { label: "  👍👍👍  ", value: "👍👍👍" } });
    expect(tracks(effects)[0]).toEqual({ type: "prompt_answered", blockId: "why", saveTo: "quality_comment", value: "👍👍👍" });
    expect(c.state?.vars).toEqual({ quality_answer: 1, quality_comment: "👍👍👍" });
    expect(c.state?.pendingAction).toBe("save");
  });

  it.each(["ab", "12345678901"])("re-prompts on %s (too short / too long), then declines", (bad) => {
    const c = atWhy();
    expect(texts(c.text(bad))).toEqual(["3 to 10 characters, please"]);
    expect(c.state?.prompt).toMatchObject({ blockId: "why", attempts: 1 });
    const effects = c.text(bad);
    expect(tracks(effects)[0]).toEqual({ type: "prompt_declined", blockId: "why", saveTo: "quality_comment", reason: "invalid" });
    expect(c.state?.vars).toEqual({ quality_answer: 1 });
    expect(c.state?.pendingAction).toBe("save");
  });

  it("accepts exactly min and max length", () => {
    for (const ok of ["abc", "1234567890"]) {
      const c = atWhy();
      c.text(ok);
      expect(c.state?.vars.quality_comment).toBe(ok);
    }
  });

  it("the skip button closes with reason skipped and follows skip.next", () => {
    const c = atWhy();
    const effects = c.tap(0);
    expect(effects.slice(0, 2)).toEqual([
      { type: "close", promptId: "p2", reason: "skipped", answer: { label: "No comment", value: "" } },
      { type: "track", event: { type: "prompt_declined", blockId: "why", saveTo: "quality_comment", reason: "skipped" } },
    ]);
    expect(c.state?.vars).toEqual({ quality_answer: 1 });
    expect(c.state?.pendingAction).toBe("save");
  });
});

describe("skip on a keyboard", () => {
  it("closes with reason skipped, tracks a decline and follows skip.next", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.tap(5);
    expect(effects[0]).toEqual({ type: "close", promptId: "p1", reason: "skipped", answer: { label: "Skip", value: "" } });
    expect(tracks(effects)).toEqual([
      { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "skipped" },
      { type: "dialogue_ended" },
    ]);
    expect(texts(effects)).toEqual(["Thanks! ()"]);
    expect(c.state).toMatchObject({ ended: true, vars: {} });
  });
});

describe("timeouts", () => {
  it("an event at the deadline fires the timeout first: decline, then timeout.next", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const deadline = c.state?.prompt?.deadline as number;
    const effects = c.text("5", { at: deadline });
    expect(effects.slice(0, 3)).toEqual([
      { type: "ignored", reason: "stale_prompt", promptId: "p1" },
      { type: "close", promptId: "p1", reason: "timeout" },
      { type: "track", event: { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "timeout" } },
    ]);
    expect(effects.at(-1)).toEqual({ type: "runAction", blockId: "save", name: "statistic__set", config: { type: "quality" } });
    // The late "5" answered the question that timed out: it is not recorded.
    expect(c.state?.vars).toEqual({});
  });

  it("a late answer is not applied to the question that timeout.next asks next", () => {
    const s = loadTestScenario(`
id: late
start: q1
blocks:
  q1:
    type: wait_for_response
    text: First?
    save_to: a
    timeout: { after: 60, next: q2 }
    next: q2
  q2:
    type: wait_for_response
    text: Second?
    save_to: b
    next: done
  done:
    type: end
`);
    const c = new TestConversation(s);
    c.start();
    const effects = c.text("answer to the first", { at: (c.state?.prompt?.deadline as number) + 5 });
    expect(ofType(effects, "close")).toEqual([{ type: "close", promptId: "p1", reason: "timeout" }]);
    expect(texts(effects)).toEqual(["Second?"]);
    expect(effects[0]).toEqual({ type: "ignored", reason: "stale_prompt", promptId: "p1" });
    expect(c.state?.vars).toEqual({});
    expect(c.state?.prompt).toMatchObject({ id: "p2", blockId: "q2" });
  });

  it("a timeout event before the deadline does nothing", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const before = c.state;
    expect(c.feed({ kind: "timeout" }, 3_599_000 - 1)).toEqual([]);
    expect(c.state).toBe(before);
  });

  it("a timeout event at the deadline fires once", () => {
    const c = new TestConversation(EMOJI);
    c.start();
    const deadline = c.state?.prompt?.deadline as number;
    expect(deadline).toBe(T0 + 1000 + 600_000); // defaults.timeout: 10m
    const effects = c.feed({ kind: "timeout", at: deadline });
    expect(tracks(effects)).toEqual([
      { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "timeout" },
      { type: "dialogue_ended" },
    ]);
    expect(texts(effects)).toEqual(["Bye"]);
    const after = c.state;
    expect(c.feed({ kind: "timeout", at: deadline + 1 })).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: undefined }]);
    expect(c.state).toBe(after);
  });

  it("an expiry declines the waiting question as a timeout and ends the dialogue, whatever the deadline", () => {
    const c = new TestConversation(EMOJI);
    c.start({ proactive: { triggerId: "t-1" } });
    const deadline = c.state?.prompt?.deadline as number;
    const effects = c.feed({ kind: "timeout", expire: { triggerId: "t-1" }, at: deadline - 300_000 });
    expect(ofType(effects, "close")).toEqual([{ type: "close", promptId: "p1", reason: "timeout" }]);
    expect(tracks(effects)).toEqual([
      { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "timeout" },
      { type: "dialogue_ended" },
    ]);
    // No goodbye a day later: the timeout's own next is not followed.
    expect(texts(effects)).toEqual([]);
    expect(c.state).toMatchObject({ ended: true, prompt: null });
    // A second expiry (a redelivered sweep) changes nothing.
    const after = c.state;
    expect(tracks(c.feed({ kind: "timeout", expire: { triggerId: "t-1" } }))).toEqual([]);
    expect(c.state).toBe(after);
  });

  it("an expiry leaves alone a dialogue its trigger did not start (a newer survey, or one the user began)", () => {
    for (const start of [{ proactive: { triggerId: "t-2" } }, {}]) {
      const c = new TestConversation(EMOJI);
      c.start(start);
      const before = c.state;
      expect(c.feed({ kind: "timeout", expire: { triggerId: "t-1" } })).toEqual([{ type: "ignored", reason: "no_dialogue" }]);
      expect(c.state).toBe(before);
      expect(c.tap(0).some((e) => e.type === "track" && e.event.type === "prompt_answered")).toBe(true);
    }
  });

  it("a timeout for a prompt already answered does nothing", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(0); // why: no timeout of its own, no default
    const before = c.state;
    expect(c.feed({ kind: "timeout", promptId: "p1" }, 7_200_000)).toEqual([]);
    expect(c.feed({ kind: "timeout" }, 7_200_000)).toEqual([]);
    expect(c.state).toBe(before);
  });

  it("a timeout for a stale prompt id does nothing even when the current one is due", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.text("x"); // re-prompt p2, deadline reset
    const before = c.state;
    expect(c.feed({ kind: "timeout", promptId: "p1" }, 3_600_000)).toEqual([]);
    expect(c.state).toBe(before);
  });

  it("a re-prompt restarts the deadline", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.text("x", { at: T0 + 1_800_000 });
    expect(c.state?.prompt?.deadline).toBe(T0 + 1_800_000 + 3_600_000);
  });
});

describe("branching", () => {
  it.each([
    [0, "why"],
    [1, "why"],
    [2, "thanks"],
    [3, "save"],
    [4, "save"],
  ])("button %i goes to %s", (index, target) => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.tap(index);
    const where = c.state?.prompt?.blockId ?? c.state?.pendingAction ?? (c.state?.ended ? "thanks" : "?");
    expect(where).toBe(target);
    if (target === "thanks") expect(texts(effects)).toEqual(["Thanks! (3)"]);
  });

  it("the first matching rule wins, in order", () => {
    const rules = [
      { var: "x", gte: 3, goto: "a" },
      { var: "x", equals: 4, goto: "b" },
      { default: "c" },
    ];
    expect(resolveNext(rules, { x: 4 })).toBe("a");
    expect(resolveNext(rules, { x: 2 })).toBe("c");
  });

  it("compares numbers and numeric strings alike", () => {
    expect(resolveNext([{ var: "x", equals: 4, goto: "a" }], { x: "4" })).toBe("a");
    expect(resolveNext([{ var: "x", equals: "4", goto: "a" }], { x: 4 })).toBe("a");
    expect(resolveNext([{ var: "x", lte: 2, goto: "a" }], { x: "2" })).toBe("a");
    expect(resolveNext([{ var: "x", gte: 2, goto: "a" }], { x: "10" })).toBe("a");
    expect(resolveNext([{ var: "x", in: [1, "5"], goto: "a" }], { x: 5 })).toBe("a");
    expect(resolveNext([{ var: "x", in: [1, "5"], goto: "a" }], { x: "1" })).toBe("a");
  });

  it("non-numeric text never passes lte/gte; missing variables match no rule", () => {
    expect(resolveNext([{ var: "x", lte: 2, goto: "a" }, { var: "x", gte: 2, goto: "b" }], { x: "abc" })).toBeUndefined();
    expect(resolveNext([{ var: "x", equals: "", goto: "a" }, { default: "d" }], {})).toBe("d");
    expect(resolveNext("plain", {})).toBe("plain");
    expect(resolveNext(undefined, {})).toBeUndefined();
  });

  it("a rule on an Object.prototype name sees no inherited value", () => {
    const vars = deepFreeze({});
    expect(resolveNext([{ var: "constructor", equals: String(Object), goto: "a" }, { default: "d" }], vars)).toBe("d");
    expect(resolveNext([{ var: "toString", in: [String(Object.prototype.toString)], goto: "a" }, { default: "d" }], vars)).toBe("d");
    expect(resolveNext([{ var: "__proto__", equals: "[object Object]", goto: "a" }, { default: "d" }], vars)).toBe("d");
  });

  it("no matching rule and no default ends the dialogue", () => {
    const s = loadTestScenario(`
id: nomatch
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Pick
    buttons: [{ label: A }, { label: B }]
    save_to: pick
    next:
      - { var: pick, equals: A, goto: a }
  a:
    type: end
    text: got A
`);
    const c = new TestConversation(s);
    c.start();
    const effects = c.tap(1);
    expect(texts(effects)).toEqual([]);
    expect(tracks(effects).at(-1)).toEqual({ type: "dialogue_ended" });
    expect(c.state).toMatchObject({ ended: true, vars: { pick: "B" } });
  });
});

describe("{{variable}} substitution", () => {
  const ECHO = loadTestScenario(`
id: echo
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Say something
    save_to: said
    next: show
  show:
    type: message
    text: "[{{said}}] [{{ said }}] [{{constructor}}] [{{__proto__}}] [{{toString}}] [{{a.b}}] [{{{said}}}] [{{missing}}] [{{ 1x }}]"
    next: done
  done:
    type: end
`);

  it("substitutes saved variables only, evaluating nothing", () => {
    const c = new TestConversation(ECHO);
    c.start();
    const effects = c.text("hi {{said}} ${1+1}");
    expect(texts(effects)).toEqual([
      "[hi {{said}} ${1+1}] [hi {{said}} ${1+1}] [] [] [] [{{a.b}}] [{hi {{said}} ${1+1}}] [] [{{ 1x }}]",
    ]);
  });

  it("a variable named like an Object.prototype member works as a variable", () => {
    const s = loadTestScenario(`
id: proto
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Name?
    save_to: constructor
    next: show
  show:
    type: end
    text: "hello {{constructor}}"
`);
    const c = new TestConversation(s);
    c.start();
    expect(texts(c.text("Ann"))).toEqual(["hello Ann"]);
    expect(Object.getPrototypeOf(c.state?.vars)).toBe(Object.prototype);
  });
});

describe("translations", () => {
  it.each([
    ["en", "Hello!"],
    ["uk", "Привіт!"],
    ["uk-UA", "Привіт!"],
    ["de-AT", "Hallo!"],
    ["fr", "Hello!"],
    ["constructor", "Hello!"],
    ["__proto__", "Hello!"],
  ])("locale %s → %s", (locale, hello) => {
    const c = new TestConversation(SURVEY);
    const effects = c.start({ locale });
    expect(texts(effects)[0]).toBe(hello);
    expect(c.state?.locale).toBe(locale);
  });

  it("labels are translated too, and the locale sticks to the conversation", () => {
    const c = new TestConversation(SURVEY);
    c.start({ locale: "uk-UA" });
    expect(keyboard(c.text("?")).buttons?.at(-1)?.label).toBe("Пропустити");
    // Typing the translated skip label declines.
    expect(c.text("пропустити")[0]).toMatchObject({ type: "close", reason: "skipped" });
  });

  it("a restart without a locale keeps the conversation's locale", () => {
    const c = new TestConversation(SURVEY);
    c.start({ locale: "uk" });
    expect(texts(c.start())[0]).toBe("Привіт!");
  });
});

describe("actions", () => {
  function atSave(): TestConversation {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(4);
    expect(c.state?.pendingAction).toBe("save");
    return c;
  }

  it("ok follows next", () => {
    const c = atSave();
    const effects = c.actionResult("save", true);
    expect(texts(effects)).toEqual(["Thanks! (5)"]);
    expect(tracks(effects)).toEqual([{ type: "dialogue_ended" }]);
    expect(c.state).toMatchObject({ ended: true, pendingAction: null, prompt: null });
  });

  it("failed follows on_error", () => {
    const c = atSave();
    expect(texts(c.actionResult("save", false))).toEqual(["Sorry, we could not save that.", "Thanks! (5)"]);
    expect(c.state?.ended).toBe(true);
  });

  it("failed without on_error follows next", () => {
    const c = new TestConversation(EMOJI);
    c.start();
    c.tap(0);
    expect(texts(c.actionResult("save", false))).toEqual(["Bye"]);
  });

  it("a result for an action that is not pending is ignored", () => {
    const c = atSave();
    const before = c.state;
    expect(c.actionResult("other", true)).toEqual([]);
    expect(c.state).toBe(before);
  });

  it("events other than start wait while an action is pending", () => {
    const c = atSave();
    const before = c.state;
    expect(c.text("hello")).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: undefined }]);
    expect(c.state).toBe(before);
  });
});

describe("end, restart and idle text", () => {
  it("an end block sends its text and ends the dialogue", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const effects = c.tap(2);
    expect(texts(effects)).toEqual(["Thanks! (3)"]);
    expect(tracks(effects).at(-1)).toEqual({ type: "dialogue_ended" });
    expect(c.state).toMatchObject({ ended: true, prompt: null, pendingAction: null });
  });

  it("an end block without text sends nothing", () => {
    const c = new TestConversation(REVERSED);
    c.start();
    const effects = c.tap(0);
    expect(texts(effects)).toEqual([]);
    expect(c.state?.ended).toBe(true);
  });

  it("start mid-dialogue closes the open prompt (restart) and starts the next dialogue", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(0);
    c.text("xy"); // a re-prompt: p3
    const effects = c.start();
    expect(effects[0]).toEqual({ type: "close", promptId: "p3", reason: "restart" });
    // The interrupted dialogue's end is tracked with its own identity and variables (statistics record its rating).
    expect(tracks(effects)[0]).toMatchObject({ type: "dialogue_ended", reason: "restart", interrupted: { dialogue: 1, scenarioId: c.state?.scenarioId } });
    expect(tracks(effects)[1]).toEqual({ type: "dialogue_started" });
    expect(keyboard(effects).promptId).toBe("p4"); // prompt ids never repeat within a conversation
    expect(c.state).toMatchObject({ dialogue: 2, vars: {}, prompt: { id: "p4", blockId: "rate", attempts: 0 }, startedAt: c.t });
  });

  it("start after an ended dialogue starts the next one with nothing to close", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.tap(2);
    const effects = c.start();
    expect(ofType(effects, "close")).toEqual([]);
    expect(c.state?.dialogue).toBe(2);
  });

  it("text with no dialogue is ignored", () => {
    const c = new TestConversation(SURVEY);
    expect(c.text("hi")).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: undefined }]);
    expect(c.state).toBeNull();
  });

  it("text with no dialogue starts one when startIfIdle is set; the text is not an answer", () => {
    const c = new TestConversation(SURVEY);
    const effects = c.text("5", { startIfIdle: true });
    expect(texts(effects)).toEqual(["Hello!", "Two questions.", "Rate us"]);
    expect(c.state).toMatchObject({ dialogue: 1, vars: {}, prompt: { id: "p1" } });
    c.tap(2);
    const next = c.text("hi again", { startIfIdle: true });
    expect(tracks(next)[0]).toEqual({ type: "dialogue_started" });
    expect(c.state?.dialogue).toBe(2);
  });

  it("startIfIdle does not restart a dialogue in progress", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    c.text("3", { startIfIdle: true });
    expect(c.state).toMatchObject({ dialogue: 1, vars: { quality_answer: 3 } });
  });
});

describe("purity", () => {
  it("never mutates the state or the scenario it is given", () => {
    const scenario = deepFreeze(
      loadTestScenario(`
id: frozen
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: "Rate {{x}}"
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    skip: { label: Skip }
    invalid: { max_attempts: 1 }
    timeout: { after: 60 }
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: done
  done:
    type: end
    text: done
`),
    );
    const c = new TestConversation(scenario);
    c.start();
    c.text("bad");
    c.tap(1);
    c.actionResult("save", true);
    c.start();
    c.feed({ kind: "timeout" }, 120_000);
    expect(c.state?.ended).toBe(true);
  });

  it("a loop with no waiting block (which the loader refuses) still stops: the dialogue ends", () => {
    const looping: LoadedScenario = {
      id: "loop",
      version: "1",
      locale: "en",
      source: "handmade",
      def: { id: "loop", start: "a", blocks: { a: { type: "message", text: "a", next: "b" }, b: { type: "message", text: "b", next: "a" } } },
    };
    const c = new TestConversation(looping);
    const effects = c.start();
    expect(texts(effects)).toHaveLength(MAX_BLOCKS_PER_STEP);
    expect(tracks(effects).at(-1)).toEqual({ type: "dialogue_ended" });
    expect(c.state?.ended).toBe(true);
  });

  it("a next that names no block (which the loader refuses) ends the dialogue", () => {
    const broken: LoadedScenario = {
      id: "broken",
      version: "1",
      locale: "en",
      source: "handmade",
      def: { id: "broken", start: "a", blocks: { a: { type: "message", text: "a", next: "nowhere" } } },
    };
    const c = new TestConversation(broken);
    expect(texts(c.start())).toEqual(["a"]);
    expect(c.state?.ended).toBe(true);
  });

  it("the same input gives the same output", () => {
    const c = new TestConversation(SURVEY);
    c.start();
    const frozen = c.state as ConversationState;
    const event = { channel: "t", conversationId: "c", userId: "u", dedupeKey: "k", kind: "text" as const, text: "9", at: T0 + 5000 };
    expect(step(SURVEY, frozen, event)).toEqual(step(SURVEY, frozen, event));
  });
});
