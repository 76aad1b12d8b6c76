/**
 * `botflow run`: usage errors, DIALOGUES.json shape errors, taps that match nothing, and the
 * readable transcript.
 */
import { afterAll, describe, expect, it } from "vitest";
import { parseDialogues } from "../../cli/dialogues.ts";
import { runCli } from "./run-cli.ts";
import { removeDialogues, runJson, writeDialogues } from "./run-json.ts";

afterAll(removeDialogues);

describe("botflow run: arguments", () => {
  it("exits 2 when --dialogues or the scenario file is missing, or --locale is malformed", async () => {
    const noDialogues = await runCli(["run", "scenarios/csat.yaml"]);
    expect(noDialogues.code).toBe(2);
    expect(noDialogues.stderr).toContain("error: --dialogues DIALOGUES.json is required");
    expect(noDialogues.stderr).toContain("usage: botflow run FILE --dialogues DIALOGUES.json");

    const file = writeDialogues([["4"]]);
    const noFile = await runCli(["run", "--dialogues", file]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("error: no scenario file given");

    const two = await runCli(["run", "scenarios/csat.yaml", "scenarios/csat-emoji.yaml", "--dialogues", file]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("one scenario file at a time; got 2");

    const locale = await runCli(["run", "scenarios/csat.yaml", "--dialogues", file, "--locale", "Ukrainian"]);
    expect(locale.code).toBe(2);
    expect(locale.stderr).toContain('--locale must look like en, uk or pt-BR; got "Ukrainian"');
  });

  it("exits 1 naming the file when the scenario or DIALOGUES.json cannot be read", async () => {
    const file = writeDialogues([["4"]]);
    const noScenario = await runCli(["run", "scenarios/nope.yaml", "--dialogues", file]);
    expect(noScenario).toEqual({ code: 1, stdout: "", stderr: "scenarios/nope.yaml: no such file; check the path\n" });

    const noDialogues = await runCli(["run", "scenarios/csat.yaml", "--dialogues", "nope.json"]);
    expect(noDialogues).toEqual({ code: 1, stdout: "", stderr: "nope.json: no such file; check the path\n" });

    const bad = writeDialogues("[[\"4\"");
    const notJson = await runCli(["run", "scenarios/csat.yaml", "--dialogues", bad]);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^.*dialogues-\d+\.json: not valid JSON \(.+\)\n$/);
  });

  it("reads DIALOGUES.json from stdin with --dialogues -", async () => {
    const r = await runCli(["run", "scenarios/csat.yaml", "--dialogues", "-", "--json"], { stdin: JSON.stringify([["5", "Great"]]) });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { variables: unknown }[])[0]?.variables).toEqual({ quality_answer: 5, quality_comment: "Great" });
    const bad = await runCli(["run", "scenarios/csat.yaml", "--dialogues", "-"], { stdin: "[[7]]" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('stdin: dialogue 1, turn 1: a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}; got 7\n');
  });

  it("refuses an invalid scenario with its problems as file:line:col and runs nothing", async () => {
    const r = await runCli(["run", "test/cli/fixtures/broken-graph.yaml", "--dialogues", writeDialogues([["1"]]), "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:12:11: error: /m);
    expect(r.stderr).toContain('run "botflow validate test/cli/fixtures/broken-graph.yaml" after fixing them');
  });
});

describe("DIALOGUES.json shape", () => {
  it("names the dialogue and the turn of every malformed turn", () => {
    const r = parseDialogues(
      [
        ["4", 5, { tap: "4", extra: 1 }],
        { name: "x", locale: "Ukrainian", turns: [{ wait: "soon" }, { tap: "" }, { tap: "4", prompt: 0 }] },
        "4",
        { turns: [], colour: "red" },
        [{ prompt: "previous" }, { tap: 1, wait: 1 }],
      ],
      "d.json",
    );
    expect(r).toEqual({
      ok: false,
      errors: [
        'd.json: dialogue 1, turn 2: a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}; got 5',
        'd.json: dialogue 1, turn 3: a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}; got {"tap":"4","extra":1}',
        'd.json: dialogue 2: "locale" must be a locale such as "en", "uk" or "pt-BR"; got "Ukrainian"',
        'd.json: dialogue 2, turn 1: "wait" must be seconds (a positive number) or a duration such as "90s", "10m", "24h"; got "soon"',
        'd.json: dialogue 2, turn 2: "tap" must be a button\'s label or value (a non-empty string or a number); got ""',
        'd.json: dialogue 2, turn 3: "prompt" must be "current", "previous" or the number of a question shown earlier (1 = the first); got 0',
        'd.json: dialogue 3: must be an array of turns (or {"turns": [...]}); got "4"',
        'd.json: dialogue 4: unknown key "colour"; a dialogue is an array of turns or {"name", "locale", "variables", "turns"}',
        'd.json: dialogue 5, turn 1: a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}; got {"prompt":"previous"}',
        'd.json: dialogue 5, turn 2: a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}; got {"tap":1,"wait":1}',
      ],
    });
  });

  it("takes a dialogue's start variables by the runtime's bounds, naming each one refused", () => {
    expect(parseDialogues([{ variables: { agent: "Olena", ticket: 1042 }, turns: [] }], "d.json")).toEqual({ ok: true, dialogues: [{ variables: { agent: "Olena", ticket: 1042 }, turns: [] }] });
    expect(parseDialogues([{ variables: ["agent"], turns: [] }, { variables: { "bad name": "x", agent: { name: "Olena" } }, turns: [] }], "d.json")).toEqual({
      ok: false,
      errors: [
        'd.json: dialogue 1: "variables" must be an object of start variables such as {"agent": "Olena"}; got ["agent"]',
        'd.json: dialogue 2: variable "bad name" is not a variable name (letters, digits and _, starting with a letter or _)',
        'd.json: dialogue 2: variable "agent" must be a string of at most 1000 characters or a number; got {"name":"Olena"}',
      ],
    });
  });

  it("refuses a document that is not a non-empty array", () => {
    expect(parseDialogues({ dialogues: [] }, "d.json")).toEqual({ ok: false, errors: ['d.json: must be an array of dialogues, each an array of turns; got {"dialogues":[]}'] });
    expect(parseDialogues([], "d.json")).toEqual({ ok: false, errors: ['d.json: no dialogues; add at least one, e.g. [["4", "Fast and friendly"]]'] });
  });

  it("accepts every turn form", () => {
    const r = parseDialogues([["4", { tap: 4 }, { tap: "Skip", prompt: "previous" }, { tap: "1", prompt: 2 }, { wait: 90 }, { wait: "10m" }], { name: "n", locale: "pt-BR", turns: [] }], "d.json");
    expect(r).toEqual({
      ok: true,
      dialogues: [
        {
          turns: [
            { type: "text", text: "4" },
            { type: "tap", tap: 4, prompt: "current" },
            { type: "tap", tap: "Skip", prompt: "previous" },
            { type: "tap", tap: "1", prompt: 2 },
            { type: "wait", ms: 90_000, after: "90s" },
            { type: "wait", ms: 600_000, after: "10m" },
          ],
        },
        { name: "n", locale: "pt-BR", turns: [] },
      ],
    });
  });

  it("prints shape errors to stderr and exits 1 without running any dialogue", async () => {
    const r = await runJson("csat", [["4"], [42]]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/dialogues-\d+\.json: dialogue 2, turn 1: a turn is typed text .*; got 42\n$/);
  });
});

describe("taps that match no button", () => {
  it("stop that dialogue with a clear error, run the others, and exit 1", async () => {
    const r = await runJson("csat", [[{ tap: "7" }], ["4", "Fine"]]);
    expect(r.code).toBe(1);
    const [bad, good] = r.dialogues;
    const message =
      'dialogue 1, turn 1: tap "7" matches no button of the open question (buttons: "1" = 1, "2" = 2, "3" = 3, "4" = 4, "5" = 5, "Skip" (skip))';
    expect(bad?.error).toBe(message);
    expect(bad?.ended).toBe(false);
    expect(bad?.messages).toHaveLength(1);
    expect(r.stderr).toBe(`${r.stderr.split(":")[0]}: ${message}\n`);
    expect(good?.error).toBeUndefined();
    expect(good?.variables).toEqual({ quality_answer: 4, quality_comment: "Fine" });
  });

  it("explain when no question is open or no earlier keyboard exists", async () => {
    const r = await runJson("csat-branching", [
      [{ tap: "5" }, { tap: "5" }],
      [{ tap: "5", prompt: "previous" }],
      [{ tap: "5", prompt: 3 }],
      [{ tap: "3" }, { tap: "3" }],
    ]);
    expect(r.dialogues.map((d) => d.error)).toEqual([
      'dialogue 1, turn 2: tap "5": no question is open (the dialogue has ended); to tap an old keyboard add "prompt": "previous"',
      'dialogue 2, turn 1: tap "5": no question was shown before the open one',
      'dialogue 3, turn 1: tap "5": only 1 question(s) were shown so far',
      'dialogue 4, turn 2: tap "3" matches no button of the open question (buttons: "No comment" (skip))',
    ]);
  });
});

describe("botflow run: readable transcript", () => {
  it("shows bot messages with numbered buttons, the user's turns, actions without comment text, and the outcome", async () => {
    const file = writeDialogues([{ name: "happy path", turns: [{ tap: "4" }, { tap: "4", prompt: "previous" }, "Secret words"] }, [{ wait: "25h" }]]);
    const r = await runCli(["run", "scenarios/csat.yaml", "--dialogues", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "── dialogue 1: happy path ──",
        "bot: Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
        "     [1] 1  [2] 2  [3] 3  [4] 4  [5] 5",
        "     [6] Skip",
        'you: [tap "4"]',
        "bot: Thank you! Would you like to add a comment to your rating?",
        "     [1] No comment",
        'you: [tap "4" on the previous keyboard]',
        "     (ignored: that keyboard is no longer active)",
        "you: Secret words",
        "     [statistic__set queued survey: score 4, comment given]",
        "bot: Thank you for your feedback!",
        'ended; variables: quality_answer=4, quality_comment="Secret words"',
        "",
        "── dialogue 2 ──",
        "bot: Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
        "     [1] 1  [2] 2  [3] 3  [4] 4  [5] 5",
        "     [6] Skip",
        "… 25h pass …",
        "     (no answer in time: the question timed out)",
        "ended; variables: (none)",
        "",
        "2 dialogues: 2 ran, 0 failed",
        "",
      ].join("\n"),
    );
  });
});
