/**
 * `botflow serve` as users run it: a child process started the way `npm start` does, with an
 * empty environment, and the in-process serve loop with signals sent by the test.
 */
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { App } from "../../app/compose.ts";
import { serveProcess, type ProcessHost } from "../../app/serve-process.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { storedDialogue } from "./app-harness.ts";
import { ChatClient, conversationIdOf } from "./ws-client.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), "botflow-serve-"));
  dirs.push(d);
  return d;
}

class Text extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("botflow serve as a child process", () => {
  // Opening a fresh PGlite data folder (initdb in WebAssembly) takes seconds, more on a busy machine.
  it("starts with no configuration, runs the CSAT survey over the WebSocket, and exits 0 on SIGTERM", { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), "serve"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, PORT: "0", BOTFLOW_DATA_DIR: path.join(dir, "data") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    try {
      const chatUrl = await new Promise<string>((resolve, reject) => {
        child.stderr.on("data", (d: Buffer) => {
          stderr += d.toString();
          const m = /web chat:\s+(http:\/\/127\.0\.0\.1:\d+\/chat)/.exec(stderr);
          if (m) resolve(m[1] as string);
        });
        void exited.then(() => reject(new Error(`serve exited before listening:\n${stderr}`)));
      });
      const base = chatUrl.replace(/\/chat$/, "");
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(chatUrl)).headers.get("content-type")).toBe("text/html; charset=utf-8");

      const c = await ChatClient.connect(base);
      c.send({ type: "hello" });
      const [hello] = await c.next();
      const conversationId = conversationIdOf(hello);
      c.send({ type: "start", id: "1" });
      expect((await c.next(2))[0]).toMatchObject({ promptId: "p1", text: expect.stringContaining("Please rate") });
      c.send({ type: "choice", id: "2", promptId: "p1", index: 3 });
      expect((await c.next(3)).map((f) => f.type)).toEqual(["edit", "message", "ack"]);
      c.send({ type: "text", id: "3", text: "child process comment" });
      expect(await c.next(3)).toEqual([
        { type: "edit", promptId: "p2", reason: "answered", answer: "child process comment" },
        { type: "message", text: "Thank you for your feedback!" },
        { type: "ack", id: "3", status: "processed" },
      ]);

      // The figures as the dashboard reads them, from the HTTP API.
      const figures = (await (await fetch(`${base}/api/stats/figures`)).json()) as Record<string, unknown>;
      expect(figures).toMatchObject({ surveys: 1, average: 4, distribution: { "4": 1 }, scale: "1-5", responseRate: 1 });
      const dialogues = (await (await fetch(`${base}/api/stats/dialogues?surveysOnly=1`)).json()) as { rows: unknown[] };
      expect(dialogues.rows).toEqual([expect.objectContaining({ conversationId, score: 4, comment: "child process comment" })]);
      expect(stderr).toContain(`dashboard: ${base}/dashboard`);

      const started = Date.now();
      child.kill("SIGTERM");
      expect(await c.closed()).toBe(1012);
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(5_000);

      const lines = stdout.trim().split("\n");
      const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["botflow serve is listening", "shut down cleanly"]));
      expect(logs.some((l) => l.conversation === conversationId)).toBe(true);
      expect(stdout).not.toContain("child process comment");

      // The survey outlived the process: it is in the PGlite folder the embedded default uses.
      const stored = await PgliteSurveyStore.open({ dataDir: path.join(dir, "data") });
      try {
        expect(await storedDialogue(stored, conversationId)).toMatchObject({ channel: "webchat", scenarioId: "csat", score: 4, comment: "child process comment", completed: true });
      } finally {
        await stored.close();
      }
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("exits 1 naming a configuration file that cannot be read", async () => {
    const dir = await tempDir();
    const stderr = new Text();
    const code = await serveProcess({ env: { BOTFLOW_CONFIG: "missing.env" }, cwd: dir, stdout: new Text(), stderr, host: new EventEmitter() as unknown as ProcessHost });
    expect(code).toBe(1);
    expect(stderr.text).toBe("configuration file missing.env cannot be read (ENOENT): check --config or BOTFLOW_CONFIG\n");
  });

  it("exits 1 with the problem on stderr when the configuration is wrong", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), "serve"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, PORT: "eighty", BOTFLOW_SCENARO: "csat" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain("unknown variable BOTFLOW_SCENARO: did you mean BOTFLOW_SCENARIO?");
    expect(stderr).toContain('PORT "eighty" is not a port');
  });
});

