/**
 * A network that silently swallows packets must fail a store call in bounded time (so the
 * job retries) rather than hang it forever; once the path is back, the same events land once.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { TcpProxy } from "../helpers/tcp-proxy.ts";
import { fullSurvey, T0 } from "./store-harness.ts";

describe("PgSurveyStore timeouts", () => {
  let proxy: TcpProxy;
  let store: PgSurveyStore;
  beforeAll(async () => {
    proxy = await TcpProxy.start({ host: "127.0.0.1", port: 5432 });
    store = new PgSurveyStore({
      connectionString: `postgres://postgres@${proxy.url}/test`,
      schema: `test_${randomUUID().replaceAll("-", "")}`,
      maxConnections: 2,
      connectTimeoutMs: 300,
      queryTimeoutMs: 2_000,
      connectBackoff: { baseMs: 1_000, capMs: 1_000 }, // 0.5–1 s between attempts: the test's back-to-back calls fall inside
    });
    await store.migrate();
  });
  afterAll(async () => {
    await proxy.setMode("forward");
    await store.dropSchema();
    await store.close();
    await proxy.close();
  });

  it("gives up on a connection that never answers, then writes once the network is back", async () => {
    await proxy.setMode("blackhole"); // cuts the pooled connections; new ones are accepted and ignored
    const events = fullSurvey(`s-${randomUUID()}`, 4, "fine");
    // A pooled connection that was cut fails at once ("terminated"); wait until the pool has
    // dropped them so the next call must open a fresh connection into the silent network.
    await expect.poll(() => store.apply(events).then(() => "stored", (e: Error) => e.message), { timeout: 5_000 }).toMatch(/timeout/i);
    const started = Date.now();
    await expect(store.apply(events)).rejects.toThrow(/timeout|backing off/i); // timed out, or the next attempt is not due yet
    expect(Date.now() - started).toBeLessThan(10_000);

    // Meanwhile further calls fail at once, without knocking: connection attempts back off.
    const attempts = store.connects.attempts;
    await expect(store.apply(events)).rejects.toMatchObject({ name: "ConnectBackoffError" });
    expect(store.connects.attempts).toBe(attempts);

    await proxy.setMode("forward");
    // The first call after the backoff delay (at most 1 s here) reconnects and writes.
    await expect.poll(() => store.apply(events).then(() => "stored", (e: Error) => e.message), { timeout: 5_000, interval: 100 }).toBe("stored");
    await store.apply(events); // a retry of the same events counts once
    const f = await store.figures({ from: T0 - 86_400_000, to: T0 + 86_400_000, timeZone: "UTC" });
    expect(f.surveys).toBe(1);
    expect(f.average).toBe(4);
  });
});
