/**
 * Strict loading, driven by test/fixtures/broken: each fixture is a near miss of a valid CSAT
 * scenario and lists the exact problems it must produce as `# expect: L:C severity: message`
 * lines (a message ending in "..." is a prefix). Positions were checked by hand against the
 * files: they point at the key or value at fault, never at the document start.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ChannelLimits } from "../../engine/catalog.ts";
import { ScenarioError, type ScenarioProblem } from "../../engine/errors.ts";
import { loadScenarioFile, loadScenarioText, MAX_PROBLEMS, readScenarioFile } from "../../engine/loader.ts";
import { closest, editDistance, suggest } from "../../engine/suggest.ts";
import { MAX_SCENARIO_BYTES } from "../../engine/yaml-source.ts";
import { testActions } from "../helpers/scenario.ts";

const root = path.resolve(import.meta.dirname, "../..");
const brokenDir = path.join(root, "test/fixtures/broken");
const actions = testActions().specs();
const channels: ChannelLimits[] = [{ channel: "whatsapp-cloud", maxLabelLength: 20, maxButtons: 10, maxTextLength: 1024 }];

interface Expectation {
  line: number;
  col: number;
  severity: "error" | "warning";
  message: string;
  prefix: boolean;
}

function expectationsOf(text: string, file: string): Expectation[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("# expect:"))
    .map((l) => {
      const m = /^# expect: (\d+):(\d+) (error|warning): (.+)$/.exec(l);
      if (!m) throw new Error(`${file}: malformed expectation line: ${l}`);
      const message = m[4] as string;
      const prefix = message.endsWith("...");
      return { line: Number(m[1]), col: Number(m[2]), severity: m[3] as "error" | "warning", message: prefix ? message.slice(0, -3) : message, prefix };
    });
}

function matches(p: ScenarioProblem, e: Expectation): boolean {
  return p.line === e.line && p.col === e.col && p.severity === e.severity && (e.prefix ? p.message.startsWith(e.message) : p.message === e.message);
}

const show = (p: ScenarioProblem): string => `${p.line}:${p.col} ${p.severity}: ${p.message}`;

/** Loads inline YAML the way the fixtures are loaded. */
function load(yaml: string) {
  return loadScenarioText(yaml, "inline.yaml", { actions, channels });
}

describe("broken scenarios (test/fixtures/broken)", () => {
  const files = readdirSync(brokenDir).filter((f) => f.endsWith(".yaml")).sort();

  it("has one fixture per check", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)("%s fails with exactly the expected problems", (file) => {
    const text = readFileSync(path.join(brokenDir, file), "utf8");
    const expected = expectationsOf(text, file);
    expect(expected.length, "a fixture lists what it must produce").toBeGreaterThan(0);

    const result = loadScenarioText(text, file, { actions, channels });
    const unmatched = [...result.problems];
    const missing: Expectation[] = [];
    for (const e of expected) {
      const i = unmatched.findIndex((p) => matches(p, e));
      if (i === -1) missing.push(e);
      else unmatched.splice(i, 1);
    }
    expect({ missing, unexpected: unmatched.map(show) }).toEqual({ missing: [], unexpected: [] });
    for (const p of result.problems) {
      expect(p.file).toBe(file);
      // Line 1 is the fixture's description comment: nothing may point there.
      expect(p.line, show(p)).toBeGreaterThan(1);
    }
    // Warnings alone never stop a scenario from loading; any error does.
    expect(result.scenario !== undefined, "loads exactly when no error is expected").toBe(expected.every((e) => e.severity === "warning"));
  });
});

