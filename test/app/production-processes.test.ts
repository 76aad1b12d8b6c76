/**
 * Production as ops run it: `botflow serve` and two `botflow worker` processes on the real
 * Redis and PostgreSQL, surveys streaming in over web chat sockets, then SIGTERM to every
 * process while surveys are in flight. Every survey whose last answer was acknowledged must
 * end up in PostgreSQL (a fresh worker drains what was still queued): none lost.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { productionEnv } from "../helpers/production-env.ts";
import { ChatClient, conversationIdOf } from "./ws-client.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function start(command: "serve" | "worker", env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), command], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const p: Proc = { child, stdout: "", stderr: "", exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout.on("data", (d: Buffer) => (p.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (p.stderr += d.toString()));
  cleanups.push(async () => void child.kill("SIGKILL"));
  return p;
}

async function waitFor(p: Proc, where: "stdout" | "stderr", re: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const m = re.exec(p[where]);
    if (m) return m;
    const exited = await Promise.race([p.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (exited && !re.exec(p[where])) throw new Error(`process exited before ${re}:\n${p.stderr}\n${p.stdout.slice(-2000)}`);
  }
}

/** Runs surveys one after another on fresh conversations until the server goes away; returns the acknowledged ones. */
async function surveyLoop(base: string, lane: number, done: Map<string, { score: number; comment: string }>, stop: { now: boolean }): Promise<void> {
  for (let n = 0; !stop.now; n++) {
    let c: ChatClient;
    try {
      c = await ChatClient.connect(base);
    } catch {
      return;
    }
    try {
      c.send({ type: "hello" });
      const id = conversationIdOf((await c.next())[0]);
      c.send({ type: "start", id: "s" });
      await c.next(2);
      const index = (lane + n) % 5;
      c.send({ type: "choice", id: "c", promptId: "p1", index });
      await c.next(3);
      const comment = `lane ${lane} survey ${n}`;
      c.send({ type: "text", id: "t", text: comment });
      const frames = await c.next(3);
      if (frames[2]?.type === "ack" && frames[2].status === "processed") done.set(id, { score: index + 1, comment });
    } catch {
      return; // the server shut down mid-survey: that survey was never acknowledged
    } finally {
      c.close();
    }
  }
}

describe("serve + two workers on Redis and PostgreSQL", () => {
  it("loses no acknowledged survey when every process gets SIGTERM with surveys in flight", { timeout: 180_000 }, async () => {
    const prod = productionEnv();
    const id = prod.id;
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-prod-"));
    const env = prod.env;
    cleanups.push(async () => {
      await rm(dir, { recursive: true, force: true });
      await prod.cleanup();
    });

    const serve = start("serve", { ...env, PORT: "0", BOTFLOW_DATA_DIR: path.join(dir, "data") });
    const workers = [start("worker", env), start("worker", env)];
    const base = (await waitFor(serve, "stderr", /web chat:\s+(http:\/\/127\.0\.0\.1:\d+)\/chat/))[1] as string;
    for (const w of workers) await waitFor(w, "stdout", /survey worker started/);

    const done = new Map<string, { score: number; comment: string }>();
    const stop = { now: false };
    const lanes = Array.from({ length: 6 }, (_, lane) => surveyLoop(base, lane, done, stop));
    await expect.poll(() => done.size, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(30);

    // Surveys are mid-flight in every lane now: stop everything at once.
    for (const p of [serve, ...workers]) p.child.kill("SIGTERM");
    stop.now = true;
    const codes = await Promise.all([serve, ...workers].map((p) => p.exited));
    await Promise.all(lanes);
    expect(codes, `${serve.stderr}\n${workers.map((w) => w.stderr).join("\n")}`).toEqual([0, 0, 0]);

    // A fresh worker drains whatever was still queued; then PostgreSQL holds every acknowledged survey.
    const drain = start("worker", env);
    await waitFor(drain, "stdout", /survey worker started/);
    const store = new PgSurveyStore({ connectionString: DATABASE_URL, schema: env.BOTFLOW_DB_SCHEMA });
    cleanups.push(() => store.close());
    const completed = async () => {
      const rows = (await store.listDialogues({ limit: 10_000, surveysOnly: true })).rows;
      return new Map(rows.map((r) => [r.conversationId, { score: r.score, comment: r.comment }]));
    };
    const missing = async () => {
      const stored = await completed();
      return [...done.keys()].filter((k) => !stored.has(k)).length;
    };
    await expect.poll(missing, { timeout: 30_000, interval: 200 }).toBe(0);
    const stored = await completed();
    for (const [conversation, want] of done) expect(stored.get(conversation)).toEqual(want);
    drain.child.kill("SIGTERM");
    expect(await drain.exited).toBe(0);
    expect(serve.stdout).not.toContain("lane 0 survey");
  });
});
