import { randomUUID } from "node:crypto";
import net from "node:net";
import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/worker.ts";
import type { CliIo } from "../../cli/io.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { deleteKeys } from "./fault-fixtures.ts";
import { testEvent } from "./worker-test-store.ts";

function testIo(env: Record<string, string>): { io: CliIo; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough(), env, cwd: process.cwd() }, out: () => out, err: () => err };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("botflow worker start-up", () => {
  it("exits 1 naming the missing variables", async () => {
    const t = testIo({});
    expect(await run([], t.io)).toBe(1);
    expect(t.err()).toMatch(/REDIS_URL and DATABASE_URL are not set/);
  });

  it("exits 1 with a clear message when Redis is unreachable", async () => {
    const port = await closedPort();
    const t = testIo({ REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`, DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" });
    expect(await run([], t.io)).toBe(1);
    expect(t.err()).toMatch(new RegExp(`Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}.* is not reachable.*fix REDIS_URL`));
    expect(t.err() + t.out()).not.toContain("hunter2");
  });

  it("exits 1 with a clear message when PostgreSQL is unreachable", async () => {
    const port = await closedPort();
    const t = testIo({ REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/test` });
    expect(await run([], t.io)).toBe(1);
    expect(t.err()).toMatch(new RegExp(`PostgreSQL at postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/test is not reachable \\(connect ECONNREFUSED.*fix DATABASE_URL`));
    expect(t.err() + t.out()).not.toContain("hunter2");
  });

  it("refuses a bad --concurrency or duration with exit 2 and the usage", async () => {
    for (const args of [["--concurrency", "0"], ["--concurrency", "many"], ["--lock-duration", "soon"], ["--metrics-port", "70000"], ["--metrics-port", "http"], ["--bogus"]]) {
      const t = testIo({});
      expect(await run(args, t.io)).toBe(2);
      expect(t.err()).toMatch(/^error: .*\nusage: botflow worker/s);
    }
  });

  it("prints its usage with --help", async () => {
    const t = testIo({});
    expect(await run(["--help"], t.io)).toBe(0);
    expect(t.out()).toMatch(/--concurrency N/);
    expect(t.out()).toMatch(/--metrics-port PORT/);
  });

  it("lists the dead letter without payloads, and replays it into the queue", async () => {
    const prefix = `test-${randomUUID()}`;
    const redis = new Redis("redis://127.0.0.1:6379");
    const queue = new BullmqSurveyQueue({ connection: redis, settings: { name: "surveys", prefix } });
    try {
      const event = testEvent(1, { comment: "private words" });
      await queue.dead.put({ jobId: "s1.completed", event, failedReason: "connect ECONNREFUSED", attemptsMade: 8, unrecoverable: false, deadAt: Date.UTC(2026, 0, 2) });
      const args = ["--queue", "surveys", "--prefix", prefix];
      const list = testIo({ REDIS_URL: "redis://127.0.0.1:6379" });
      expect(await run(["--dead-letters", ...args], list.io)).toBe(0);
      expect(list.out()).toContain("1 job(s) in the dead letter surveys-dead");
      expect(list.out()).toContain("s1.completed\t8 attempt(s)\t2026-01-02T00:00:00.000Z\tconnect ECONNREFUSED");
      expect(list.out()).not.toContain("private words");

      const replay = testIo({ REDIS_URL: "redis://127.0.0.1:6379" });
      expect(await run(["--replay-dead", ...args], replay.io)).toBe(0);
      expect(replay.out()).toContain("re-queued 1 job(s) from surveys-dead into surveys");
      expect(await queue.counts()).toMatchObject({ waiting: 1, dead: 0 });
      expect((await queue.queue.getJob("s1.completed"))?.data).toEqual(event);
    } finally {
      await queue.close();
      await deleteKeys(redis, `${prefix}:*`);
      await redis.quit();
    }
  });
});
