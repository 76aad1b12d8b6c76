/**
 * The production outbox across a real SIGKILL: a child process adds a delayed trigger and is
 * killed before it is due (no close, no drain, its socket cut by the kernel); an outbox opened
 * afterwards on the same prefix runs it at its time, once, and a recover()-style re-add of it is
 * refused. test/triggers/outbox-contract.test.ts simulates the same with a dropped connection.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { BullmqOutbox } from "../../triggers/bullmq-outbox.ts";
import type { OutboxJob } from "../../triggers/outbox.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "outbox-sigkill-child.ts");
const prefix = `botflow-test-outbox-kill-${randomUUID()}`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });

afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  await redis.quit();
});

/** Starts the child, waits for its "added" line, SIGKILLs it at once and waits for the exit. */
async function addThenKill(id: string, delayMs: number): Promise<{ added: boolean; runAt: number; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, REDIS_URL, prefix, id, String(delayMs)], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const [, added, runAt] = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      const m = /^added (true|false) (\d+)$/m.exec(stdout);
      if (m) resolve(m);
    });
    void exited.then(() => reject(new Error(`the child exited before adding:\n${stderr}`)));
  });
  child.kill("SIGKILL");
  return { added: added === "true", runAt: Number(runAt), signal: await exited };
}

it("a delayed trigger added by a process killed with SIGKILL runs once, at its time, in the next process", async () => {
  const { added, runAt, signal } = await addThenKill("survivor", 1_000);
  expect({ added, signal }).toEqual({ added: true, signal: "SIGKILL" });
  expect(Date.now()).toBeLessThan(runAt); // killed before it was due

  const outbox = new BullmqOutbox({ connection: redis, prefix, channels: ["telegram"], settings: { attempts: 3, baseMs: 30, capMs: 300 } });
  try {
    const runs: { job: OutboxJob; at: number }[] = [];
    outbox.start({ handle: async (job) => void runs.push({ job, at: Date.now() }), failed: async () => {} });
    expect(await outbox.add({ id: "survivor", channel: "telegram", runAt, payload: { triggerId: "survivor" } })).toEqual({ added: false });
    expect(await outbox.counts()).toMatchObject({ delayed: 1, active: 0, dead: 0 });
    while (runs.length === 0 && Date.now() < runAt + 5_000) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300)); // room for a second run, which must not come
    expect(runs.map((r) => [r.job.id, r.job.attempt, r.job.payload.triggerId])).toEqual([["survivor", 1, "survivor"]]);
    expect(runs[0]?.at ?? 0).toBeGreaterThanOrEqual(runAt - 10);
    expect(await outbox.counts()).toEqual({ waiting: 0, delayed: 0, active: 0, dead: 0 });
  } finally {
    await outbox.close();
  }
});