describe("example scenarios", () => {
  const files = readdirSync(path.join(root, "scenarios")).filter((f) => /\.ya?ml$/.test(f)).sort();

  it("exist", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("scenarios/%s loads with no error", async (file) => {
    const text = readFileSync(path.join(root, "scenarios", file), "utf8");
    const result = loadScenarioText(text, `scenarios/${file}`, { actions });
    expect(result.problems.filter((p) => p.severity === "error").map(show)).toEqual([]);
    expect(result.scenario?.id).toBeTruthy();
    await expect(loadScenarioFile(path.join(root, "scenarios", file), { actions })).resolves.toMatchObject({ id: result.scenario?.id });
  });
});

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

describe("positions: keys vs values", () => {
  it("points an unknown key at the key and a wrong value at the value", () => {
    const result = load(VALID.replace("    next: bye\n", "    next: bye\n    colums: 2\n    timeout: { after: soon }\n"));
    expect(result.problems.map(show)).toEqual([
      '10:5 error: block "ask": unknown key "colums" (did you mean "columns"?); allowed keys: type, text, buttons, save_to, columns, invalid, skip, timeout, next, description',
      '11:23 error: block "ask" timeout.after: "soon" is not valid: write a number of seconds or a duration such as 90s, 10m, 24h',
    ]);
  });

  it("points a missing key at the key of the mapping that lacks it", () => {
    const result = load(VALID.replace("    next: bye\n", "    next: bye\n    skip:\n      next: bye\n"));
    expect(result.problems.map(show)).toEqual(['10:5 error: block "ask" skip: missing required key "label"; add label: the text on the button']);
  });

  it("points an empty value at its key", () => {
    const result = load(VALID.replace("    text: Rate us", "    text:"));
    expect(result.problems.map(show)).toEqual(['6:5 error: block "ask" text: must be a string or a mapping, not empty']);
  });

  it("follows an alias to the value it names, inside the anchored node", () => {
    const yaml = `id: t
start: pick
blocks:
  pick:
    type: message_with_keyboard
    text: Pick one
    buttons: &choices [{ label: Great, value: great }, { label: Fine, value: fine }]
    save_to: mood
    next: ask
  ask:
    type: message_with_keyboard
    text: Rate us
    buttons: *choices
    save_to: quality_answer
`;
    // Only "ask" records into quality_answer; the value at fault is where the anchor wrote it.
    expect(load(yaml).problems.map(show)).toEqual([
      '7:47 error: block "ask": button 1 records "great" into quality_answer, which feeds statistics and must be a number; add value: <number> (e.g. 👍 → 100)',
      '7:78 error: block "ask": button 2 records "fine" into quality_answer, which feeds statistics and must be a number; add value: <number> (e.g. 👍 → 100)',
    ]);
  });
});

describe("graph checks", () => {
  const keyboard = (id: string, extra = ""): string =>
    `  ${id}:\n    type: message_with_keyboard\n    text: Rate us\n    buttons: [{ label: "1", value: 1 }]\n    save_to: quality_answer\n${extra}`;

  it("counts defaults.invalid / defaults.timeout targets as reachable from waiting blocks that use them", () => {
    const yaml = `id: t\nstart: ask\ndefaults:\n  timeout: { after: 1h, next: late }\nblocks:\n${keyboard("ask", "    next: bye\n")}  late:\n    type: message\n    text: Too late\n  bye:\n    type: end\n`;
    expect(load(yaml).problems).toEqual([]);
  });

  it("does not count defaults targets from a waiting block that has its own", () => {
    const yaml = `id: t\nstart: ask\ndefaults:\n  timeout: { after: 1h, next: late }\nblocks:\n${keyboard("ask", "    timeout: { after: 2h, next: bye }\n    next: bye\n")}  late:\n    type: message\n    text: Too late\n  bye:\n    type: end\n`;
    expect(load(yaml).problems.map(show)).toEqual([`13:3 warning: block "late" is never reached from start "ask"; link it from another block's next, or remove it`]);
  });

  it("accepts a loop that waits for the user", () => {
    const yaml = `id: t\nstart: ask\nblocks:\n${keyboard("ask", "    next: again\n")}  again:\n    type: message\n    text: Once more\n    next: ask\n`;
    expect(load(yaml).problems).toEqual([]);
  });

  it("refuses a loop through an action's on_error, at the edge that closes it", () => {
    const yaml = `id: t\nstart: save\nblocks:\n  save:\n    type: action\n    action: statistic__set\n    config: { type: quality }\n    on_error: retry\n    next: bye\n  retry:\n    type: message\n    text: Retrying\n    next: save\n  bye:\n    type: end\n`;
    expect(load(yaml).problems.map(show)).toEqual([
      '13:11 error: blocks "save" → "retry" → "save" loop without waiting for the user and would repeat forever; send the loop through a message_with_keyboard or wait_for_response block, or end it',
    ]);
  });

  it("refuses a block that loops to itself", () => {
    const yaml = `id: t\nstart: a\nblocks:\n  a:\n    type: message\n    text: Hi\n    next: a\n`;
    expect(load(yaml).problems.map(show)).toEqual([
      '7:11 error: blocks "a" → "a" loop without waiting for the user and would repeat forever; send the loop through a message_with_keyboard or wait_for_response block, or end it',
    ]);
  });

  it("checks every rule target and reaches every rule's block", () => {
    const yaml = `id: t\nstart: ask\nblocks:\n${keyboard("ask", "    next:\n      - { var: quality_answer, in: [1, 2], goto: why }\n      - { var: quality_answer, gte: 4, goto: thx }\n      - { default: bye }\n")}  why:\n    type: message\n    text: Why?\n    next: bye\n  thx:\n    type: message\n    text: Thanks\n    next: byee\n  bye:\n    type: end\n`;
    expect(load(yaml).problems.map(show)).toEqual(['20:11 error: block "thx" next: no block "byee" (did you mean "bye"?)']);
  });

  it("does not count a block as reached through a rule after the default rule", () => {
    const yaml = `id: t\nstart: ask\nblocks:\n${keyboard("ask", "    next:\n      - { default: bye }\n      - { var: quality_answer, lte: 2, goto: why }\n")}  why:\n    type: message\n    text: Why?\n  bye:\n    type: end\n`;
    expect(load(yaml).problems.map(show)).toEqual([
      "11:9 warning: block \"ask\" next[1]: this rule comes after the default rule and is never used; move the default rule to the end",
      `12:3 warning: block "why" is never reached from start "ask"; link it from another block's next, or remove it`,
    ]);
  });

  it("lists at most MAX_PROBLEMS problems and says how many more there are", () => {
    const many = Array.from({ length: MAX_PROBLEMS + 20 }, (_, i) => `  m${i}:\n    type: message\n    text: Hi\n`).join("");
    const result = load(`id: t\nstart: bye\nblocks:\n  bye:\n    type: end\n${many}`);
    expect(result.problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(result.problems.at(-1)?.message).toBe("20 more problems from here on (0 errors) are not listed; fix the ones above first");
    expect(result.problems.at(-1)?.severity).toBe("warning");
    expect(result.scenario).toBeDefined();
  });
});

describe("suggest", () => {
  it("counts a swapped pair of letters as one edit", () => {
    expect(editDistance("thnaks", "thanks")).toBe(1);
    expect(editDistance("save_too", "save_to")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests near misses only", () => {
    expect(closest("ask_coment", ["ask_rating", "ask_comment", "save"])).toBe("ask_comment");
    expect(closest("Thanks", ["thanks"])).toBe("thanks");
    expect(closest("ab", ["xy", "cd"])).toBeUndefined();
    expect(closest("feedback_form", ["ask_rating", "save", "thanks"])).toBeUndefined();
    expect(suggest("qualty", ["quality"])).toBe(' (did you mean "quality"?)');
    expect(suggest("end", ["end"])).toBe("");
  });
});

describe("reading scenario files", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "botflow-loader-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("refuses a file over the size limit without reading it whole", async () => {
    const file = path.join(tmp, "big.yaml");
    writeFileSync(file, Buffer.alloc(MAX_SCENARIO_BYTES * 4, 0x61));
    const read = await readScenarioFile(file);
    expect(read).toEqual({ problem: expect.objectContaining({ file, line: 1, col: 1, severity: "error", message: expect.stringMatching(/larger than 262144 bytes/) }) });
  });

  it("refuses a file that is not UTF-8, at the first bad byte", async () => {
    const file = path.join(tmp, "latin1.yaml");
    writeFileSync(file, Buffer.concat([Buffer.from("id: t\ntext: caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
    const err = await loadScenarioFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).problems).toEqual([expect.objectContaining({ line: 2, col: 10, message: expect.stringMatching(/not valid UTF-8/) })]);
  });

  it("throws ScenarioError with every problem for an invalid file", async () => {
    const file = path.join(tmp, "broken.yaml");
    writeFileSync(file, readFileSync(path.join(brokenDir, "graph-start-missing.yaml")));
    const err = await loadScenarioFile(file, { actions }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).message).toBe(`${file}:4:8: error: start: no block "ask_ratings" (did you mean "ask_rating"?)`);
  });
});

describe("survey_rules: the trigger API's defaults", () => {
  const withRules = (rules: string) => VALID.replace("start: ask\n", `start: ask\nsurvey_rules:\n${rules}`);

  it("loads the rules a scenario declares", () => {
    const result = load(withRules('  cooldown: 7d\n  sample: 0.3\n  expire_after: 48h\n  quiet_hours: { from: "21:00", to: "08:00", timezone: Europe/Kyiv }\n'));
    expect(result.problems.map(show)).toEqual([]);
    expect(result.scenario?.def.survey_rules).toEqual({ cooldown: "7d", sample: 0.3, expire_after: "48h", quiet_hours: { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" } });
    // Parsed once, here: the trigger service merges these under each call's policy.
    expect(result.scenario?.surveyRules).toEqual({ cooldownMs: 7 * 86_400_000, sample: 0.3, expireAfterMs: 48 * 3_600_000, quietHours: { from: 21 * 60, to: 8 * 60, timeZone: "Europe/Kyiv" } });
    expect(load(VALID).scenario?.surveyRules).toBeUndefined();
  });

  it("points a bad period, share or rule name at its line and column", () => {
    const result = load(withRules("  cooldown: 7 days\n  sample: 30\n  cooldwn: 1d\n"));
    const shown = result.problems.map(show);
    expect(shown).toHaveLength(3);
    expect(shown[0]).toBe('4:13 error: survey_rules.cooldown: "7 days" is not valid: write a number of seconds or a duration such as 90s, 10m, 24h');
    expect(shown[1]).toMatch(/^5:11 error: survey_rules.sample: /);
    expect(shown[2]).toMatch(/^6:3 error: survey_rules: unknown key "cooldwn" \(did you mean "cooldown"\?\)/);
  });

  it("refuses a time zone that does not exist, and quiet hours of no length, where they are written", () => {
    const zone = load(withRules('  quiet_hours: { from: "21:00", to: "08:00", timezone: Europe/Kiyv }\n'));
    expect(zone.problems.map(show)).toEqual(["4:56 error: survey_rules.quiet_hours.timezone: give an IANA time zone such as Europe/Kyiv"]);
    const empty = load(withRules('  quiet_hours: { from: "21:00", to: "21:00" }\n'));
    expect(empty.problems.map(show)).toEqual(["4:16 error: survey_rules.quiet_hours: from and to are the same time: there are no quiet hours"]);
  });
});
