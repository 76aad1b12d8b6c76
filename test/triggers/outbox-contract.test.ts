/**
 * The trigger outbox contract, run against both implementations: the in-process outbox (embedded
 * default) and BullMQ on the real Redis (production, one prefix per run, deleted after). Then what
 * only Redis can show: a job outlives the process that added it and runs once on the next.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChannelError } from "../../engine/errors.ts";
import { BullmqOutbox } from "../../triggers/bullmq-outbox.ts";
import { InProcessOutbox } from "../../triggers/in-process-outbox.ts";
import { OutboxClosedError, type Outbox, type OutboxJob, type OutboxSettings } from "../../triggers/outbox.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const SETTINGS: Partial<OutboxSettings> = { attempts: 3, baseMs: 30, capMs: 300, concurrency: 2 };
const prefix = `botflow-test-outbox-${randomUUID()}`;
let redis: Redis;
const opened: Outbox[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});
afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  await redis.quit();
});

type Make = (settings?: Partial<OutboxSettings>) => Outbox;
const implementations: [string, Make][] = [
  ["in-process", (settings) => new InProcessOutbox({ settings: { ...SETTINGS, ...settings }, random: () => 1 })],
  ["BullMQ", (settings) => new BullmqOutbox({ connection: redis, prefix: `${prefix}-${randomUUID()}`, channels: ["telegram", "teams"], settings: { ...SETTINGS, ...settings }, random: () => 1 })],
];

/** What the handlers saw, with helpers to wait for it. */
function recorder(behaviour: (job: OutboxJob) => Promise<void> = async () => {}) {
  const runs: { id: string; attempt: number; at: number }[] = [];
  const failed: { id: string; reason: string }[] = [];
  return {
    runs,
    failed,
    handlers: {
      handle: async (job: OutboxJob) => {
        runs.push({ id: job.id, attempt: job.attempt, at: Date.now() });
        await behaviour(job);
      },
      failed: async (job: OutboxJob, reason: string) => void failed.push({ id: job.id, reason }),
    },
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

const entry = (id: string, channel = "telegram", runAt?: number) => ({ id, channel, payload: { triggerId: id }, ...(runAt !== undefined ? { runAt } : {}) });

describe.each(implementations)("trigger outbox contract: %s", (_name, make) => {
  const open = (settings?: Partial<OutboxSettings>) => {
    const o = make(settings);
    opened.push(o);
    return o;
  };

  it("runs a job added for now, and a delayed one at its time, not before", async () => {
    const outbox = open();
    const r = recorder();
    outbox.start(r.handlers);
    const t0 = Date.now();
    await outbox.add(entry("now"));
    await outbox.add(entry("later", "telegram", t0 + 400));
    await until(() => r.runs.length === 2);
    const later = r.runs.find((x) => x.id === "later");
    expect(r.runs.map((x) => x.id)).toEqual(["now", "later"]);
    expect((later?.at ?? 0) - t0).toBeGreaterThanOrEqual(390);
  });

  it("adds a trigger once, however often and however concurrently it is added", async () => {
    const outbox = open();
    const r = recorder();
    await Promise.all([outbox.add(entry("dup", "telegram", Date.now() + 100)), outbox.add(entry("dup", "telegram", Date.now() + 100))]);
    expect(await outbox.add(entry("dup"))).toEqual({ added: false });
    outbox.start(r.handlers);
    await until(() => r.runs.length >= 1);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.runs.map((x) => x.id)).toEqual(["dup"]);
    expect(await outbox.add(entry("dup"))).toEqual({ added: false }); // done jobs are remembered too
  });

  it("retries a failure after the backoff, at least the messenger's retry_after, then succeeds", async () => {
    const outbox = open();
    let calls = 0;
    const r = recorder(async () => {
      calls++;
      if (calls === 1) throw new Error("connection reset");
      if (calls === 2) throw new ChannelError("telegram", "sendMessage", "429: retry after 1", { status: 429, retryable: true, retryAfterMs: 250 });
    });
    outbox.start(r.handlers);
    await outbox.add(entry("flaky"));
    await until(() => r.runs.length === 3);
    const [a, b, c] = r.runs as unknown as [{ at: number; attempt: number }, { at: number; attempt: number }, { at: number; attempt: number }];
    expect([a.attempt, b.attempt, c.attempt]).toEqual([1, 2, 3]);
    expect(b.at - a.at).toBeGreaterThanOrEqual(25); // baseMs 30 with full jitter at its ceiling
    expect(c.at - b.at).toBeGreaterThanOrEqual(240); // retry_after 250 wins over the 60 ms backoff
    await new Promise((res) => setTimeout(res, 100));
    expect(r.failed).toEqual([]);
    expect((await outbox.counts()).dead).toBe(0);
  });

  it("gives up after the attempts: failed() hears once, the job waits in the dead letter, and retryDead runs it again", async () => {
    const outbox = open();
    let healthy = false;
    const r = recorder(async () => {
      if (!healthy) throw new Error("503 from the messenger");
    });
    outbox.start(r.handlers);
    await outbox.add(entry("doomed", "teams"));
    await until(() => r.failed.length === 1);
    expect(r.runs.map((x) => x.attempt)).toEqual([1, 2, 3]);
    expect(r.failed[0]).toEqual({ id: "doomed", reason: "gave up after 3 attempts: 503 from the messenger" });
    await until(() => r.failed.length === 1 && r.runs.length === 3);
    const dead = await outbox.deadLetters(10);
    expect(dead.map((d) => [d.id, d.channel])).toEqual([["doomed", "teams"]]);
    expect((await outbox.counts()).dead).toBe(1);
    healthy = true;
    expect(await outbox.retryDead("doomed")).toBe(true);
    expect(await outbox.retryDead("no-such-trigger")).toBe(false);
    await until(() => r.runs.length === 4);
    expect(r.failed).toHaveLength(1);
  });

  it("does not retry a permanent failure (a recipient who blocked the bot)", async () => {
    const outbox = open();
    const r = recorder(async () => {
      throw new ChannelError("telegram", "sendMessage", "403: bot was blocked by the user", { status: 403, retryable: false, recipient: "blocked" });
    });
    outbox.start(r.handlers);
    await outbox.add(entry("blocked"));
    await until(() => r.failed.length === 1);
    await new Promise((res) => setTimeout(res, 150));
    expect(r.runs).toHaveLength(1);
    expect(r.failed[0]?.reason).toContain("bot was blocked");
  });

  it("runs at most `concurrency` jobs of a channel at once, channels apart", async () => {
    const outbox = open({ concurrency: 2 });
    let active = 0;
    let most = 0;
    const r = recorder(async (job) => {
      if (job.channel !== "telegram") return;
      active++;
      most = Math.max(most, active);
      await new Promise((res) => setTimeout(res, 60));
      active--;
    });
    outbox.start(r.handlers);
    for (let i = 0; i < 6; i++) await outbox.add(entry(`c${i}`));
    await outbox.add(entry("other", "teams"));
    await until(() => r.runs.length === 7);
    expect(most).toBe(2);
    expect(r.runs.findIndex((x) => x.id === "other")).toBeLessThan(6); // not behind telegram's queue
  });

  it("close() waits for the running job and takes no more", async () => {
    const outbox = make();
    let finished = false;
    const r = recorder(async () => {
      await new Promise((res) => setTimeout(res, 150));
      finished = true;
    });
    outbox.start(r.handlers);
    await outbox.add(entry("slow"));
    await until(() => r.runs.length === 1);
    await outbox.close();
    expect(finished).toBe(true);
    await expect(outbox.add(entry("after"))).rejects.toBeInstanceOf(OutboxClosedError);
    await outbox.close(); // idempotent
  });

  it("counts delayed and waiting jobs", async () => {
    const outbox = open();
    await outbox.add(entry("soon"));
    await outbox.add(entry("tomorrow", "telegram", Date.now() + 86_400_000));
    const c = await outbox.counts();
    expect(c).toMatchObject({ waiting: 1, delayed: 1, active: 0, dead: 0 });
  });
});

describe("BullMQ outbox across processes", () => {
  it("keeps a delayed trigger in Redis when the process that added it dies, and the next process runs it once", async () => {
    const p = `${prefix}-restart`;
    const killed = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // The process that accepted the trigger dies before it is due: no close, no drain, its connection cut.
    const first = new BullmqOutbox({ connection: killed, prefix: p, channels: ["telegram"], settings: SETTINGS });
    await first.add(entry("survivor", "telegram", Date.now() + 300));
    killed.disconnect();
    const second = new BullmqOutbox({ connection: redis, prefix: p, channels: ["telegram"], settings: SETTINGS });
    opened.push(second);
    const r2 = recorder();
    second.start(r2.handlers);
    expect(await second.add(entry("survivor", "telegram", Date.now() + 300))).toEqual({ added: false }); // recover() re-adding it
    await until(() => r2.runs.length === 1);
    await new Promise((res) => setTimeout(res, 300));
    expect(r2.runs.map((x) => x.id)).toEqual(["survivor"]);
  });
});
