import net from "node:net";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/worker.ts";
import type { CliIo } from "../../cli/io.ts";

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
    for (const args of [["--concurrency", "0"], ["--concurrency", "many"], ["--lock-duration", "soon"], ["--bogus"]]) {
      const t = testIo({});
      expect(await run(args, t.io)).toBe(2);
      expect(t.err()).toMatch(/^error: .*\nusage: botflow worker/s);
    }
  });

  it("prints its usage with --help", async () => {
    const t = testIo({});
    expect(await run(["--help"], t.io)).toBe(0);
    expect(t.out()).toMatch(/--concurrency N/);
  });
});
