/**
 * Closing the BullMQ outbox while its Redis is gone: a worker's close waits for commands queued
 * while the connection reconnects, which never comes back here, so the close must end by its
 * deadline, say so once, and leave the job for the next process (Redis restarted on the same
 * data: the job is still there for a new outbox).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { BullmqOutbox } from "../../triggers/bullmq-outbox.ts";
import { OwnRedis } from "../helpers/redis-server.ts";

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe("BullmqOutbox.close while Redis is down", () => {
  it("ends by its close deadline with the job in flight cut off, logs it once, and the job is still there for the next outbox", { timeout: 60_000 }, async () => {
    const server = await OwnRedis.start();
    cleanups.push(() => server.destroy());
    const connection = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
    connection.on("error", () => {});
    cleanups.push(async () => connection.disconnect());
    const warnings: string[] = [];
    const logger = { info() {}, debug() {}, error() {}, warn: (_o: object, msg: string) => warnings.push(msg) };
    const prefix = `close-${randomUUID()}`;
    const outbox = new BullmqOutbox<{ triggerId: string }>({ connection, prefix, channels: ["telegram"], settings: { attempts: 3, baseMs: 30, capMs: 300, concurrency: 1 }, closeTimeoutMs: 800, logger: logger as never });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    outbox.start({
      // The send never ends: the close has a job in flight when Redis goes.
      handle: () => {
        started();
        return new Promise<void>(() => {});
      },
      failed: async () => {},
    });
    await outbox.add({ id: "t-1", channel: "telegram", payload: { triggerId: "t-1" } });
    await running;
    await server.stop();

    const began = Date.now();
    await outbox.close();
    const took = Date.now() - began;
    expect(took, "close() while Redis is down (ms)").toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(5_000);
    expect(warnings).toEqual(["trigger outbox workers did not close in time; disconnecting them (a job cut off runs again)"]);

    // The next process, on the same Redis data: the job cut off is still there, held by the
    // lapsed lock until BullMQ's stalled check hands it to a worker again (it is not lost).
    await server.start();
    const next = new Redis(server.url, { maxRetriesPerRequest: null });
    cleanups.push(async () => next.disconnect());
    const again = new BullmqOutbox<{ triggerId: string }>({ connection: next, prefix, channels: ["telegram"] });
    cleanups.push(() => again.close());
    expect(await again.counts()).toMatchObject({ active: 1, waiting: 0, dead: 0 });
  });
});
