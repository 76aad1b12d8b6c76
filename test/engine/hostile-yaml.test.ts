/**
 * Hostile YAML: every input here must come back quickly as a clear problem with a position,
 * never as a throw, a hang or a crash of the process.
 *
 * Decisions these tests pin down:
 * - Scalar keys are read as strings: `{1: x}` has the key "1" (then refused by the schema
 *   where "1" is no allowed key). Collection and alias keys (`? [a, b]: x`) are refused.
 * - Every YAML tag is refused, the harmless `!!str` too: scenarios are plain data.
 * - Directives (`%YAML 1.1`, which would turn `yes` into true) are refused.
 * - Anchors and aliases are allowed (a shared button list), up to MAX_ALIAS_EXPANSION nodes.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioText, MAX_BLOCKS } from "../../engine/loader.ts";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { MAX_ALIAS_EXPANSION, MAX_DEPTH, MAX_SCENARIO_BYTES } from "../../engine/yaml-source.ts";
import { testActions } from "../helpers/scenario.ts";

const actions = testActions().specs();

/** Loads `text`, failing the test when it throws or takes longer than a generous bound. */
function load(text: string): { problems: ScenarioProblem[]; loaded: boolean } {
  const started = performance.now();
  const result = loadScenarioText(text, "hostile.yaml", { actions });
  const ms = performance.now() - started;
  // Generous: the point is "no hang"; these finish in milliseconds on an idle machine.
  expect(ms, "loads in well under a second").toBeLessThan(2000);
  for (const p of result.problems) {
    expect(p.line).toBeGreaterThanOrEqual(1);
    expect(p.col).toBeGreaterThanOrEqual(1);
    expect(p.message.length, "messages stay short whatever the input").toBeLessThan(400);
  }
  return { problems: result.problems, loaded: result.scenario !== undefined };
}

const at = (p: ScenarioProblem | undefined): string => (p ? `${p.line}:${p.col} ${p.severity}: ${p.message}` : "none");

/** Asserts exactly one error, at `pos`, whose message matches `message`. */
function expectOne(text: string, pos: string, message: RegExp): void {
  const { problems, loaded } = load(text);
  expect(loaded).toBe(false);
  expect(problems, problems.map(at).join("\n")).toHaveLength(1);
  const p = problems[0] as ScenarioProblem;
  expect(`${p.line}:${p.col}`, at(p)).toBe(pos);
  expect(p.severity).toBe("error");
  expect(p.message).toMatch(message);
}

const VALID = `id: t
start: ask
blocks:
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    next: bye
  bye:
    type: end
`;

