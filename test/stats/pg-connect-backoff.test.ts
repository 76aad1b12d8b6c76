/**
 * The `pg` pool behind PgSurveyStore does not hammer a PostgreSQL that went away: while
 * connecting fails, its attempts back off (STORE_RETRY_BACKOFF) and every other call fails at
 * once with ConnectBackoffError, as the statistics API, /readyz and /metrics see it in the web
 * process. Counted at a TCP proxy that accepts and resets every connection.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectBackoffError } from "../../stats/store/connect-backoff.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";

describe("PgSurveyStore while PostgreSQL is away", () => {
  let proxy: TcpProxy;
  let store: PgSurveyStore;
  beforeAll(async () => {
    proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
    // Four connections, as the web process opens (app/services.ts).
    store = new PgSurveyStore({ connectionString: `postgres://postgres@${proxy.url}/test`, schema: `test_${randomUUID().replaceAll("-", "")}`, maxConnections: 4 });
    await store.migrate();
  });
  afterAll(async () => {
    await proxy.setMode("forward");
    await store.dropSchema();
    await store.close();
    await proxy.close();
  });

  it("knocks a few times in 3 s however often it is asked, answers the rest at once, and reconnects within a second of the return", async () => {
    await proxy.setMode("reset"); // cuts the pooled connections; new ones are accepted and reset
    const before = proxy.accepted;
    const end = Date.now() + 3_000;
    let calls = 0;
    let slowest = 0;
    const errors = new Map<string, number>();
    while (Date.now() < end) {
      // Ten callers at once every 20 ms: a busy dashboard and a readiness probe.
      const results = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const t = Date.now();
          const err = await store.listDialogues({ limit: 1 }).then(
            () => undefined,
            (e: unknown) => e,
          );
          return { err, ms: Date.now() - t };
        }),
      );
      for (const r of results) {
        calls++;
        expect(r.err).toBeInstanceOf(Error);
        const name = (r.err as Error).name;
        errors.set(name, (errors.get(name) ?? 0) + 1);
        if (r.err instanceof ConnectBackoffError) slowest = Math.max(slowest, r.ms);
      }
      await sleep(20);
    }
    const attempts = proxy.accepted - before;
    // Before the first failure is known every caller may try (at most the pool's 4 connections);
    // after it, one attempt per backoff delay (several failures in a row start at the cap):
    // 0.5–1 s, so at most 6 more in 3 s.
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(10);
    expect(calls).toBeGreaterThan(200);
    expect(errors.get("ConnectBackoffError")).toBeGreaterThan(calls * 0.9);
    expect(slowest).toBeLessThan(1_000); // no network, no wait (loose for a loaded machine)

    await proxy.setMode("forward");
    const back = Date.now();
    await expect
      .poll(() => store.listDialogues({ limit: 1 }).then(() => "answered", (e: Error) => e.name), { timeout: 3_000, interval: 25 })
      .toBe("answered");
    expect(Date.now() - back).toBeLessThan(1_500);
    expect(store.connects.failures).toBe(0);
  });
});
