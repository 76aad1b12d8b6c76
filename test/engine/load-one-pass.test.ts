/**
 * One pass: once the YAML parses, schema problems and graph, action and channel problems come
 * together, each at its line:col, sorted, none twice; the graph checks skip only what a block
 * the schema refused leaves unknown.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import { testActions } from "../helpers/scenario.ts";

const actions = testActions().specs();
const show = (p: ScenarioProblem): string => `${p.line}:${p.col} ${p.severity}: ${p.message}`;
const load = (yaml: string) => loadScenarioText(yaml, "inline.yaml", { actions });

describe("loading reports every kind of problem in one pass", () => {
  it("gives a schema error, an unknown target, an unknown action and an unreachable block together, in file order", () => {
    const r = load(`id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    timeout: { after: soon }
    next: sav
  save:
    type: action
    action: statistic_set
    next: bye
  bye:
    type: end
  lost:
    type: end
`);
    expect(r.scenario).toBeUndefined();
    expect(r.problems.map(show)).toEqual([
      '9:23 error: block "ask" timeout.after: "soon" is not valid: write a number of seconds or a duration such as 90s, 10m, 24h',
      '10:11 error: block "ask" next: no block "sav" (did you mean "save"?)',
      '11:3 warning: block "save" is never reached from start "ask"; link it from another block\'s next, or remove it',
      '13:13 error: block "save": unknown action "statistic_set" (did you mean "statistic__set"?); known actions: statistic__set',
      '15:3 warning: block "bye" is never reached from start "ask"; link it from another block\'s next, or remove it',
      '17:3 warning: block "lost" is never reached from start "ask"; link it from another block\'s next, or remove it',
    ]);
  });

  it("counts a block the schema refused as a block: a next to it is no unknown target, and its readable next still reaches others", () => {
    const r = load(`id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons: "1, 2, 3"
    next: thanks
  thanks:
    type: mesage
    text: Thanks
    next: bye
  bye:
    type: end
  lost:
    type: end
`);
    expect(r.problems.map(show)).toEqual([
      '7:14 error: block "ask" buttons: must be a list, not a string ("1, 2, 3")',
      '10:11 error: block "thanks": unknown type "mesage" (did you mean "message"?); use one of message, message_with_keyboard, wait_for_response, action, set, end, goto_scenario',
      '15:3 warning: block "lost" is never reached from start "ask"; link it from another block\'s next, or remove it',
    ]);
  });

  it("checks the rest of a block whose optional key is wrong: its next targets and labels", () => {
    const r = loadScenarioText(
      `id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    columns: two
    buttons: [{ label: "A label far too long for a phone", value: 1 }]
    next: by
  bye:
    type: end
`,
      "inline.yaml",
      { actions, channels: [{ channel: "tiny", maxLabelLength: 10, maxButtons: 5, maxTextLength: 100 }] },
    );
    expect(r.problems.map(show)).toEqual([
      '7:14 error: block "ask" columns: must be a whole number, not a string ("two")',
      '8:24 error: block "ask": label "A label far too long for a phone" is 32 characters; tiny allows 10: shorten it',
      '9:11 error: block "ask" next: no block "by" (did you mean "bye"?)',
      '10:3 warning: block "bye" is never reached from start "ask"; link it from another block\'s next, or remove it',
    ]);
  });

  it("says nothing of reachability past a block whose way on could not be read, rather than something false", () => {
    const r = load(`id: t
start: ask
blocks:
  ask:
    type: message
    text: Hello
    next: { goto: bye }
  bye:
    type: end
`);
    expect(r.problems.map(show)).toEqual(['7:11 error: block "ask" next: must be a string or a list, not a mapping']);
  });

  it("leaves out 'no block saves variable' warnings when a save_to could not be read", () => {
    const r = load(`id: t
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Comment?
    save_to: "my comment"
    next: bye
  bye:
    type: message
    text: "You said {{my_comment}}"
    next: [{ var: my_comment, equals: "x", goto: end }, { default: end }]
  end:
    type: end
`);
    expect(r.problems.map((p) => `${p.line}:${p.col} ${p.severity}`)).toEqual(["7:14 error"]);
  });

  it("still checks the graph when a top-level key is wrong, and skips only what needs it", () => {
    const r = load(`id: t
start: 5
locale: english
blocks:
  ask:
    type: message
    text: Hello
    next: nowhere
`);
    expect(r.problems.map((p) => `${p.line}:${p.col} ${p.severity}: ${p.message}`)).toEqual([
      "2:8 error: start: must be a string, not the number 5",
      '3:9 error: locale: "english" is not valid: use a locale code such as en, uk or pt-BR',
      '8:11 error: block "ask" next: no block "nowhere"; blocks are: ask',
    ]);
  });

  it("reports a mistake once even when two checks find it", () => {
    const r = loadScenarioText(
      `id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "A label far too long", value: 1 }]
    next: bye
  bye:
    type: end
`,
      "inline.yaml",
      { channels: [{ channel: "a", maxLabelLength: 10, maxButtons: 5, maxTextLength: 100 }, { channel: "a", maxLabelLength: 10, maxButtons: 5, maxTextLength: 100 }] },
    );
    const keys = r.problems.map((p) => `${p.line}:${p.col}:${p.message}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(r.problems.filter((p) => p.line === 7)).toHaveLength(1);
  });
});
