/**
 * `botflow chat` with piped input: each line is echoed as "you: ...", typed text reaches the
 * engine exactly as a messenger's text would, and "/" lines are chat commands.
 */
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

const RATING = [
  "bot: Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
  "     [1] 1  [2] 2  [3] 3  [4] 4  [5] 5",
  "     [6] Skip",
];

async function chat(file: string, input: string[], args: string[] = []): Promise<{ code: number; lines: string[]; stderr: string }> {
  const r = await runCli(["chat", file, ...args], { stdin: input.map((l) => `${l}\n`).join("") });
  return { code: r.code, lines: r.stdout.split("\n"), stderr: r.stderr };
}

describe("botflow chat", () => {
  it("runs a whole survey from piped input: typed digit, comment, the action line without the comment", async () => {
    const r = await chat("scenarios/csat.yaml", ["4", "My secret comment", "/vars"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.lines).toEqual([
      "Chatting with csat — Customer satisfaction survey; locale en. /help lists the chat commands.",
      ...RATING,
      "you: 4",
      "bot: Thank you! Would you like to add a comment to your rating?",
      "     [1] No comment",
      "you: My secret comment",
      "     [statistic__set queued survey: score 4, comment given]",
      "bot: Thank you for your feedback!",
      "(the dialogue has ended; /restart to start again, /quit to leave)",
      "you: /vars",
      'variables: quality_answer=4, quality_comment="My secret comment"',
      "",
    ]);
    expect(r.lines.filter((l) => l.includes("My secret comment"))).toHaveLength(2); // the echo and /vars, never the action line
  });

  it("/tap N taps the Nth button as numbered, including the skip button a typed number cannot reach", async () => {
    const r = await chat("scenarios/csat.yaml", ["6", "/tap 6"]);
    expect(r.lines).toEqual([
      expect.stringMatching(/^Chatting with csat/),
      ...RATING,
      "you: 6",
      "bot: Please tap a number from 1 to 5, or type it.",
      "     [1] 1  [2] 2  [3] 3  [4] 4  [5] 5",
      "     [6] Skip",
      "you: /tap 6",
      "bot: No problem. Thank you for your time!",
      "(the dialogue has ended; /restart to start again, /quit to leave)",
      "",
    ]);
  });

  it("answers emoji keyboards by tap and by typed emoji, in the locale asked for", async () => {
    const r = await chat("scenarios/csat-emoji.yaml", ["👎", "/tap 1", "/vars"], ["--locale", "uk"]);
    expect(r.lines).toEqual([
      "Chatting with csat_emoji — Customer satisfaction survey (thumbs up / down); locale uk. /help lists the chat commands.",
      "bot: Чи задоволені ви нашим обслуговуванням сьогодні?",
      "     [1] 👍  [2] 👎",
      "     [3] Пропустити",
      "you: 👎",
      "bot: Дякуємо! Бажаєте розповісти більше? Напишіть коментар або натисніть «Без коментаря».",
      "     [1] Без коментаря",
      "you: /tap 1",
      "     [statistic__set queued survey: score 0, no comment]",
      "bot: Дякуємо за ваш відгук!",
      "(the dialogue has ended; /restart to start again, /quit to leave)",
      "you: /vars",
      "variables: quality_answer=0",
      "",
    ]);
  });

  it("/restart starts again, /wait fires the timeout, /quit stops reading", async () => {
    const r = await chat("scenarios/csat-branching.yaml", ["5", "/restart", "/wait 24h", "/quit", "1"]);
    const out = r.lines.join("\n");
    expect(r.code).toBe(0);
    expect(out).toContain("you: 5\n     [statistic__set queued survey: score 5, no comment]\nbot: Thank you for your feedback!");
    expect(out).toContain("you: /wait 24h\n… 24h pass …\n     (no answer in time: the question timed out)\n(the dialogue has ended;");
    expect(r.lines.filter((l) => l.startsWith("bot: How would you rate"))).toHaveLength(2);
    expect(r.lines.at(-2)).toBe("you: /quit");
    expect(out).not.toContain("you: 1");
  });

  it("explains chat-command mistakes and says when input arrives after the end", async () => {
    const r = await chat("scenarios/csat-branching.yaml", ["/tap 9", "/tap", "/wait soon", "/frob", "/help", "//4", "4", "hello", "/tap 1"]);
    const out = r.lines.join("\n");
    expect(out).toContain("you: /tap 9\nusage: /tap N with N from 1 to 6");
    expect(out).toContain("you: /tap\nusage: /tap N with N from 1 to 6");
    expect(out).toContain("you: /wait soon\nusage: /wait DURATION");
    expect(out).toContain("you: /frob\nunknown chat command /frob; /help lists them");
    expect(out).toContain("you: /help\n  /tap N ");
    // "//4" sends the text "/4", which is no button: the question is asked again.
    expect(out).toContain("you: //4\nbot: Please tap a number from 1 to 5, or type it.");
    expect(out).toContain("you: hello\n     (ignored: no dialogue in progress)");
    expect(out).toContain("you: /tap 1\nno question is open; /restart to start again");
  });

  it("prints the scenario's problems and exits 1 when it does not load; 2 without a file", async () => {
    const bad = await chat("test/cli/fixtures/broken-graph.yaml", []);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:12:11: error: /m);
    const none = await runCli(["chat"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: botflow chat FILE [--locale xx]");
  });
});

describe("botflow chat with goto_scenario", () => {
  it("loads the scenario it hands over to from its folder: support ends and the CSAT survey asks in the same turn", async () => {
    const r = await chat("scenarios/support.yaml", ["1", "/vars"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const at = r.lines.indexOf("you: 1");
    expect(r.lines.slice(at + 1, at + 5)).toEqual(["bot: Thanks, your billing question is with our team: we have sent you the details by email.", ...RATING]);
    expect(r.lines).toContain('variables: topic="billing"');
  });
});
