/**
 * `botflow stats` and `botflow export` on a data folder a running `botflow serve` holds: the real
 * server as a child process (node bin/botflow.js serve, BOTFLOW_TOKEN set), the commands in-process
 * and as a child process, every output compared byte for byte with the same command reading the
 * store directly (before the server started and after it stopped). Then the lock's other states:
 * a dead holder's stale lock, a holder not listening yet, an older botflow's bare pid, another command.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { withStatsSource } from "../../cli/stats-source.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { expectedFigures, generateSurveys } from "../stats/figures-dataset.ts";
import { surveyEvent } from "../stats/store-harness.ts";
import { ROOT } from "./run-cli.ts";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([]), env, cwd: ROOT });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function botflowProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/botflow.js", ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const TOKEN = "stats-through-serve-token-0123456789";
const LOCK = ".botflow-serve.lock";
const plan = generateSurveys(300, 7);
const events = [
  ...plan.flatMap((p) => p.events),
  surveyEvent("dialogue_started", "trg-dialogue", { scenarioId: "triggered", dialogueStartedAt: Date.UTC(2026, 2, 20, 9), triggerId: "trg-1", context: { agent: "olena", ticket: "T-1" } }),
  surveyEvent("completed", "x-comment", { dialogueStartedAt: Date.UTC(2026, 2, 21, 9), score: 1, comment: '=HYPERLINK("http://evil","x"), line\r\ntwo' }),
  // More dialogues than one API page (500) holds, some at the same instant: the keyset cursor is exercised.
  ...Array.from({ length: 450 }, (_, i) => surveyEvent("dialogue_started", `bulk-${i}`, { scenarioId: "bulk", dialogueStartedAt: Date.UTC(2026, 1, 1) + (i % 150) * 60_000 })),
];
const DIALOGUES = plan.length + 2 + 450;

/** Every option of both commands at least once: period, zone, filters, dimensions, grouping, comparing, formats. */
const CASES: string[][] = [
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-15", "--tz", "America/New_York", "--json"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--scenario", "csat", "--channel", "teams", "--bot", "", "--json"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--dim", "team=billing", "--agent", "agent-1", "--json"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--team", "billing"],
  ["stats", "--from", "2026-03-10", "--to", "2026-03-20", "--compare"],
  ["stats", "--from", "2026-03-10", "--to", "2026-03-20", "--compare", "--json"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--group-by", "agent"],
  ["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--group-by", "team", "--limit", "2", "--json"],
  ["stats", "--from", "2026-03-01T06:00:00Z", "--to", "2026-03-09T18:00:00Z", "--json"],
  ["export", "--format", "csv"],
  ["export", "--format", "jsonl"],
  ["export", "--format", "csv", "--surveys-only", "--from", "2026-03-05", "--to", "2026-03-25", "--tz", "Europe/Kyiv", "--channel", "telegram"],
  ["export", "--format", "jsonl", "--trigger", "trg-1"],
  ["export", "--format", "jsonl", "--dim", "team=billing", "--scenario", "csat"],
];
/** Refused as asked: exit 2 with the same words, whoever answers (the last one by the store itself). */
const MISTAKES: [string[], string][] = [
  [["stats", "--tz", "Moon/Base"], '--tz "Moon/Base" is not an IANA time zone'],
  [["stats", "--limit", "3"], "--limit applies to grouped figures: give --group-by too"],
  [["export", "--format", "csv", "--trigger", "trg/1"], '--trigger "trg/1" must be a trigger id'],
  [["stats", "--from", "2001-01-01"], "is longer than the 3653 days (ten years) the figures cover"],
];

