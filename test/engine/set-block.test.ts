/**
 * The `set` block: its assignments evaluated alone (engine/set-block.ts), through the pure
 * interpreter (literals, templates, add, concat, now, next rules reading what it set, the
 * warning when add meets something that is not a number), and the loader's errors with their
 * exact line:col (unknown operation, bad names, operands, loops of set blocks).
 */
import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../engine/loader.ts";
import { evaluateSet, MAX_SET_TEXT } from "../../engine/set-block.ts";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { ofType, T0, TestConversation, texts } from "../helpers/conversation.ts";
import { loadTestScenario, testActions } from "../helpers/scenario.ts";

const actions = testActions().specs();
const show = (p: ScenarioProblem): string => `${p.line}:${p.col} ${p.severity}: ${p.message}`;
const problems = (yaml: string): string[] => loadScenarioText(yaml, "set.yaml", { actions }).problems.map(show);

describe("evaluateSet", () => {
  it("assigns in the order written, each value seeing the ones before it", () => {
    const out = evaluateSet({ a: 1, b: { add: ["{{a}}", 1] }, c: "{{a}}+{{b}}" }, {}, T0);
    expect(out).toEqual({ vars: { a: 1, b: 2, c: "1+2" }, touched: ["a", "b", "c"], warnings: [] });
  });

  it("leaves the input untouched and keeps the other variables", () => {
    const vars = Object.freeze({ keep: "x", n: 1 });
    const out = evaluateSet({ n: { add: ["{{n}}", 2] } }, vars, T0);
    expect(out.vars).toEqual({ keep: "x", n: 3 });
    expect(vars).toEqual({ keep: "x", n: 1 });
  });

  it("copies one {{variable}} alone as it is (a number stays a number), an unset one as empty text", () => {
    expect(evaluateSet({ copy: "{{ score }}", missing: "{{nobody}}", text: "[{{nobody}}]" }, { score: 4 }, T0).vars).toEqual({ score: 4, copy: 4, missing: "", text: "[]" });
  });

  it("adds numbers written as text, decimals and negatives; concat joins numbers and text", () => {
    const out = evaluateSet({ sum: { add: ["{{a}}", " 2.5 ", -1, "1e2"] }, label: { concat: ["#", 7, "-", "{{a}}"] } }, { a: "10" }, T0);
    expect(out.vars).toEqual({ a: "10", sum: 111.5, label: "#7-10" });
  });

  it("add of text that is not a number, or of an unset variable, leaves the variable unset with a warning that shows no value", () => {
    const out = evaluateSet({ n: { add: ["{{n}}", "{{comment}}"] }, m: { add: ["{{missing}}", 1] }, hex: { add: ["0x10"] } }, { n: 5, comment: "secret words" }, T0);
    expect(out.vars).toEqual({ comment: "secret words" });
    expect(out.touched).toEqual(["n", "m", "hex"]);
    expect(out.warnings).toEqual([
      { variable: "n", message: 'add: item 2 ("{{comment}}") is not a number' },
      { variable: "m", message: 'add: item 1 ("{{missing}}") is not a number' },
      { variable: "hex", message: 'add: item 1 ("0x10") is not a number' },
    ]);
  });

  it("a sum too large to be a number, or text past MAX_SET_TEXT, is refused the same way", () => {
    const long = "x".repeat(MAX_SET_TEXT);
    const out = evaluateSet({ big: { add: [1e308, 1e308] }, long: { concat: ["{{t}}", "!"] }, fits: "{{t}}" }, { t: long }, T0);
    expect(out.vars).toEqual({ t: long, fits: long });
    expect(out.warnings.map((w) => w.variable)).toEqual(["big", "long"]);
  });

  it("now is the step's time: epoch ms for true and ms, ISO 8601 UTC for iso", () => {
    expect(evaluateSet({ a: { now: true }, b: { now: "ms" }, c: { now: "iso" } }, {}, T0).vars).toEqual({ a: T0, b: T0, c: "2026-01-01T12:00:00.000Z" });
  });

  it("assigns __proto__ as an own variable, never the prototype", () => {
    const out = evaluateSet(JSON.parse('{"__proto__": "x"}') as Record<string, string>, {}, T0);
    expect(Object.hasOwn(out.vars, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(out.vars)).toBe(Object.prototype);
  });
});

const COUNTER = loadTestScenario(`
id: counter
start: init
blocks:
  init:
    type: set
    set:
      tries: 0
      greeting: "Hello {{first}} {{last}}"
      started: { now: true }
      started_iso: { now: iso }
    next: ask
  ask:
    type: message_with_keyboard
    text: "{{greeting}}, try {{tries}}: rate us"
    buttons: [{ label: "1", value: 1 }, { label: "5", value: 5 }]
    save_to: quality_answer
    next: count
  count:
    type: set
    set:
      tries: { add: ["{{tries}}", 1] }
      summary: { concat: ["rated ", "{{quality_answer}}", " after ", "{{tries}}", " tries"] }
    next:
      - { var: tries, gte: 2, goto: done }
      - { default: ask }
  done:
    type: end
    text: "{{summary}} (since {{started_iso}})"
`);

describe("set block in the interpreter", () => {
  it("assigns literals, templates and now, then goes on without waiting", () => {
    const c = new TestConversation(COUNTER);
    const effects = c.start({ variables: { first: "Ann", last: "Lee" } });
    expect(texts(effects)).toEqual(["Hello Ann Lee, try 0: rate us"]);
    expect(c.state?.vars).toMatchObject({ tries: 0, greeting: "Hello Ann Lee", started: T0 + 1000, started_iso: new Date(T0 + 1000).toISOString() });
    expect(ofType(effects, "warning")).toEqual([]);
  });

  it("next rules read the values the block just set (add, concat)", () => {
    const c = new TestConversation(COUNTER);
    c.start({ variables: { first: "Ann", last: "Lee" } });
    expect(texts(c.tap(0))).toEqual(["Hello Ann Lee, try 1: rate us"]); // tries = 1: the default rule
    expect(c.state?.vars.tries).toBe(1);
    expect(texts(c.tap(1))).toEqual(["rated 5 after 2 tries (since 2026-01-01T12:00:01.000Z)"]); // tries = 2: gte 2
    expect(c.state?.ended).toBe(true);
  });

  it("an unset variable in a template reads as empty", () => {
    const c = new TestConversation(COUNTER);
    expect(texts(c.start())).toEqual(["Hello  , try 0: rate us"]);
  });

  it("assigns quality_answer and quality_comment like any variable, for statistic__set to queue", () => {
    const s = loadTestScenario(`
id: preset
start: preset
blocks:
  preset:
    type: set
    set: { quality_answer: 4, quality_comment: "via {{source}}" }
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
`);
    const c = new TestConversation(s);
    const effects = c.start({ variables: { source: "phone" } });
    expect(c.state?.vars).toEqual({ source: "phone", quality_answer: 4, quality_comment: "via phone" });
    expect(effects.at(-1)).toEqual({ type: "runAction", blockId: "save", name: "statistic__set", config: { type: "quality" } });
  });

  it("add of a value that is not a number: the variable is unset, a warning effect says so, and next rules fall through", () => {
    const s = loadTestScenario(`
id: bad_add
start: ask
blocks:
  ask:
    type: wait_for_response
    text: How many?
    save_to: count
    next: calc
  calc:
    type: set
    set: { total: { add: ["{{count}}", 1] } }
    next:
      - { var: total, gte: 1, goto: ok }
      - { default: fallback }
  ok:
    type: end
    text: "Total {{total}}"
  fallback:
    type: end
    text: "No total"
`);
    const good = new TestConversation(s);
    good.start();
    expect(texts(good.text("41"))).toEqual(["Total 42"]);

    const c = new TestConversation(s);
    c.start();
    const effects = c.text("lots of them");
    expect(ofType(effects, "warning")).toEqual([
      { type: "warning", blockId: "calc", message: 'block "calc": set total: add: item 1 ("{{count}}") is not a number; total is left unset' },
    ]);
    expect(JSON.stringify(ofType(effects, "warning"))).not.toContain("lots of them");
    expect(texts(effects)).toEqual(["No total"]);
    expect(Object.hasOwn(c.state?.vars ?? {}, "total")).toBe(false);
  });

  it("a variable the set block replaces is no longer marked as cleaned text", () => {
    const s = loadTestScenario(`
id: cleaned
start: why
blocks:
  why:
    type: wait_for_response
    text: Why?
    save_to: quality_comment
    next: redact
  redact:
    type: set
    set: { quality_comment: "(removed)" }
    next: bye
  bye:
    type: message_with_keyboard
    text: Bye
    buttons: [{ label: OK }]
`);
    const c = new TestConversation(s);
    c.start();
    c.text("bad\uFFFD", { cleaned: true });
    expect(c.state?.vars.quality_comment).toBe("(removed)");
    expect(c.state?.cleanedVars).toEqual([]);
  });
});

describe("set block at load", () => {
  const head = "id: t\nstart: calc\nblocks:\n  calc:\n    type: set\n    set:\n";
  const tail = "    next: bye\n  bye:\n    type: end\n";

  it("refuses an unknown operation at its key, suggesting the one meant", () => {
    expect(problems(`${head}      total: { ad: [1, 2] }\n${tail}`)).toEqual([
      '7:16 error: block "calc" set.total: unknown key "ad" (did you mean "add"?); allowed keys: add, concat, now',
    ]);
  });

  it("refuses a name that is no variable name, at the name", () => {
    expect(problems(`${head}      first-name: Ann\n${tail}`)).toEqual([
      `7:7 error: block "calc" set: key "first-name" is not valid: a variable name has letters, digits and '_', and starts with a letter or '_'`,
    ]);
  });

  it("refuses a list as a value and a now that is not true, ms or iso", () => {
    expect(problems(`${head}      a: [1]\n      b: { now: yes }\n${tail}`)).toEqual([
      '7:10 error: block "calc" set.a: must be a string, a number or a mapping, not a list',
      '8:17 error: block "calc" set.b.now: must be true, "ms" or "iso", not a string ("yes")',
    ]);
  });

  it("refuses no operation, two operations, and add of literal text; warns of unknown variables", () => {
    expect(problems(`${head}      none: {}\n      both: { add: [1], concat: [a] }\n      n: { add: ["abc", "{{nope}}"] }\n${tail}`)).toEqual([
      '7:13 error: block "calc" set.none: an operation needs one of add, concat, now, e.g. { add: ["{{none}}", 1] }, { concat: ["{{first}}", " ", "{{last}}"] } or { now: true }',
      '8:25 error: block "calc" set.both: one operation per variable, found add and concat; assign them to separate variables',
      '9:18 error: block "calc" set.n.add[0]: "abc" is not a number; write a number, or a {{variable}} that holds one (use concat to join text)',
      '9:25 warning: block "calc" set.n: {{nope}} names no saved variable (did you mean "none"?) and will read as empty; use a save_to or set variable',
    ]);
  });

  it("refuses text assigned to quality_answer, which feeds statistics", () => {
    expect(problems(`${head}      quality_answer: great\n      ok: { concat: ["{{quality_answer}}"] }\n${tail}`)).toEqual([
      '7:23 error: block "calc" set.quality_answer: assigns text to quality_answer, which feeds statistics and must be a number; write a number, or { add: [...] }',
    ]);
  });

  it("counts set variables as saved: rules and texts on them raise no warning", () => {
    expect(problems(`${head}      n: 1\n    next:\n      - { var: n, equals: 1, goto: bye }\n      - { default: bye }\n  bye:\n    type: end\n    text: "n is {{n}}"\n`)).toEqual([]);
  });

  it("refuses a loop of set blocks that never waits, at the edge that closes it", () => {
    const yaml = `id: t\nstart: a\nblocks:\n  a:\n    type: set\n    set: { n: { add: ["{{n}}", 1] } }\n    next:\n      - { var: n, gte: 3, goto: bye }\n      - { default: b }\n  b:\n    type: set\n    set: { m: 1 }\n    next: a\n  bye:\n    type: end\n`;
    expect(problems(yaml)).toEqual([
      '13:11 error: blocks "a" → "b" → "a" loop without waiting for the user and would repeat forever; send the loop through a message_with_keyboard or wait_for_response block, or end it',
    ]);
    const self = `id: t\nstart: a\nblocks:\n  a:\n    type: set\n    set: { n: 1 }\n    next: a\n`;
    expect(problems(self)).toEqual([
      '7:11 error: blocks "a" → "a" loop without waiting for the user and would repeat forever; send the loop through a message_with_keyboard or wait_for_response block, or end it',
    ]);
  });

  it("accepts a set block in a loop that waits for the user", () => {
    expect(problems(`id: t\nstart: ask\nblocks:\n  ask:\n    type: wait_for_response\n    text: Again?\n    save_to: x\n    next: count\n  count:\n    type: set\n    set: { n: { add: ["{{n}}", 1] } }\n    next: ask\n`)).toEqual([]);
  });
});
