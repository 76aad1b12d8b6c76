/**
 * What `botflow serve` writes on stdout: readable lines when stdout is a terminal (a real
 * pseudo-terminal through script(1)), JSON lines otherwise; per-request lines only at debug;
 * secrets and user text redacted in both formats.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, logFormatFor, prettyLine } from "../../app/logger.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

let hasScript = true;
try {
  execFileSync("script", ["-qec", "true", "/dev/null"], { stdio: "ignore" });
} catch {
  hasScript = false;
}

/** Starts `botflow serve` (through `script` for a terminal); resolves once it listens, with its base URL and output so far. */
async function startServe(o: { terminal: boolean; env?: Record<string, string> }) {
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-logs-"));
  dirs.push(dir);
  const argv = [path.join(ROOT, "bin/botflow.js"), "serve", "--port", "0", "--data-dir", path.join(dir, "data")];
  const env = { PATH: process.env.PATH ?? "", HOME: dir, BOTFLOW_WATCH: "false", BOTFLOW_TOKEN: "tok-SECRET-0123456789abcdef", ...o.env };
  const child = o.terminal
    ? spawn("script", ["-qfec", [process.execPath, ...argv].map((a) => `'${a}'`).join(" "), "/dev/null"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] })
    : spawn(process.execPath, argv, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const all = () => out.stdout + out.stderr;
  const deadline = Date.now() + 100_000;
  let base: string | undefined;
  while (!base) {
    base = /web chat:\s+(http:\/\/127\.0\.0\.1:\d+)\/chat/.exec(all())?.[1];
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start:\n${all()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // The node process itself (script's child on a terminal): its pid is in the data folder's lock.
  const pid = (JSON.parse(await readFile(path.join(dir, "data/.botflow-serve.lock"), "utf8")) as { pid: number }).pid;
  return {
    base,
    out,
    async stop() {
      process.kill(pid, "SIGTERM");
      return exited;
    },
  };
}

async function traffic(base: string): Promise<void> {
  for (const url of ["/chat?token=q-SECRET-456", "/healthz", "/api/stats/figures", "/dashboard"]) await (await fetch(base + url)).arrayBuffer();
}

describe("botflow serve's log lines", () => {
  it.skipIf(!hasScript)("are readable lines on a terminal, with no per-request line at info", { timeout: 120_000 }, async () => {
    const serve = await startServe({ terminal: true });
    await traffic(serve.base);
    expect(await serve.stop()).toBe(0);
    const lines = serve.out.stdout.split(/\r?\n/).filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l));
    expect(lines.find((l) => l.includes("botflow serve is listening"))).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \x1b\[32mINFO \x1b\[0m botflow serve is listening url=http:\/\/127\.0\.0\.1:\d+ mode=embedded scenario=csat /);
    expect(lines.some((l) => l.includes("shut down cleanly"))).toBe(true);
    expect(serve.out.stdout).not.toMatch(/^\{/m); // no JSON line
    expect(serve.out.stdout).not.toContain(" request ");
    expect(serve.out.stdout).not.toContain("SECRET");
  });

  it("are JSON lines when stdout is not a terminal; each request a debug line with its path, never its query", { timeout: 120_000 }, async () => {
    const serve = await startServe({ terminal: false, env: { BOTFLOW_LOG_LEVEL: "debug" } });
    await traffic(serve.base);
    expect(await serve.stop()).toBe(0);
    const entries = serve.out.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.find((e) => e.msg === "botflow serve is listening")).toMatchObject({ level: 30, mode: "embedded" });
    const requests = entries.filter((e) => e.msg === "request");
    expect(requests.map((e) => [e.level, e.path, e.status])).toEqual([
      [20, "/chat", 200],
      [20, "/api/stats/figures", 401],
      [20, "/dashboard", 401],
    ]); // /healthz only at trace
    expect(serve.out.stdout).not.toContain("SECRET");
  });
});

describe("the pretty format", () => {
  class Lines extends Writable {
    text = "";
    override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
      this.text += chunk.toString();
      done();
    }
  }

  it("redacts as the JSON does and shows fields, error summaries and nested values on one line", () => {
    const out = new Lines();
    const log = createLogger("info", out, { format: "pretty" });
    log.info({ conversationId: "web:1", comment: "my private words", token: "t0k", nested: { text: "hello", n: 2 } }, "survey stored");
    log.error({ err: { name: "ChannelError", message: "telegram sendMessage: 429", code: "CHANNEL_FAILED", status: 429 } }, "send failed");
    log.debug({}, "hidden at info");
    const lines = out.text.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  survey stored conversationId=web:1 comment=\[redacted\] token=\[redacted\] nested=\{"text":"\[redacted\]","n":2\}$/);
    expect(lines[1]).toMatch(/ ERROR send failed err="ChannelError: telegram sendMessage: 429 \(CHANNEL_FAILED, 429\)"$/);
    expect(out.text).not.toMatch(/private|t0k|hello/);
    expect(prettyLine("not json")).toBe("not json");
  });

  it("auto means pretty on a terminal only", () => {
    expect(logFormatFor("auto", { isTTY: true })).toBe("pretty");
    expect(logFormatFor("auto", new Lines())).toBe("json");
    expect(logFormatFor("json", { isTTY: true })).toBe("json");
    expect(logFormatFor("pretty", new Lines())).toBe("pretty");
  });
});
