/**
 * The process-level error policy of a real `botflow serve` child process: a preload
 * (test/fixtures/process/raise-on-sigusr2.mjs) makes an error nothing catches on SIGUSR2. An
 * unhandled rejection is one JSON log line at error and the server keeps answering; an uncaught
 * exception is one line at fatal, then the graceful shutdown and exit code 1. Neither line
 * carries the secret in the error's message, nor a stack.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PRELOAD = pathToFileURL(path.join(ROOT, "test/fixtures/process/raise-on-sigusr2.mjs")).href;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

type LogLine = { level: number; msg: string; event?: string; role?: string; err?: { name: string; message: string }; stack?: unknown };

function logLines(stdout: string): LogLine[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);
}

describe("botflow serve with an error nothing catches", () => {
  // Opening a fresh PGlite data folder (initdb in WebAssembly) takes seconds, more on a busy machine.
  it("logs an unhandled rejection and keeps serving; logs an uncaught exception, shuts down and exits 1", { timeout: 120_000 }, async () => {
    dir = await mkdtemp(path.join(tmpdir(), "botflow-serve-errors-"));
    const child = spawn(process.execPath, ["--import", PRELOAD, path.join(ROOT, "bin/botflow.js"), "serve"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, PORT: "0", BOTFLOW_DATA_DIR: path.join(dir, "data"), BOTFLOW_WATCH: "false" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    try {
      const base = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
          const m = /health:\s+(http:\/\/127\.0\.0\.1:\d+)\/healthz/.exec(stderr);
          if (m) resolve(m[1] as string);
        });
        void exited.then(() => reject(new Error(`serve exited before listening:\n${stderr}`)));
      });

      child.kill("SIGUSR2"); // an unhandled rejection
      await vi.waitFor(() => expect(logLines(stdout).some((l) => l.event === "unhandledRejection")).toBe(true), { timeout: 10_000 });
      const rejection = logLines(stdout).find((l) => l.event === "unhandledRejection") as LogLine;
      expect(rejection).toMatchObject({
        level: 50,
        role: "serve",
        msg: expect.stringContaining("botflow keeps serving"),
        err: { name: "Error", message: "Target closed while re-injecting the page; token=[redacted]" },
      });
      // Still serving, and still the same process.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect(child.exitCode).toBeNull();

      child.kill("SIGUSR2"); // an uncaught exception
      const { code, signal } = await exited;
      expect({ code, signal }).toEqual({ code: 1, signal: null });
      const lines = logLines(stdout);
      const fatal = lines.find((l) => l.event === "uncaughtException") as LogLine;
      expect(fatal).toMatchObject({
        level: 60,
        role: "serve",
        msg: expect.stringContaining("exit code 1"),
        err: { name: "TypeError", message: "Cannot read properties of undefined (reading 'evaluate') password=[redacted]" },
      });
      // The fatal line came before the graceful shutdown's own lines, not instead of them.
      expect(lines.indexOf(fatal)).toBeLessThan(lines.length - 1);
      for (const l of [rejection, fatal]) expect(l.stack).toBeUndefined();
      expect(stdout + stderr).not.toMatch(/sekret-token-4242|hunter2-secret/);
      // Node's own crash report (a stack on stderr) never ran: the policy handled both.
      expect(stderr).not.toContain("    at ");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
