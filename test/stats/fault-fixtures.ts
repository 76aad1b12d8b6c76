/**
 * What the fault tests share: a generated stream of survey events with its expected totals
 * computed here, independently of the store; `botflow worker` as a real child process; and
 * polling on conditions (queue counts), never on elapsed time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Redis } from "ioredis";
import type { SurveyEvent } from "../../stats/events.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const REDIS_URL = "redis://127.0.0.1:6379";
export const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const T0 = Date.UTC(2026, 0, 1);

/** Events per survey of each shape. */
const SHAPE_SIZE = [5, 4, 3, 1] as const;

export interface ExpectedTotals {
  dialogues: number;
  offered: number;
  answered: number;
  declined: number;
  surveys: number;
  rated: number;
  commented: number;
  distribution: Record<string, number>;
  scoreSum: number;
}

/**
 * Exactly `n` events from whole surveys of four shapes, cycling: rated with a comment
 * (5 events), rated without (4), declined (3), never offered (1). Comments contain
 * "secret" so a test can check they never reach the logs.
 */
export function generateSurveys(n: number, tag: string): { events: SurveyEvent[]; expected: ExpectedTotals } {
  const events: SurveyEvent[] = [];
  const x: ExpectedTotals = { dialogues: 0, offered: 0, answered: 0, declined: 0, surveys: 0, rated: 0, commented: 0, distribution: {}, scoreSum: 0 };
  for (let i = 0; events.length < n; i++) {
    const left = n - events.length;
    let shape = i % 4;
    while ((SHAPE_SIZE[shape] as number) > left) shape++; // the last surveys shrink to fit exactly n
    const startedAt = T0 + (i % 28) * 86_400_000 + (i % 86_400) * 1000;
    const base = { surveyId: `${tag}-${i}`, scenarioId: "csat", scenarioVersion: "v1", channel: i % 3 === 0 ? "teams" : "telegram", botId: "", conversationId: `c${i}`, dialogueStartedAt: startedAt };
    const score = (i % 5) + 1;
    events.push({ ...base, kind: "dialogue_started", at: startedAt });
    x.dialogues++;
    if (shape === 3) continue;
    events.push({ ...base, kind: "offered", at: startedAt + 1_000, scale: { min: 1, max: 5 } });
    x.offered++;
    if (shape === 2) {
      events.push({ ...base, kind: "declined", at: startedAt + 2_000, reason: "skipped" });
      x.declined++;
      continue;
    }
    events.push({ ...base, kind: "answered", at: startedAt + 2_000, score });
    x.answered++;
    const comment = shape === 0 ? `secret remark ${i}` : "";
    if (comment) {
      events.push({ ...base, kind: "commented", at: startedAt + 3_000, comment });
      x.commented++;
    }
    events.push({ ...base, kind: "completed", at: startedAt + 4_000, score, comment });
    x.surveys++;
    x.rated++;
    x.scoreSum += score;
    x.distribution[String(score)] = (x.distribution[String(score)] ?? 0) + 1;
  }
  return { events, expected: x };
}

/** A `botflow worker` child process with its output collected. */
export class WorkerProcess {
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), "worker", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  async started(timeoutMs = 30_000): Promise<void> {
    await waitUntil(() => this.output.includes("survey worker started") || this.child.exitCode !== null, timeoutMs, "the worker to start");
    if (this.child.exitCode !== null) throw new Error(`botflow worker exited with ${this.child.exitCode} at start:\n${this.output}`);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Polls `cond` every 50 ms until it holds; throws after `timeoutMs` saying what was awaited. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function deleteKeys(r: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await r.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await r.del(...keys);
  } while (cursor !== "0");
}
