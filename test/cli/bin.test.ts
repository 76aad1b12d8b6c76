/**
 * The real `node bin/botflow.js` as a child process: the bin registers tsx, finds the
 * commands, and maps their results to the process exit code.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./run-cli.ts";
import { removeDialogues, writeDialogues, type RunDialogue } from "./run-json.ts";

afterAll(removeDialogues);

function botflow(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/botflow.js", ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("bin/botflow.js", () => {
  it("validate: exit 0 on the example scenarios", async () => {
    const files = readdirSync(`${ROOT}/scenarios`).filter((f) => f.endsWith(".yaml")).map((f) => `scenarios/${f}`);
    const good = await botflow(["validate", ...files]);
    expect(good).toEqual({ code: 0, stdout: `${files.length} files: ${files.length} valid, 0 invalid (0 errors, 0 warnings)\n`, stderr: "" });
  });

  it("run --json prints one JSON document on stdout", async () => {
    const r = await botflow(["run", "scenarios/csat-emoji.yaml", "--dialogues", writeDialogues([[{ tap: "👍" }, "Great"]]), "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [d] = JSON.parse(r.stdout) as RunDialogue[];
    expect(d?.variables).toEqual({ quality_answer: 100, quality_comment: "Great" });
    expect(d?.ended).toBe(true);
  });

  it("chat reads piped stdin to its end and exits 0; a failing command exits 1, an unknown one 2", async () => {
    const chat = await botflow(["chat", "scenarios/csat-branching.yaml"], "2\nToo slow\n");
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain("bot: We are sorry to hear that. What went wrong?");
    expect(chat.stdout).toContain("[statistic__set queued survey: score 2, comment given]");
    const bad = await botflow(["validate", "test/cli/fixtures/bad-yaml.yaml"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^test\/cli\/fixtures\/bad-yaml\.yaml:[67]:\d+: error: YAML syntax/);
    const unknown = await botflow(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^botflow: unknown command "frobnicate"\. Commands: .*validate/);
  });
});