describe("hostile YAML", () => {
  it("refuses a billion-laughs alias bomb at the alias that tips it over", () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = "abcdefghi";
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1] as string;
      lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${prev}`).join(",")}]`);
    }
    // a has 10 nodes, b 91, c 820, d 7381: the aliases on lines b–d add 8289, the first *d on line e crosses 10,000.
    expectOne(lines.join("\n") + "\n", "5:8", new RegExp(`alias \\*d makes the aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes`));
  });

  it("refuses an alias inside the node it names", () => {
    expectOne("id: t\nloop: &a [x, *a]\n", "2:14", /alias \*a names a node that contains it/);
  });

  it("still accepts a few aliases of a shared list", () => {
    const text = VALID.replace('    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]', '    buttons: &scale [{ label: "1", value: 1 }, { label: "2", value: 2 }]').replace(
      "  bye:\n",
      "  again:\n    type: message_with_keyboard\n    text: Once more?\n    buttons: *scale\n    save_to: quality_answer\n    next: bye\n  bye:\n",
    );
    const { problems, loaded } = load(text.replace("    next: bye\n", "    next: again\n"));
    expect(problems.map(at)).toEqual([]);
    expect(loaded).toBe(true);
  });

  it("refuses a document over MAX_SCENARIO_BYTES before parsing it", () => {
    const text = `id: t\ntext: "${"x".repeat(MAX_SCENARIO_BYTES)}"\n`;
    expectOne(text, "1:1", new RegExp(`file is ${Buffer.byteLength(text)} bytes; scenarios are limited to ${MAX_SCENARIO_BYTES} bytes`));
  });

  it("refuses deep nesting in block style (compact sequences)", () => {
    // The top mapping is level 1 and each "- " opens one more; level MAX_DEPTH + 1 starts at column 1 + 2 * (MAX_DEPTH - 1).
    expectOne(`id: t\nblocks:\n${"- ".repeat(10_000)}x\n`, `3:${1 + 2 * (MAX_DEPTH - 1)}`, new RegExp(`nesting deeper than ${MAX_DEPTH} levels`));
  });

  it("refuses deep nesting in block style (indentation)", () => {
    let text = "id: t\nblocks:\n";
    for (let i = 1; i <= 500; i++) text += `${" ".repeat(i)}k:\n`;
    // Line n (from 3) is level n - 1 at column n - 1: level MAX_DEPTH + 1 is line MAX_DEPTH + 2.
    expectOne(text, `${MAX_DEPTH + 2}:${MAX_DEPTH + 1}`, /nesting deeper than/);
  });

  it("refuses deep nesting in flow style, closed or not", () => {
    const pos = `1:${5 + MAX_DEPTH - 1}`;
    expectOne(`id: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`, pos, /nesting deeper than/);
    expectOne(`id: ${"[".repeat(10_000)}\n`, pos, /nesting deeper than/);
    // "{a: " is four characters a level.
    expectOne(`id: ${"{a: ".repeat(5_000)}\n`, `1:${5 + 4 * (MAX_DEPTH - 1)}`, /nesting deeper than/);
  });

  it("accepts nesting up to the limit without complaint from the YAML layer", () => {
    const { problems } = load(`id: t\nx: ${"[".repeat(MAX_DEPTH - 1)}${"]".repeat(MAX_DEPTH - 1)}\n`);
    expect(problems.map((p) => p.message).join("\n")).not.toMatch(/nesting/);
  });

  it("refuses duplicate keys at the second one, at any depth", () => {
    expectOne("id: a\nid: b\nstart: x\n", "2:1", /^duplicate key "id"; a key may appear only once in a mapping/);
    expectOne(VALID.replace("    next: bye\n", "    next: bye\n    next: ask\n"), "10:5", /^duplicate key "next"/);
    expectOne(VALID.replace("  bye:\n", '  "ask":\n    type: end\n  bye:\n'), "10:3", /^duplicate key "ask"/);
  });

  it("refuses collection and alias keys, and reads scalar keys as strings", () => {
    expectOne("id: t\n? [a, b]\n: x\n", "2:3", /keys must be plain scalars/);
    // The flow mapping is itself the key at fault.
    expectOne("id: t\n{[a]: 1}: 2\n", "2:1", /keys must be plain scalars/);
    expectOne("id: &k t\n*k : x\n", "2:1", /keys must be plain scalars/);
    // `1:` is the string key "1": no YAML error, and the schema names it.
    const { problems } = load(VALID.replace("start: ask\n", "start: ask\n1: x\n"));
    expect(problems.map(at)).toEqual(['3:1 error: scenario: unknown key "1"; allowed keys: id, name, version, locale, start, on_update, start_on, defaults, survey_rules, dimensions, blocks']);
  });

  it("refuses YAML tags, standard or custom, at the tag", () => {
    expectOne("id: t\nstart: !!js/function 'function () { return 1 }'\n", "2:8", /^YAML tag !!js\/function is not allowed; scenarios are plain data/);
    expectOne("id: !custom t\n", "1:5", /^YAML tag !custom is not allowed/);
    expectOne("id: !!str 12\n", "1:5", /^YAML tag !!str is not allowed/);
    expectOne(VALID.replace("    text: Rate us", "    text: !!binary aGVsbG8="), "6:11", /^YAML tag !!binary is not allowed/);
  });

  it("refuses YAML merge keys, which YAML 1.2 does not define", () => {
    const text = "id: t\nstart: a\nblocks:\n  base: &base { type: message, text: Hi }\n  a:\n    <<: *base\n    next: base\n";
    expectOne(text, "6:5", /^block "a": YAML merge keys \(<<\) are not supported; write the keys out$/);
    expectOne("id: t\nstart: a\n<<: { name: x }\nblocks: { a: { type: end } }\n", "3:1", /^scenario: YAML merge keys \(<<\) are not supported/);
  });

  it("refuses an implicit key longer than YAML allows", () => {
    expectOne(`${"k".repeat(100_000)}: 1\n`, "1:1", /^YAML syntax: The : indicator must be at most 1024 chars/);
  });

  it("refuses directives", () => {
    expectOne("%YAML 1.1\n---\nid: t\n", "1:1", /^YAML directive %YAML 1.1 is not allowed/);
  });

  it(`refuses more than MAX_BLOCKS (${MAX_BLOCKS}) blocks at the blocks key`, () => {
    let text = "id: t\nstart: b0\nblocks:\n";
    for (let i = 0; i <= MAX_BLOCKS; i++) text += `  b${i}: {type: message, text: t}\n`;
    expectOne(text, "3:1", new RegExp(`^blocks: ${MAX_BLOCKS + 1} blocks; a scenario holds at most ${MAX_BLOCKS}`));
  });

  it("checks MAX_BLOCKS chained blocks quickly, loop and all", () => {
    let text = "id: t\nstart: b0\nblocks:\n";
    for (let i = 0; i < MAX_BLOCKS; i++) text += `  b${i}: {type: message, text: t, next: b${(i + 1) % MAX_BLOCKS}}\n`;
    expectOne(text, `${MAX_BLOCKS + 3}:40`, new RegExp(`^blocks "b0" → "b1" → "b2" → … → "b998" → "b999" → "b0" \\(${MAX_BLOCKS} blocks\\) loop without waiting`));
  });

  it("lists a mapping of thousands of unknown keys as the first problems and a count", () => {
    let text = VALID;
    for (let i = 0; i < 5000; i++) text += `extra_${i}: 1\n`;
    const { problems } = load(text);
    expect(problems).toHaveLength(101);
    expect(at(problems[0])).toBe('12:1 error: scenario: unknown key "extra_0"; allowed keys: id, name, version, locale, start, on_update, start_on, defaults, survey_rules, dimensions, blocks');
    expect(at(problems[100])).toBe("112:1 error: 4900 more problems from here on (4900 errors) are not listed; fix the ones above first");
  });

  it("reports a very long single line without echoing it", () => {
    const { problems } = load(VALID.replace("    text: Rate us", `    text: ${"x".repeat(200_000)}`));
    expect(problems.map(at)).toEqual(['6:11 error: block "ask" text: is 200000 characters; at most 4096 are allowed']);
    const longId = load(VALID.replace("id: t", `id: ${"a".repeat(200_000)}`));
    expect(longId.problems.map(at)).toEqual([`1:5 error: id: "${"a".repeat(40)}…" is not valid: an id has letters, digits, '_', '.' or '-', starts with a letter or '_', and is at most 64 characters`]);
  });

  it("refuses binary garbage and NUL bytes at the first control character", () => {
    expectOne("id: t\nstart: a\u0000b\n", "2:9", /^control character U\+0000 is not allowed in a scenario; is this a binary file\?/);
    let garbage = "";
    for (let i = 0; i < 4096; i++) garbage += String.fromCharCode((i * 7919 + 13) % 256);
    const { problems, loaded } = load(garbage);
    expect(loaded).toBe(false);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/^control character U\+[0-9A-F]{4} is not allowed/);
  });

  it("refuses an empty file, a comment-only file, a list and a scalar, at the start of the content", () => {
    expectOne("", "1:1", /a scenario is a YAML mapping with id, start and blocks, but the file is empty/);
    expectOne("# nothing here yet\n\n", "1:1", /but the file is empty/);
    expectOne("# a list\n- id: t\n- start: a\n", "2:1", /but the file is a list/);
    expectOne("\n\njust some text\n", "3:1", /but the file is a single value/);
  });

  it("refuses a second document at its marker", () => {
    expectOne("id: a\n---\nid: b\n---\nid: c\n", "2:1", /^a second YAML document starts here; a scenario file holds exactly one/);
    expectOne("id: a\n...\n---\nid: b\n", "3:1", /^a second YAML document starts here/);
  });

  it("accepts one document with a leading --- marker, and a byte-order mark without shifting columns", () => {
    expect(load(`---\n${VALID}`).problems).toEqual([]);
    const bom = load(`\uFEFF${VALID.replace("start: ask", "start: nowhere")}`);
    expect(at(bom.problems[0])).toBe('2:8 error: start: no block "nowhere"; blocks are: ask, bye');
  });

  it("reports tab indentation and unclosed quotes or brackets where they start, once", () => {
    expectOne(VALID.replace("    type: end", "\ttype: end"), "11:1", /^YAML syntax: Tabs are not allowed as indentation; check this line's indentation/);
    expectOne(VALID.replace("    text: Rate us", '    text: "Rate us'), "6:11", /^YAML syntax: the " opened here is never closed/);
    expectOne(VALID.replace("    text: Rate us", "    text: 'Rate us"), "6:11", /^YAML syntax: the ' opened here is never closed/);
    expectOne(VALID.replace('[{ label: "1", value: 1 }, { label: "2", value: 2 }]', '[{ label: "1", value: 1 }, { label: "2", value: 2 }'), "7:14", /^YAML syntax: the \[ opened here is never closed; add the closing \]/);
    let many = "";
    for (let i = 0; i < 5000; i++) many += `k${i}: "x\n`;
    expectOne(many, "1:5", /the " opened here is never closed/);
  });
});