describe("serveProcess signals", () => {
  function fakeHost(): ProcessHost & EventEmitter & { exits: number[] } {
    const host = new EventEmitter() as EventEmitter & ProcessHost & { exits: number[] };
    host.exits = [];
    host.exit = (code: number) => void host.exits.push(code);
    return host;
  }

  it("finishes starting before it stops when SIGTERM arrives during the start, leaving the data folder whole", { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const host = fakeHost();
    let listened = false;
    const done = serveProcess({ env: { PORT: "0", BOTFLOW_WATCH: "false", BOTFLOW_LOG_LEVEL: "silent" }, cwd: dir, stdout: new Text(), stderr: new Text(), host, onListening: () => (listened = true) });
    host.emit("SIGTERM"); // while the configuration is read and PGlite created
    expect(await done).toBe(0);
    expect(listened).toBe(false);
    expect(host.listenerCount("SIGTERM")).toBe(0);
    const store = await PgliteSurveyStore.open({ dataDir: path.join(dir, "data") });
    try {
      expect(await store.listDialogues({ limit: 1 })).toEqual({ rows: [], nextCursor: null });
    } finally {
      await store.close();
    }
    await expect(readFile(path.join(dir, "data/.botflow-serve.lock"), "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("reloads scenarios on SIGHUP, keeps a second serve off its data folder and port, and shuts down cleanly on SIGINT", { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const scenarios = path.join(dir, "scenarios");
    await mkdir(scenarios);
    await copyFile(path.join(ROOT, "scenarios/csat.yaml"), path.join(scenarios, "csat.yaml"));
    await writeFile(path.join(dir, "serve.env"), "# test\nBOTFLOW_SCENARIOS_DIR=scenarios\nBOTFLOW_WATCH=false\n");
    const host = fakeHost();
    let app: App | undefined;
    let base = "";
    let exitCode: Promise<number> = Promise.resolve(-1);
    const listening = new Promise<void>((resolve) => {
      exitCode = serveProcess({
        // The scenario folder and the watch come from the configuration file (--config).
        configFile: "serve.env",
        env: { PORT: "0", BOTFLOW_LOG_LEVEL: "silent" },
        cwd: dir,
        stdout: new Text(),
        stderr: new Text(),
        host,
        onListening: (a, url) => {
          app = a;
          base = url;
          resolve();
        },
      });
    });
    await listening;
    const port = Number(new URL(base).port);
    const again = new Text();
    expect(await serveProcess({ env: { PORT: "0", BOTFLOW_WATCH: "false" }, cwd: dir, stdout: new Text(), stderr: again, host: fakeHost() })).toBe(1);
    expect(again.text).toContain(`data folder ${path.join(dir, "data")} is in use by process ${process.pid}: stop that botflow serve, or set BOTFLOW_DATA_DIR to another folder`);
    const taken = new Text();
    expect(await serveProcess({ env: { PORT: String(port), BOTFLOW_DATA_DIR: path.join(dir, "other") }, cwd: dir, stdout: new Text(), stderr: taken, host: fakeHost() })).toBe(1);
    expect(taken.text).toBe(`botflow serve cannot start: port ${port} on 127.0.0.1 is in use: stop the other process or set PORT\n`);

    const before = app?.scenarios.get("csat")?.version;
    const file = path.join(scenarios, "csat.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("Thank you for your feedback!", "Thanks a lot!"));
    host.emit("SIGHUP");
    await expect.poll(() => app?.scenarios.get("csat")?.version).not.toBe(before);
    expect(app?.scenarios.get("csat")?.def.blocks.thanks).toMatchObject({ text: { en: "Thanks a lot!" } });

    host.emit("SIGINT");
    expect(await exitCode).toBe(0);
    expect(host.listenerCount("SIGTERM") + host.listenerCount("SIGINT") + host.listenerCount("SIGHUP")).toBe(0);
  });
});
