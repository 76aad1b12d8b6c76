/**
 * The pieces a store outage goes through: the backoff curve, the `pg` pool's connection gate
 * (ConnectBackoff) and the worker's view of the store (StoreAvailability).
 */
import { describe, expect, it } from "vitest";
import { retryDelay, STORE_RETRY_BACKOFF } from "../../stats/retry-backoff.ts";
import { StoreAvailability, StoreAvailabilityClosedError } from "../../stats/store-availability.ts";
import { ConnectBackoff, ConnectBackoffError } from "../../stats/store/connect-backoff.ts";
import { isTransient } from "../../stats/store/sql-errors.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingLogger } from "../helpers/recorders.ts";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("retryDelay", () => {
  it("doubles from the base up to the cap, each delay drawn from its upper half", () => {
    const o = { baseMs: 200, capMs: 2_000 };
    expect([1, 2, 3, 4, 5, 50].map((n) => retryDelay(n, o, () => 0))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect([1, 2, 3, 4, 5, 50].map((n) => retryDelay(n, o, () => 0.999999))).toEqual([200, 400, 800, 1_600, 2_000, 2_000]);
    // A 10 s outage is probed 11–21 times with the default curve, from the high to the low end of the jitter.
    const probesIn10s = (jitter: number) => {
      let t = 0;
      let n = 0;
      while ((t += retryDelay(n + 1, STORE_RETRY_BACKOFF, () => jitter)) <= 10_000) n++;
      return n;
    };
    expect([probesIn10s(0.999999), probesIn10s(0)]).toEqual([11, 21]);
  });
});

describe("ConnectBackoff", () => {
  it("lets one attempt through per backoff delay while connecting fails, fails the rest at once, and clears on success", async () => {
    const clock = new ManualClock();
    const gate = new ConnectBackoff({ backoff: { baseMs: 200, capMs: 2_000 }, clock, what: "PostgreSQL", random: () => 0.5 });
    let knocks = 0;
    const down = () => (knocks++, Promise.reject(refused));
    await expect(gate.attempt(down)).rejects.toBe(refused);
    // 150 ms (the middle of 100–200) to wait: 50 calls in that time never reach the server.
    for (let i = 0; i < 50; i++) {
      const err = await gate.attempt(down).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectBackoffError);
      expect(err).toMatchObject({ code: "ECONNREFUSED", retryInMs: 150, failures: 1 });
      expect(isTransient(err)).toBe(true);
    }
    expect(knocks).toBe(1);
    clock.advance(150);
    await expect(gate.attempt(down)).rejects.toBe(refused);
    expect(knocks).toBe(2);
    clock.advance(299);
    await expect(gate.attempt(down)).rejects.toBeInstanceOf(ConnectBackoffError); // 300 ms the second time
    clock.advance(1);
    expect(await gate.attempt(async () => (knocks++, "connection"))).toBe("connection");
    expect(gate.failures).toBe(0);
    expect(await gate.attempt(async () => "again")).toBe("again");
    expect(gate.attempts).toBe(4);
  });

  it("sends one trial attempt when the delay has passed; calls meanwhile fail at once", async () => {
    const clock = new ManualClock();
    const gate = new ConnectBackoff({ backoff: { baseMs: 100, capMs: 100 }, clock, what: "PostgreSQL", random: () => 0 });
    await expect(gate.attempt(() => Promise.reject(refused))).rejects.toBe(refused);
    clock.advance(100);
    let open: (v: string) => void = () => {};
    const trial = gate.attempt(() => new Promise<string>((resolve) => (open = resolve)));
    await expect(gate.attempt(async () => "second")).rejects.toBeInstanceOf(ConnectBackoffError);
    open("first");
    expect(await trial).toBe("first");
    expect(await gate.attempt(async () => "second")).toBe("second");
  });

  it("lets a forced attempt (the worker's probe, on its own backoff) through at any time; its success clears the wait", async () => {
    const gate = new ConnectBackoff({ backoff: { baseMs: 10_000, capMs: 10_000 }, clock: new ManualClock(), what: "PostgreSQL" });
    await expect(gate.attempt(() => Promise.reject(refused))).rejects.toBe(refused);
    await expect(gate.attempt(async () => "no")).rejects.toBeInstanceOf(ConnectBackoffError);
    await expect(gate.attempt(() => Promise.reject(refused), true)).rejects.toBe(refused);
    expect(gate.failures).toBe(2);
    expect(await gate.attempt(async () => "probe", true)).toBe("probe");
    expect(await gate.attempt(async () => "everyone")).toBe("everyone");
  });
});

