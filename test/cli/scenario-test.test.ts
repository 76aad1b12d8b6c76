/**
 * `botflow test`: the bundled scenarios' own test files pass; a failing case is reported at the
 * test file's line:col with a diff; each channel's renderer changes what `buttons`, `list`, `bot`
 * and `tap` see; malformed test files and bad arguments exit 2 before any case runs; HTTP mocks.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diffLines } from "../../cli/scenario-test/line-diff.ts";
import { ROOT, runCli } from "./run-cli.ts";

const FIX = "test/cli/fixtures/scenario-test";
const tmp = mkdtempSync(path.join(tmpdir(), "botflow-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("botflow test scenarios/", () => {
  it("has a test file for every bundled scenario, and every case passes", async () => {
    const scenarios = readdirSync(path.join(ROOT, "scenarios")).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, ""));
    const tests = readdirSync(path.join(ROOT, "scenarios/tests")).filter((f) => f.endsWith(".test.yaml")).map((f) => f.slice(0, -".test.yaml".length));
    expect(tests.sort()).toEqual(scenarios.sort());

    const r = await runCli(["test", "scenarios/"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const cases = r.stdout.split("\n").filter((l) => /^ {2}[✓✗] /.test(l));
    expect(cases.length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((l) => l.startsWith("  ✗"))).toEqual([]);
    for (const t of tests) expect(r.stdout).toContain(`scenarios/tests/${t}.test.yaml\n`);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe(`cases: ${cases.length} passed, 0 failed`);
  });
});

describe("botflow test examples/", () => {
  it("passes the examples' test files, with the settings each example names", async () => {
    const http = await runCli(["test", "examples/support/"], { env: { BOTFLOW_HTTP_ALLOW_HOSTS: "api.example.com", BOTFLOW_HTTP_ENV: "CRM_TOKEN", CRM_TOKEN: "test" } });
    expect(http.stderr).toBe("");
    expect(http.stdout.trimEnd().split("\n").at(-1)).toBe("cases: 4 passed, 0 failed");
    expect(http.code).toBe(0);
    const custom = await runCli(["test", "examples/actions/"], { env: { BOTFLOW_ACTIONS: "./examples/actions/support-actions.js" } });
    expect(custom.stderr).toBe("");
    expect(custom.stdout.trimEnd().split("\n").at(-1)).toBe("cases: 2 passed, 0 failed");
    expect(custom.code).toBe(0);
  });

  it("exits 2, running nothing, when the action settings are invalid", async () => {
    const r = await runCli(["test", "examples/actions/"], { env: { BOTFLOW_ACTIONS: "./examples/actions/nope.js" } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("nope.js");
  });
});

describe("a failing case", () => {
  it("is reported at the test file's line:col of the failing step with a diff, and exits 1", async () => {
    const r = await runCli(["test", `${FIX}/failing.test.yaml`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(1);
    const f = `${FIX}/failing.test.yaml`;
    expect(r.stdout.split("\n")).toEqual([
      f,
      "  ✓ passes",
      "  ✗ wrong text and a number given as text",
      `    ${f}:14:9: step 3 (expect.bot): no message the bot sent since the previous step is "Thank you!"`,
      '      - "Thank you!"',
      '      + "Thanks!"',
      `    ${f}:15:9: step 3 (expect.vars): variable quality_answer differs`,
      '        contact: "email"',
      '      - quality_answer: "4"',
      "      + quality_answer: 4 (a number; the test expects a string)",
      "  ✗ buttons expected where WhatsApp Cloud shows a list",
      `    ${f}:22:17: step 2 (expect.buttons): the open question shows no buttons on whatsapp-cloud`,
      '      - "Bad"',
      '      - "OK"',
      '      - "Good"',
      '      - "Great"',
      '      note: whatsapp-cloud shows these options as a list behind the button "Choose an answer": list: ["Bad", "OK", "Good", "Great"]',
      "  ✗ a tap on a label the channel does not show",
      `    ${f}:28:7: step 1 (tap): tap "E-mail": the open question has no such button on telegram; it shows "Email", "Phone call", "A message in this chat"`,
      "  ✗ messages in order",
      `    ${f}:35:17: step 3 (expect.bot): the bot's messages since the previous step differ (expected 2, sent 1)`,
      '        "Thanks!"',
      '      - "Goodbye"',
      `    ${f}:35:43: step 3 (expect.survey): the survey differs in score`,
      "      - score: 4",
      "      + score: 3",
      '        comment: ""',
      `    ${f}:35:78: step 3 (expect.ended): the dialogue has ended`,
      "      - ended: false",
      "      + ended: true",
      "  ✗ a label too long for WhatsApp Cloud",
      `    ${f}:37:3: scenario: ${FIX}/long-label.yaml does not load on whatsapp-cloud`,
      `      ${FIX}/long-label.yaml:12:18: error: block "ask": label "Not really, I need a human" is 26 characters; whatsapp-cloud allows 24: shorten it`,
      `      ${FIX}/long-label.yaml: the scenario has errors; run "botflow validate ${FIX}/long-label.yaml" after fixing them`,
      "",
      "cases: 1 passed, 5 failed",
      "",
    ]);
  });

  it("names the folders it looked in when no scenario has the id", async () => {
    const dir = path.join(tmp, "no-id");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "x.test.yaml"), "- name: nowhere\n  scenario: no_such_survey\n  steps:\n    - user: hi\n");
    const r = await runCli(["test", "."], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`    x.test.yaml:1:3: scenario: no scenario with id "no_such_survey" in . or ..: check the id, or give a path such as scenario: no_such_survey.yaml\n`);
  });
});

describe("channel-aware assertions", () => {
  it("sees each channel's own rendering (the fixtures' expectations per channel all hold)", async () => {
    const r = await runCli(["test", `${FIX}/channels.test.yaml`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toContain("✗");
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("cases: 8 passed, 0 failed");
    expect(r.code).toBe(0);
  });

  it("passes the same expectation on some channels and fails it on the others", async () => {
    // Four buttons after the first answer: buttons on most channels, a list on WhatsApp Cloud, a numbered text on WhatsApp Web.
    const channels = [undefined, "telegram", "teams", "webchat", "whatsapp-cloud", "whatsapp"] as const;
    const cases = channels.map((ch) =>
      [`- name: ${ch ?? "none"}`, `  scenario: ${path.join(ROOT, FIX, "contact-survey.yaml")}`, ...(ch ? [`  channel: ${ch}`] : []), "  steps:", "    - user: Email", "    - expect: { buttons: [Bad, OK, Good, Great] }"].join("\n"),
    );
    const file = path.join(tmp, "per-channel.test.yaml");
    writeFileSync(file, `${cases.join("\n")}\n`);
    const r = await runCli(["test", file]);
    expect(r.code).toBe(1);
    const marks = Object.fromEntries(r.stdout.split("\n").flatMap((l) => (/^ {2}[✓✗] /.test(l) ? [[l.slice(4), l[2]]] : [])));
    expect(marks).toEqual({ none: "✓", telegram: "✓", teams: "✓", webchat: "✓", "whatsapp-cloud": "✗", whatsapp: "✗" });
    expect(r.stdout).toContain("note: whatsapp-cloud shows these options as a list behind the button \"Choose an answer\"");
    expect(r.stdout).toContain('note: nothing to tap on whatsapp: the user types the answer; the question\'s text ends "Reply 1 Bad / 2 OK / 3 Good / 4 Great."');
  });

  it("taps a WhatsApp Cloud list row by its label, and refuses a tap where the channel shows nothing to tap", async () => {
    const file = path.join(tmp, "taps.test.yaml");
    const scenario = path.join(ROOT, FIX, "contact-survey.yaml");
    writeFileSync(
      file,
      [
        `- { name: cloud list, scenario: ${scenario}, channel: whatsapp-cloud, steps: [{ tap: Email }, { tap: Good }, { expect: { vars: { quality_answer: 3 }, ended: true } }] }`,
        `- { name: web text, scenario: ${scenario}, channel: whatsapp, steps: [{ tap: Email }] }`,
        "",
      ].join("\n"),
    );
    const r = await runCli(["test", file]);
    expect(r.stdout).toContain("  ✓ cloud list\n");
    const col = readFileSync(file, "utf8").split("\n")[1]!.indexOf("{ tap: Email }") + 1;
    expect(r.stdout).toContain(`  ✗ web text\n    ${file}:2:${col}: step 1 (tap): tap "Email": the open question shows nothing to tap on whatsapp (its text ends "Reply 1 Email / 2 Phone call / 3 A message in this chat."); type the answer instead: user: …\n`);
  });
});

describe("test files and arguments", () => {
  it("reports every problem of a malformed test file at its line:col, runs no case and exits 2", async () => {
    const r = await runCli(["test", `${FIX}/malformed.test.yaml`]);
    const f = `${FIX}/malformed.test.yaml`;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      `${f}:3:3: error: case 1: unknown key "chanel" (did you mean "channel"?); use name, scenario, channel, locale, variables, steps`,
      `${f}:5:7: error: case 1, step 1: a step is one of user: "text", tap: "label", wait: 25h, expect: {...}, mock: {url, status, json} (one key per step; got user, tap: split it into 2 steps)`,
      `${f}:7:17: error: case 1, step 2: expect: unknown key "bott" (did you mean "bot"?); use bot, buttons, list, vars, survey, ended`,
      `${f}:7:36: error: case 1, step 2: expect.buttons must be a list of labels such as ["1", "2", "Skip"] ([] for none); got "1"`,
      `${f}:8:13: error: case 1, step 3: wait is seconds (a positive number) or a duration such as 90s, 10m, 25h; got "soon"`,
      `${f}:9:12: error: case 1, step 4: tap is a button's label as the channel shows it (a non-empty string); got ""`,
      `${f}:10:22: error: case 1, step 5: expect.bot: /[/ is not a valid regular expression (Invalid regular expression: /[/: Unterminated character class); to match the text literally, drop the enclosing slashes`,
      `${f}:11:20: error: case 1, step 6: mock.url must be the http(s) URL the request goes to; got "ftp://x"`,
      `${f}:11:37: error: case 1, step 6: mock.status must be an HTTP status the answer has (200–599; default 200); got 99`,
      `${f}:14:12: error: case 2: channel must be one of telegram, teams, whatsapp-cloud, whatsapp, webchat; got "signal"`,
      `${f}:15:11: error: case 2: locale must look like en, uk or pt-BR; got "Ukrainian"`,
      `${f}:16:16: error: case 2: "bad name" is not a variable name (letters, digits and _, starting with a letter or _)`,
      `${f}:16:38: error: case 2: variable "agent" must be a string of at most 1000 characters or a number; got [1]`,
      `${f}:17:10: error: case 2: steps must be a non-empty list; a step is one of user: "text", tap: "label", wait: 25h, expect: {...}, mock: {url, status, json}; got []`,
      `${f}:18:3: error: case 3: a case is a mapping with name, scenario and steps; got 42`,
      'no case was run: fix the problems above ("botflow test --help" shows the format)',
      "",
    ]);
  });

  it("says when a comma in a { … } text was read as a key", async () => {
    const file = path.join(tmp, "comma.test.yaml");
    writeFileSync(file, "- name: comma\n  scenario: csat\n  steps:\n    - expect: { bot: No problem, thanks }\n");
    const r = await runCli(["test", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:34: error: case 1, step 1: expect: unknown key "thanks"; use bot, buttons, list, vars, survey, ended\n`);
    const spaced = path.join(tmp, "comma2.test.yaml");
    writeFileSync(spaced, "- name: comma\n  scenario: csat\n  steps:\n    - expect: { bot: Sorry, we failed }\n");
    const r2 = await runCli(["test", spaced]);
    expect(r2.stderr).toContain('unknown key "we failed"; use bot, buttons, list, vars, survey, ended; is it the rest of a text cut at a comma? In { … } quote texts that hold a comma: "Sorry, we …"');
  });

  it("reports YAML syntax errors and duplicate case names with line:col", async () => {
    const bad = path.join(tmp, "syntax.test.yaml");
    writeFileSync(bad, '- name: "open\n  scenario: csat\n');
    expect((await runCli(["test", bad])).stderr).toMatch(new RegExp(`^${escape(bad)}:1:9: error: YAML syntax: the " opened here is never closed`));
    const dup = path.join(tmp, "dup.test.yaml");
    writeFileSync(dup, "- { name: a, scenario: csat, steps: [{ user: '4' }] }\n- { name: a, scenario: csat, steps: [{ user: '5' }] }\n");
    const r = await runCli(["test", dup]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dup}:2:11: error: case 2 has the same name as case 1; give each case its own name so reports tell them apart`);
  });

  it("exits 2 on bad options, a missing path and a folder without test files", async () => {
    const reporter = await runCli(["test", "scenarios/", "--reporter", "xml"]);
    expect(reporter.code).toBe(2);
    expect(reporter.stderr).toContain('error: --reporter must be text or junit; got "xml"');
    expect(reporter.stderr).toContain("usage: botflow test");
    const out = await runCli(["test", "scenarios/", "--out", "x.xml"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("error: --out FILE is for the junit report: add --reporter junit");
    const missing = await runCli(["test", "nope.test.yaml", "scenarios/"]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toBe('nope.test.yaml: no such file or folder; check the path\nno case was run: fix the problems above ("botflow test --help" shows the format)\n');
    const empty = await runCli(["test", "engine/"]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("engine/: no test files (*.test.yaml) in this folder or below it");
    const help = await runCli(["test", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: botflow test [FILE|DIR...] [--reporter text|junit] [--out FILE]");
  });

  it("runs the test files below the current folder by default, scenarios found by path relative to the test file", async () => {
    const dir = path.join(tmp, "default");
    mkdirSync(path.join(dir, "flows/tests"), { recursive: true });
    writeFileSync(path.join(dir, "flows/csat.yaml"), readFileSync(path.join(ROOT, "scenarios/csat.yaml"), "utf8"));
    writeFileSync(path.join(dir, "flows/tests/by-path.test.yaml"), "- { name: by path, scenario: ../csat.yaml, steps: [{ tap: Skip }, { expect: { ended: true } }] }\n");
    writeFileSync(path.join(dir, "flows/tests/by-id.test.yaml"), "- { name: by id one folder up, scenario: csat, steps: [{ tap: '4' }, { expect: { vars: { quality_answer: 4 } } }] }\n");
    const r = await runCli(["test"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(["flows/tests/by-id.test.yaml", "  ✓ by id one folder up", "", "flows/tests/by-path.test.yaml", "  ✓ by path", "", "cases: 2 passed, 0 failed", ""].join("\n"));
    expect(r.code).toBe(0);
  });
});

describe("HTTP mocks", () => {
  const env = { BOTFLOW_HTTP_ALLOW_HOSTS: "crm.example", BOTFLOW_HTTP_ENV: "CRM_TOKEN", CRM_TOKEN: "s3cret-token" };

  it("answers http__request from the case's mock: steps (a 200 saved, a 404 taking on_error)", async () => {
    const r = await runCli(["test", `${FIX}/mocks.test.yaml`], { env });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe([`${FIX}/mocks.test.yaml`, "  ✓ a 200 answer is saved", "  ✓ a 404 takes on_error", "", "cases: 2 passed, 0 failed", ""].join("\n"));
    expect(r.code).toBe(0);
  });

  it("fails a case whose request no mock answers, naming it without the secret", async () => {
    const file = path.join(tmp, "unmocked.test.yaml");
    const scenario = path.join(ROOT, FIX, "order-lookup.yaml");
    writeFileSync(
      file,
      [
        `- name: no mock`,
        `  scenario: ${scenario}`,
        `  variables: { order_id: B 7 }`,
        `  steps:`,
        `    - mock: { url: "https://crm.example/orders/A-1?key=s3cret-token", status: 200, json: {} }`,
        `    - expect: { ended: true }`,
        "",
      ].join("\n"),
    );
    const r = await runCli(["test", file], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `    ${file}:1:3: start: http__request called GET https://crm.example/orders/B%207?key={{env.CRM_TOKEN}} with no mock answering it; add a mock: {url, method, status, json} step before this one (a test never reaches the network)\n`,
    );
    expect(r.stdout + r.stderr).not.toContain("s3cret-token");
  });

  it("loads the scenario with the environment's allowlist, as botflow serve does", async () => {
    const r = await runCli(["test", `${FIX}/mocks.test.yaml`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${FIX}/order-lookup.yaml:12:12: error: block "lookup" (http__request): host "crm.example" is not allowed: BOTFLOW_HTTP_ALLOW_HOSTS is empty`);
  });
});

describe("diffLines", () => {
  const same = (a: string, b: string): boolean => a === b;
  const show = { expected: (s: string) => s, actual: (s: string) => s };

  it("keeps common lines and puts what was expected above what came", () => {
    expect(diffLines(["1", "2", "Skip"], ["1", "2", "Skip it"], show, same)).toEqual(["  1", "  2", "- Skip", "+ Skip it"]);
    expect(diffLines(["a", "b", "c"], ["b", "c", "d"], show, same)).toEqual(["- a", "  b", "  c", "+ d"]);
    expect(diffLines([], ["x"], show, same)).toEqual(["+ x"]);
    expect(diffLines(["x"], [], show, same)).toEqual(["- x"]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