describe("botflow stats / export while botflow serve holds the data folder", () => {
  let dir: string;
  let serve: ChildProcess | undefined;
  const direct = new Map<string, string>();
  let serveStderr = "";
  const args = (c: string[]) => [...c, "--data-dir", dir];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "botflow-through-serve-"));
    const store = await PgliteSurveyStore.open({ dataDir: dir });
    await store.migrate();
    await store.apply(events);
    await store.close();
    for (const c of CASES) {
      const r = await cli(args(c));
      expect(r.stderr, c.join(" ")).toBe("");
      expect(r.code, c.join(" ")).toBe(0);
      direct.set(c.join(" "), r.stdout);
    }
  }, 120_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill("SIGKILL");
      await once(serve, "exit");
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("starts botflow serve on the folder, which records its address (no secret) in the lock", { timeout: 120_000 }, async () => {
    serve = spawn(process.execPath, ["bin/botflow.js", "serve", "--data-dir", dir, "--port", "0"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", BOTFLOW_TOKEN: TOKEN, BOTFLOW_WATCH: "false", BOTFLOW_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    serve.stderr!.on("data", (d: Buffer) => (serveStderr += d.toString()));
    serve.stdout!.resume();
    const deadline = Date.now() + 100_000;
    while (!serveStderr.includes("botflow is running")) {
      if (serve.exitCode !== null || Date.now() > deadline) throw new Error(`botflow serve did not start: ${serveStderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lock = JSON.parse(await readFile(path.join(dir, LOCK), "utf8")) as Record<string, unknown>;
    expect(lock).toEqual({ pid: serve.pid, command: "serve", url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(serveStderr).toContain(`web chat:  ${String(lock.url)}/chat`);
  });

  it("prints the same figures and rows through the server's API as from the store, for every option", { timeout: 120_000 }, async () => {
    for (const c of CASES) {
      const r = await cli(args(c), { BOTFLOW_TOKEN: TOKEN });
      expect(r.stderr, c.join(" ")).toBe("");
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toBe(direct.get(c.join(" ")));
    }
    // Not vacuous: the figures are the planned ones, the export holds every dialogue.
    const all = JSON.parse((await cli(args(["stats", "--from", "2026-03-01", "--to", "2026-03-31", "--json"]), { BOTFLOW_TOKEN: TOKEN })).stdout) as { surveys: number };
    expect(all.surveys).toBe(expectedFigures(plan).surveys + 1);
    expect(direct.get("export --format jsonl")!.trimEnd().split("\n")).toHaveLength(DIALOGUES);
  });

  it("works as a real process too, writing --out through its .partial file", { timeout: 60_000 }, async () => {
    const stats = await botflowProcess(args(["stats", "--from", "2026-03-01", "--to", "2026-03-31"]), { BOTFLOW_TOKEN: TOKEN });
    expect(stats).toEqual({ code: 0, stdout: direct.get("stats --from 2026-03-01 --to 2026-03-31"), stderr: "" });
    const out = path.join(dir, "out.csv");
    const exp = await botflowProcess(args(["export", "--format", "csv", "--out", out]), { BOTFLOW_TOKEN: TOKEN });
    expect(exp).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await readFile(out, "utf8")).toBe(direct.get("export --format csv"));
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it("says to set BOTFLOW_TOKEN when the server asks for it, and when the one given is wrong (exit 1)", { timeout: 60_000 }, async () => {
    const missing = await cli(args(["stats"]));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^botflow stats: botflow serve \(process \d+\) at http:\/\/127\.0\.0\.1:\d+ holds the data folder and asks for its token: set BOTFLOW_TOKEN in this environment to the value the server was started with\n$/);
    const wrong = await cli(args(["export", "--format", "csv"]), { BOTFLOW_TOKEN: "not-the-token" });
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr).toContain("refused BOTFLOW_TOKEN: it is not the token the server was started with");
    expect(wrong.stderr).not.toContain("not-the-token");
  });

  it("refuses mistakes as the store does (exit 2, the option named)", { timeout: 60_000 }, async () => {
    for (const [c, message] of MISTAKES) {
      const r = await cli(args(c), { BOTFLOW_TOKEN: TOKEN });
      expect(r.code, c.join(" ")).toBe(2);
      expect(r.stderr, c.join(" ")).toContain(message);
      expect(r.stdout).toBe("");
    }
  });

  it("reads the store itself again once the server stopped, and releases the folder", { timeout: 60_000 }, async () => {
    serve!.kill("SIGTERM");
    const [code] = (await once(serve!, "exit")) as [number | null];
    expect(code).toBe(0);
    expect(existsSync(path.join(dir, LOCK))).toBe(false);
    for (const c of [CASES[0]!, CASES[7]!, CASES[11]!]) {
      const r = await cli(args(c));
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toBe(direct.get(c.join(" ")));
    }
    for (const [c, message] of MISTAKES) {
      const r = await cli(args(c));
      expect(r.code, c.join(" ")).toBe(2);
      expect(r.stderr, c.join(" ")).toContain(message);
    }
    expect(existsSync(path.join(dir, LOCK))).toBe(false);
  });

  it("takes over a dead server's stale lock and reads the store", { timeout: 60_000 }, async () => {
    const dead = spawn(process.execPath, ["-e", "0"]);
    await once(dead, "exit");
    await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: dead.pid, command: "serve", url: "http://127.0.0.1:9" }));
    const r = await cli(args(CASES[1]!));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(direct.get(CASES[1]!.join(" ")));
    expect(existsSync(path.join(dir, LOCK))).toBe(false);
  });

  describe("a live holder with no address", () => {
    let holder: ChildProcess;
    beforeAll(() => {
      holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    });
    afterAll(async () => {
      if (holder.exitCode === null && holder.signalCode === null) {
        holder.kill();
        await once(holder, "exit");
      }
      await rm(path.join(dir, LOCK), { force: true });
    });

    it("waits for a starting server, then says it is not listening yet", { timeout: 30_000 }, async () => {
      await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: holder.pid, command: "serve" }));
      const started = Date.now();
      const io = { stdout: new Sink(), stderr: new Sink(), stdin: Readable.from([]), env: {}, cwd: ROOT };
      await expect(withStatsSource(io, { "data-dir": dir }, { command: "stats", startWaitMs: 1_000 }, async () => "read")).rejects.toThrow(
        `botflow serve (process ${holder.pid}) holds the data folder ${dir} but is not listening yet: run this again once it prints "botflow is running"`,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    });

    it("reads the store once a starting server it waited for is gone", { timeout: 30_000 }, async () => {
      await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: holder.pid, command: "serve" }));
      setTimeout(() => holder.kill(), 1_000);
      const r = await cli(args(CASES[0]!));
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(direct.get(CASES[0]!.join(" ")));
    });
  });

  it("names the holder that is not a server: another command, an older botflow's bare pid", { timeout: 30_000 }, async () => {
    const holder = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      await writeFile(path.join(dir, LOCK), JSON.stringify({ pid: holder.pid, command: "run" }));
      const run = await cli(args(["stats"]));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`botflow stats: the data folder ${dir} is in use by botflow run (process ${holder.pid}); the embedded store allows one process at a time: run this again when it has finished\n`);
      await writeFile(path.join(dir, LOCK), String(holder.pid));
      const old = await cli(args(["export", "--format", "csv"]));
      expect(old.code).toBe(1);
      expect(old.stderr).toContain(`is in use by process ${holder.pid}, a botflow older than this one that does not say where it listens`);
      expect(old.stdout).toBe("");
    } finally {
      holder.kill();
      await once(holder, "exit");
      await rm(path.join(dir, LOCK), { force: true });
    }
  });
});
