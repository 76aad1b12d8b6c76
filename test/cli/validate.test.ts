import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

const F = "test/cli/fixtures";
const PROBLEM_LINE = /^[^:]+:\d+:\d+: (error|warning): .+$/;

describe("botflow validate", () => {
  it("passes every example scenario with no problem at all", async () => {
    const files = readdirSync("scenarios").filter((f) => f.endsWith(".yaml")).map((f) => `scenarios/${f}`);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const r = await runCli(["validate", ...files]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${files.length} files: ${files.length} valid, 0 invalid (0 errors, 0 warnings)\n`);
    expect(r.code).toBe(0);
  });

  it("starts every example scenario with the schema comment editors use", () => {
    for (const f of readdirSync("scenarios").filter((n) => n.endsWith(".yaml"))) {
      expect(readFileSync(`scenarios/${f}`, "utf8").split("\n")[0], f).toBe("# yaml-language-server: $schema=../scenario.schema.json");
    }
  });

  // The loader's wording is its own (and tested with it); here: position, severity, the gist, the summary.
  it("exits 0 on warnings only and prints each warning with its position", async () => {
    const r = await runCli(["validate", `${F}/warning-only.yaml`]);
    const lines = r.stdout.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^test\/cli\/fixtures\/warning-only\.yaml:12:3: warning: block "orphan" is never reached/);
    expect(lines[1]).toBe("1 file: 1 valid, 0 invalid (0 errors, 1 warning)");
    expect(r.code).toBe(0);
  });

  it("exits 1 on graph errors and prints every problem as file:line:col: severity: message", async () => {
    const r = await runCli(["validate", `${F}/broken-graph.yaml`]);
    const lines = r.stdout.split("\n");
    const at = (n: number): string => lines[n] ?? "";
    expect(lines).toHaveLength(6);
    expect(at(0)).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:12:11: error: .*no block "thank" \(did you mean "thanks"\?\)/);
    expect(at(1)).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:13:3: warning: block "save" is never reached/);
    expect(at(2)).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:15:13: error: .*unknown action "statistic_set" \(did you mean "statistic__set"\?\)/);
    expect(at(3)).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:18:3: warning: block "thanks" is never reached/);
    expect(at(4)).toBe("1 file: 0 valid, 1 invalid (2 errors, 2 warnings)");
    expect(at(5)).toBe("");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
  });

  it("reports a YAML syntax error at its line", async () => {
    const r = await runCli(["validate", `${F}/bad-yaml.yaml`]);
    // The unclosed quote opens on line 6 and the file ends on line 7; either is a fair place to point.
    expect(r.stdout).toMatch(/^test\/cli\/fixtures\/bad-yaml\.yaml:[67]:\d+: error: YAML syntax: .*(quote|")/m);
    expect(r.code).toBe(1);
  });

  it("counts good and bad files in one run, in argument order, and exits 1", async () => {
    const r = await runCli(["validate", "scenarios/csat.yaml", `${F}/warning-only.yaml`, `${F}/broken-graph.yaml`]);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.slice(0, -1).every((l) => PROBLEM_LINE.test(l))).toBe(true);
    expect(lines[0]).toContain("warning-only.yaml");
    expect(lines.at(-1)).toBe("3 files: 2 valid, 1 invalid (2 errors, 3 warnings)");
    expect(r.code).toBe(1);
  });

  it("reports a missing file clearly and counts it as invalid", async () => {
    const r = await runCli(["validate", "scenarios/csat.yaml", "scenarios/nope.yaml"]);
    expect(r.stdout).toBe("scenarios/nope.yaml:1:1: error: no such file; check the path\n2 files: 1 valid, 1 invalid (1 error, 0 warnings)\n");
    expect(r.code).toBe(1);
  });

  it("refuses two scenarios with the same id, pointing at the second file's id", async () => {
    const r = await runCli(["validate", "scenarios/csat.yaml", `${F}/same-id-as-csat.yaml`]);
    expect(r.stdout).toBe(
      `${F}/same-id-as-csat.yaml:2:5: error: scenario id "csat" is already used by scenarios/csat.yaml; give each scenario its own id\n` +
        "2 files: 1 valid, 1 invalid (1 error, 0 warnings)\n",
    );
    expect(r.code).toBe(1);
  });

  it("expands a directory to its scenario files and checks a file named twice once", async () => {
    const r = await runCli(["validate", "scenarios", "scenarios/csat.yaml"]);
    const count = readdirSync("scenarios").filter((f) => /\.ya?ml$/.test(f)).length;
    expect(r.stdout).toBe(`${count} files: ${count} valid, 0 invalid (0 errors, 0 warnings)\n`);
    expect(r.code).toBe(0);
  });

  it("resolves files against the working directory it is given", async () => {
    const r = await runCli(["validate", "warning-only.yaml"], { cwd: `${process.cwd()}/${F}` });
    expect(r.stdout).toMatch(/^warning-only\.yaml:12:3: warning:/);
    expect(r.code).toBe(0);
  });

  it("exits 2 with the usage on stderr when no file is given or an option is unknown", async () => {
    const none = await runCli(["validate"]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("error: no scenario files given");
    expect(none.stderr).toContain("usage: botflow validate [--channel NAME]... [--channels] FILE|DIR...");
    const bad = await runCli(["validate", "--strict", "scenarios/csat.yaml"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: .*--strict/);
  });

  it("prints its usage with --help and exits 0", async () => {
    const r = await runCli(["validate", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: botflow validate [--channel NAME]... [--channels] FILE|DIR...");
  });
});

describe("botflow validate and goto_scenario", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "botflow-validate-goto-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const support = readFileSync("scenarios/support.yaml", "utf8");

  it("finds the target in the file's folder when only the one file is given", async () => {
    const r = await runCli(["validate", "scenarios/support.yaml"]);
    expect(r.stdout).toBe("1 file: 1 valid, 0 invalid (0 errors, 0 warnings)\n");
    expect(r.code).toBe(0);
  });

  it("refuses a target that no scenario there has, at its scenario: line and column, with a suggestion", async () => {
    const file = path.join(dir, "support.yaml");
    writeFileSync(file, support.replace("scenario: csat", "scenario: cstat"));
    writeFileSync(path.join(dir, "csat.yaml"), readFileSync("scenarios/csat.yaml", "utf8"));
    const r = await runCli(["validate", file]);
    const line = support.split("\n").findIndex((l) => l.includes("scenario: csat")) + 1;
    expect(r.stdout.split("\n")[0]).toBe(
      `${file}:${line}:15: error: block "survey": goto_scenario names no loaded scenario "cstat" (did you mean "csat"?); loaded: csat, support. Use a scenario's id (its id: line), or add the scenario beside this one`,
    );
    expect(r.stdout.split("\n")[1]).toBe("1 file: 0 valid, 1 invalid (1 error, 0 warnings)");
    expect(r.code).toBe(1);
    // botflow run refuses it the same way, before playing anything.
    writeFileSync(path.join(dir, "d.json"), '[["1"]]');
    const run = await runCli(["run", file, "--dialogues", path.join(dir, "d.json")]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")[0]).toMatch(new RegExp(`:${line}:15: error: block "survey": goto_scenario names no loaded scenario "cstat" \\(did you mean "csat"\\?\\)`));
  });
});

describe("botflow validate: every problem in one pass, every channel's limits", () => {
  const FOUR = `${F}/four-mistakes.yaml`;

  it("reports a schema error, an unknown next target, an unreachable block and a label too long for an enabled channel in one run", async () => {
    const r = await runCli(["validate", "--channel", "whatsapp-cloud", FOUR]);
    expect(r.stdout.split("\n")).toEqual([
      `${FOUR}:8:14: error: block "ask_rating" columns: must be a whole number, not a string ("two")`,
      `${FOUR}:12:18: error: block "ask_rating": label "I would rather not answer this" is 30 characters; whatsapp-cloud allows 24: shorten it`,
      `${FOUR}:15:46: error: block "ask_rating" next[0].goto: no block "sory" (did you mean "sorry"?)`,
      `${FOUR}:17:3: warning: block "sorry" is never reached from start "ask_rating"; link it from another block's next, or remove it`,
      "1 file: 0 valid, 1 invalid (3 errors, 1 warning)",
      "",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
  });

  it("makes a channel that is not enabled a warning at the same line:col, naming the channel to fix it for", async () => {
    const r = await runCli(["validate", FOUR]);
    expect(r.stdout.split("\n")[1]).toBe(
      `${FOUR}:12:18: warning: block "ask_rating": label "I would rather not answer this" is 30 characters; whatsapp-cloud allows 24: shorten it before enabling whatsapp-cloud`,
    );
    expect(r.stdout).toContain("1 file: 0 valid, 1 invalid (2 errors, 2 warnings)");
    expect(r.code).toBe(1);
  });

  it("loads a scenario that only a channel that is not enabled refuses, with the warning; refuses it when that channel is named", async () => {
    const file = `${F}/channel-plans.yaml`;
    const warning = `${file}:25:5: warning: block "ask_month": 11 buttons; whatsapp-cloud shows at most 10: remove some before enabling whatsapp-cloud`;
    const off = await runCli(["validate", "--channel", "telegram,teams", file]);
    expect(off.stdout).toBe(`${warning}\n1 file: 1 valid, 0 invalid (0 errors, 1 warning)\n`);
    expect(off.code).toBe(0);
    const on = await runCli(["validate", "--channel", "telegram", "--channel", "whatsapp-cloud", file]);
    expect(on.stdout).toBe(`${file}:25:5: error: block "ask_month": 11 buttons; whatsapp-cloud shows at most 10: remove some\n1 file: 0 valid, 1 invalid (1 error, 0 warnings)\n`);
    expect(on.code).toBe(1);
  });

  it("--channels prints, per question block, what each channel will show or why it refuses it", async () => {
    const file = `${F}/channel-plans.yaml`;
    const r = await runCli(["validate", "--channels", "--channel", "telegram,teams", file]);
    expect(r.stdout).toBe(
      [
        `${file}:25:5: warning: block "ask_month": 11 buttons; whatsapp-cloud shows at most 10: remove some before enabling whatsapp-cloud`,
        `${file}: what each channel shows (* enabled: telegram, teams)`,
        "  ask_rating (6:3)",
        "    webchat           buttons, 5 in 1 row",
        "    telegram *        inline keyboard, 5 buttons in 1 row (callback_data ≤ 29 of 64 bytes)",
        "    whatsapp-cloud    list, 5 rows (more than 3 buttons)",
        "    whatsapp          numbered prompt; Reply 1–5. (and a poll with WHATSAPP_WEB_POLLS=true)",
        "    teams *           Adaptive Card, 5 buttons in 1 row of up to 5",
        "  ask_topic (12:3)",
        "    webchat           buttons, 3 in 1 row",
        "    telegram *        inline keyboard, 3 buttons in 1 row (callback_data ≤ 29 of 64 bytes)",
        "    whatsapp-cloud    list, 3 rows (a label over 20 characters)",
        "    whatsapp          numbered prompt; Reply 1 Billing / 2 Delivery / 3 Something else entirely. (and a poll with WHATSAPP_WEB_POLLS=true)",
        "    teams *           Adaptive Card, 3 buttons in 1 row of up to 5",
        "  ask_month (21:3)",
        "    webchat           buttons, 11 in 3 rows",
        "    telegram *        inline keyboard, 11 buttons in 3 rows (callback_data ≤ 30 of 64 bytes)",
        "    whatsapp-cloud    refused: 11 buttons, at most 10",
        "    whatsapp          numbered prompt; Reply 1 Jan / 2 Feb / 3 Mar / 4 Apr / 5 May / 6 Jun / 7 Jul / 8 Aug / 9 Sep / 10 Oct / 11 Nov. (and a poll with WHATSAPP_WEB_POLLS=true)",
        "    teams *           Adaptive Card, 11 buttons in 3 rows of up to 5",
        "  ask_comment (28:3)",
        "    webchat           text; the answer is typed",
        "    telegram *        text; the answer is typed",
        "    whatsapp-cloud    text; the answer is typed",
        "    whatsapp          text; Type your answer.",
        "    teams *           text; the answer is typed",
        "1 file: 1 valid, 0 invalid (0 errors, 1 warning)",
        "",
      ].join("\n"),
    );
    expect(r.code).toBe(0);
  });

  it("--channels shows reply buttons on WhatsApp Cloud for up to 3 short labels, and a refused label with its reason", async () => {
    const r = await runCli(["validate", "--channels", "scenarios/csat-emoji.yaml", FOUR]);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("    whatsapp-cloud    reply buttons, 3");
    expect(lines).toContain('    whatsapp-cloud    refused: label "I would rather not answer this" is 30 characters, at most 24');
    expect(lines).toContain("scenarios/csat-emoji.yaml: what each channel shows (no channel enabled: --channel NAME)");
  });

  it("exits 2 on a --channel that names no channel, listing the channels", async () => {
    const r = await runCli(["validate", "--channel", "viber", FOUR]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --channel: no channel "viber"; channels are webchat, telegram, whatsapp-cloud, whatsapp, teams');
  });
});