describe("StoreAvailability", () => {
  it("logs one warning per outage, probes with backoff until the store answers, then one info line, and lets every waiter go", async () => {
    const logger = new RecordingLogger();
    let answers = false;
    let probes = 0;
    const changes: boolean[] = [];
    const a = new StoreAvailability({
      store: "postgres",
      probe: async () => {
        probes++;
        if (!answers) throw refused;
      },
      backoff: { baseMs: 20, capMs: 40 },
      onChange: (up) => changes.push(up),
      logger,
    });
    await a.whenUp(); // up: at once
    a.down(refused);
    a.down(refused); // same outage
    const waiters = Promise.all([a.whenUp(), a.whenUp()]);
    await new Promise((r) => setTimeout(r, 200));
    expect(a.up).toBe(false);
    expect(probes).toBeGreaterThanOrEqual(3);
    expect(probes).toBeLessThanOrEqual(12); // 10–20 ms, then every 20–40 ms
    answers = true;
    await waiters;
    expect(a).toMatchObject({ up: true, outages: 1 });
    expect(changes).toEqual([false, true]);
    const lines = logger.lines.filter((l) => l.level !== "debug"); // each failed probe is a debug line
    expect(lines.map((l) => [l.level, l.msg?.split(":")[0]])).toEqual([
      ["warn", "statistics store unreachable"],
      ["info", "statistics store is back"],
    ]);
    expect(logger.lines.filter((l) => l.level === "debug")).toHaveLength(a.probes - 1);
    expect(lines[0]?.obj).toMatchObject({ store: "postgres", err: { code: "ECONNREFUSED" } });
    expect(lines[1]?.obj).toMatchObject({ store: "postgres", probes: a.probes });
    expect((lines[1]?.obj as { outageMs: number }).outageMs).toBeGreaterThanOrEqual(150);
    a.close();
  });

  it("waits at least as long as the driver says its next connection attempt is away", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const a = new StoreAvailability({
      store: "postgres",
      probe: async () => {
        calls++;
        throw new ConnectBackoffError("PostgreSQL", refused, 300, 1);
      },
      backoff: { baseMs: 2, capMs: 2 },
      clock,
    });
    a.down(refused);
    await new Promise((r) => setTimeout(r, 200));
    expect(calls).toBe(1); // the next probe is due after 300 ms, not 2
    a.close();
  });

  it("confirmDown: one probe for every caller failing at once; false when it answers (no outage), true when not (the outage starts)", async () => {
    let answers = true;
    let probes = 0;
    const a = new StoreAvailability({
      store: "postgres",
      probe: async () => {
        probes++;
        await new Promise((r) => setTimeout(r, 10));
        if (!answers) throw refused;
      },
      backoff: { baseMs: 10_000, capMs: 10_000 },
    });
    expect(await Promise.all(Array.from({ length: 50 }, () => a.confirmDown(refused)))).toEqual(Array(50).fill(false));
    expect(probes).toBe(1);
    expect(a).toMatchObject({ up: true, outages: 0 });
    answers = false;
    expect(await Promise.all([a.confirmDown(refused), a.confirmDown(refused)])).toEqual([true, true]);
    expect(probes).toBe(2);
    expect(a).toMatchObject({ up: false, outages: 1 });
    expect(await a.confirmDown(refused)).toBe(true); // during the outage: no probe of its own
    expect(probes).toBe(2);
    a.close();
  });

  it("rejects its waiters when closed during an outage, and stops probing", async () => {
    let probes = 0;
    const a = new StoreAvailability({ store: "postgres", probe: () => (probes++, Promise.reject(refused)), backoff: { baseMs: 10, capMs: 10 } });
    a.down(refused);
    const waiting = a.whenUp();
    a.close();
    await expect(waiting).rejects.toBeInstanceOf(StoreAvailabilityClosedError);
    await expect(a.whenUp()).rejects.toBeInstanceOf(StoreAvailabilityClosedError);
    const seen = probes;
    await new Promise((r) => setTimeout(r, 50));
    expect(probes).toBe(seen);
  });
});
