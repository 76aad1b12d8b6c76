/**
 * The channel contract suite: the same behaviour, checked for every channel (one driver each, and
 * a fake channel) against both ChannelStorage backings (memory; Redis with Redis conversation
 * state, where two "web processes" share what they remember):
 *
 * - the CSAT survey is stored exactly once;
 * - a redelivered payload is deduplicated (2xx, nothing shown twice);
 * - a stale tap is answered without changing the stored survey;
 * - a typed answer to a keyboard another process sent closes that keyboard (Redis);
 * - a `deliver` that throws gives a non-2xx (webhooks) or a bounded retry (clients);
 * - `close()` refuses new input and drains the work in flight;
 * - the logs hold no secret and no comment text;
 * - proactive delivery (the trigger API), for every channel with `proactive`: a trigger's start
 *   (with `proactive` and `variables`) sends the first question unprompted, the user's answer in
 *   the messenger's real payload completes the survey, stored once (on another process too, Redis);
 *   a recipient the channel cannot reach resolves to a 404 / 422 with a reason.
 *
 * Each "process" is what `botflow serve` wires for one channel, from the channel's module in
 * channels/index.ts: the module's `create`, a Runtime with ChannelDelivery, the in-process survey
 * queue into a shared statistics store, and the real HTTP server (app/server.ts) with the
 * module's routes. Drivers speak each messenger's real payloads to it and read what the channel
 * sent from the local fake servers (test/channels/*fake*.ts).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createActionRegistry } from "../../actions/index.ts";
import { ChannelDelivery } from "../../app/channel-delivery.ts";
import { DEFAULT_SCENARIOS_DIR } from "../../app/config.ts";
import { createLogger } from "../../app/logger.ts";
import { buildServer } from "../../app/server.ts";
import type { ChannelModule } from "../../channels/module.ts";
import type { Channel } from "../../channels/port.ts";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import type { StateStore } from "../../engine/ports.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import { RedisStateStore } from "../../engine/state/redis-store.ts";
import { InProcessSurveyQueue } from "../../stats/queue/in-process-survey-queue.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { DialogueRow } from "../../stats/store/survey-store.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { openSharedStore } from "../app/app-harness.ts";

/** The comment every survey types: it must never reach a log line. */
export const COMMENT = "The agent was patient and kind, thank you Olena";

/** Holds events at the door of the runtime, so a test can have work in flight while it closes. */
export class Gate {
  private held: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** Events that reached the gate. */
  arrived = 0;

  hold(): void {
    this.held = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.held = undefined;
  }

  async pass(): Promise<void> {
    this.arrived++;
    await this.held;
  }
}

/** One web process for one channel. */
export interface ContractProcess {
  /** Which of a test's processes it is (0, 1). */
  n: number;
  /** Base URL of its HTTP server. */
  url: string;
  channel: Channel;
  gate: Gate;
  /** Every log line so far (JSON). */
  logs: string[];
  /** Hands `event` to this process's runtime directly, as the trigger API does (not through the gate). */
  trigger(event: InboundEvent): Promise<{ status: "processed" | "duplicate" }>;
  /** The channel's close(): refuses new input, drains. */
  closeChannel(): Promise<void>;
  /** Closes everything (the channel if still open, the server, the queue). */
  dispose(): Promise<void>;
}

/** What both processes of a test share: nothing in memory mode, Redis in Redis mode. */
export interface Backing {
  name: "memory" | "redis";
  state(): StateStore;
  storage(): ChannelStorage;
  redis?: Redis;
  /** Key prefix of this test's Redis keys. */
  prefix: string;
  /** Whether two processes share conversation state and channel memory. */
  shared: boolean;
}

/** The user actions and observations of one channel, over its real protocol. */
export interface ChannelDriver {
  readonly module: ChannelModule;
  /**
   * `answers`: each payload gets an answer once processed (a webhook's HTTP status, the web chat's
   * ack or error frame, mapped to 200 / 5xx); `background`: a client channel (WhatsApp Web) that
   * takes events off its client and processes them later.
   */
  readonly kind: "answers" | "background";
  /** What may never appear in a log line (tokens, app secrets). */
  readonly secrets: string[];
  /** Whether the messenger lets a sent keyboard be closed in place (Telegram, Teams, web chat, the fake). */
  readonly editsKeyboards: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The channel's variables, as parseConfig reads them. */
  env(): Record<string, string>;
  /** Test seams for process number `n` (0 or 1). */
  seams?(n: number): unknown;
  /** A new user, in a conversation of its own; returns the conversation id botflow stores. */
  newUser(p: ContractProcess): Promise<string>;
  /** Each action resolves to the transport's answer: 200 / 4xx / 5xx (`answers`), 200 once handed to the client (`background`). */
  start(p: ContractProcess, user: string): Promise<number>;
  /** Taps `label` on the rating question. */
  tapRating(p: ContractProcess, user: string, label: string): Promise<number>;
  type(p: ContractProcess, user: string, text: string): Promise<number>;
  /** Sends the last payload again, exactly as before. */
  redeliverLast(p: ContractProcess, user: string): Promise<number>;
  /** Texts the user was shown, in order. */
  texts(user: string): string[];
  /** Whether the rating question's buttons were closed (edited in place). */
  ratingClosed(user: string): boolean;
  /** Whether the user was told a tap was on a closed question (a stale tap's answer). */
  toldStale(user: string): boolean;
  /** Makes the channel's next outbound calls fail (the messenger refuses them). */
  failSends(count: number): void;
  /** Drops the failures not used up yet. */
  stopFailing(): void;
  /** Attempts the channel made at sending so far. */
  sendAttempts(): number;
  /** Waits until `done()` holds (client channels work in the background). */
  settle(done: () => boolean, what: string): Promise<void>;
  /** Present exactly when the channel has `proactive` (the trigger API); the suite checks it. */
  readonly proactive?: ProactiveDriver;
}

/** How a driver prepares recipients of first messages nobody asked for. */
export interface ProactiveDriver {
  /** A recipient the channel can reach unprompted, prepared as the messenger requires (Teams: the bot installed; web chat: a tab open on `p`); returns the `to`, which is also the driver's user. */
  recipient(p: ContractProcess): Promise<string>;
  /** A `to` the channel must refuse: malformed, or a recipient it has never known. */
  unknown(p: ContractProcess): Promise<string>;
}

const REDIS_URL = "redis://127.0.0.1:6379";

/** A backing every channel runs against. */
export function makeBacking(name: Backing["name"]): Backing {
  const prefix = `test-${randomUUID()}:`;
  // In memory nothing is shared: each process gets its own (the factories are called per process).
  if (name === "memory") return { name, state: () => new MemoryStateStore(), storage: () => new MemoryChannelStorage(), prefix, shared: false };
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  return {
    name,
    redis,
    prefix,
    shared: true,
    state: () => new RedisStateStore(redis, { keyPrefix: `${prefix}state:` }),
    storage: () => new RedisChannelStorage(redis, { keyPrefix: `${prefix}channel:` }),
  };
}

async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** Wires one web process for the driver's channel on `backing`. */
export async function startProcess(driver: ChannelDriver, backing: Backing, store: PgliteSurveyStore, n: number): Promise<ContractProcess> {
  const m = driver.module;
  const logs: string[] = [];
  const logger = createLogger("debug", { write: (line: string) => void logs.push(line) });
  const env = driver.env();
  const problems: string[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-contract-"));
  const config = m.parseConfig((name) => env[name], problems, { cwd: dir, dataDir: dir });
  if (problems.length > 0 || config === undefined) throw new Error(`the ${m.name} driver's variables do not enable it: ${problems.join("; ")}`);
  const instance = await m.create(config, {
    logger,
    storage: backing.storage().scope(`${m.name}:`),
    ...(backing.redis ? { redis: backing.redis } : {}),
    keyPrefix: `${backing.prefix}${m.name}:`,
    ...(driver.seams ? { seams: driver.seams(n) } : {}),
  });
  const queue = new InProcessSurveyQueue(store, { logger });
  const actions = createActionRegistry({ surveys: queue });
  const scenarios = new ScenarioRegistry({ actions: actions.specs(), channels: [m.limits] });
  const loadProblems = await scenarios.loadDir(DEFAULT_SCENARIOS_DIR);
  if (loadProblems.some((p) => p.severity === "error")) throw new Error(`the bundled scenarios do not load for ${m.name}`);
  const runtime = new Runtime({
    scenarios,
    store: backing.state(),
    delivery: new ChannelDelivery([instance.channel], { logger }),
    actions,
    tracker: new SurveyTracker(queue),
    defaultScenarioId: "csat",
    logger,
    lockWaitMs: 2_000,
  });
  const gate = new Gate();
  await instance.channel.start(async (event) => {
    await gate.pass();
    return runtime.handle(event);
  });
  const server = await buildServer({
    logger,
    readiness: async () => ({ ready: true, checks: [] }),
    home: "/",
    mounts: instance.routes ? [(app) => (instance.routes as NonNullable<typeof instance.routes>)(app, { logger, guard: async () => {}, webhook: {} })] : [],
  });
  await server.listen({ port: 0, host: "127.0.0.1" });
  const port = (server.server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  const closeChannel = () => (closed ??= instance.channel.close());
  return {
    n,
    url: `http://127.0.0.1:${port}`,
    channel: instance.channel,
    trigger: async (event) => ({ status: (await runtime.handle(event)).status }),
    gate,
    logs,
    closeChannel,
    async dispose() {
      gate.release();
      await closeChannel();
      await server.close();
      await queue.close();
    },
  };
}

/** The stored surveys of a conversation (the suite expects one). */
async function surveysOf(store: PgliteSurveyStore, conversationId: string): Promise<DialogueRow[]> {
  const page = await store.listDialogues({ limit: 1000 });
  return page.rows.filter((r) => r.conversationId === conversationId);
}

/** Runs the whole contract for `driver`. */
export function channelContract(makeDriver: () => ChannelDriver): void {
  const driver = makeDriver();
  describe.each(["memory", "redis"] as const)(`${driver.module.name} channel contract, %s ChannelStorage`, (backingName) => {
    let store: PgliteSurveyStore;
    let backing: Backing;
    const processes: ContractProcess[] = [];
    const open = async (n = 0) => {
      const p = await startProcess(driver, backing, store, n);
      processes.push(p);
      return p;
    };

    beforeAll(async () => {
      store = await openSharedStore();
      backing = makeBacking(backingName);
      await driver.setup();
    });
    afterEach(async () => {
      for (const p of processes.splice(0)) await p.dispose();
    });
    afterAll(async () => {
      await driver.teardown();
      await store?.close();
      if (backing?.redis) {
        await removeKeys(backing.redis, backing.prefix);
        await backing.redis.quit();
      }
    });

    it("runs the CSAT survey and stores it exactly once", async () => {
      const p = await open();
      const user = await driver.newUser(p);
      expect(await driver.start(p, user)).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 1, "the rating question");
      expect(await driver.tapRating(p, user, "4")).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 2, "the comment question");
      expect(await driver.type(p, user, COMMENT)).toBe(200);
      await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
      const [survey] = await surveysOf(store, user);
      // What each channel's own CSAT test asserted of the stored survey, once for all (moved here).
      expect(survey).toMatchObject({
        scenarioId: "csat",
        channel: driver.module.name,
        conversationId: user,
        offered: true,
        accepted: true,
        denied: false,
        completed: true,
        score: 4,
        scale: "1-5",
        comment: COMMENT,
      });
      await driver.settle(() => driver.texts(user).some((t) => t.startsWith("Thank you")), "the thanks");

      // The logs hold no secret and no comment text.
      const logs = p.logs.join("\n");
      for (const secret of driver.secrets) expect(logs).not.toContain(secret);
      expect(logs).not.toContain(COMMENT);
      expect(logs).not.toContain("patient and kind");
    });

    it("takes a redelivered payload once and shows nothing twice", async () => {
      const p = await open();
      const user = await driver.newUser(p);
      expect(await driver.start(p, user)).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 1, "the rating question");
      expect(await driver.tapRating(p, user, "2")).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 2, "the comment question");
      const shown = driver.texts(user).length;
      expect(await driver.redeliverLast(p, user)).toBe(200);
      // A client channel processes in the background: give the redelivery the time the tap took.
      await driver.settle(() => p.gate.arrived >= 3, "the redelivery reaching the runtime");
      await new Promise((r) => setTimeout(r, 100));
      expect(driver.texts(user)).toHaveLength(shown);
    });

    it("answers a stale tap without changing the stored survey", async () => {
      const p = await open();
      const user = await driver.newUser(p);
      await driver.start(p, user);
      await driver.settle(() => driver.texts(user).length >= 1, "the rating question");
      await driver.tapRating(p, user, "5");
      await driver.settle(() => driver.texts(user).length >= 2, "the comment question");
      // The rating keyboard again, after the survey moved on to the comment: answered, nothing changes.
      expect(await driver.tapRating(p, user, "1")).toBe(200);
      await driver.settle(() => p.gate.arrived >= 3, "the stale tap reaching the runtime");
      await driver.settle(() => driver.toldStale(user), "the stale answer");
      expect(await driver.type(p, user, COMMENT)).toBe(200);
      await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
      expect((await surveysOf(store, user))[0]).toMatchObject({ score: 5, comment: COMMENT, completed: true });
    });

    // Two processes share nothing in memory: this case is Redis's.
    if (backingName === "redis") it("closes a keyboard sent by one process when the typed answer reaches another", async () => {
      const a = await open(0);
      const b = await open(1);
      const user = await driver.newUser(a);
      expect(await driver.start(a, user)).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 1, "the rating question from A");
      expect(driver.ratingClosed(user)).toBe(false);
      expect(await driver.type(b, user, "4")).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 2, "the comment question from B");
      if (driver.editsKeyboards) await driver.settle(() => driver.ratingClosed(user), "A's rating keyboard closed by B");
      await driver.type(b, user, COMMENT);
      await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
      expect((await surveysOf(store, user))[0]).toMatchObject({ score: 4, comment: COMMENT });
    });

    if (backingName === "redis") it("takes a tap on a keyboard another process sent (a poll vote heard by a second client instance)", async () => {
      const a = await open(0);
      const b = await open(1);
      const user = await driver.newUser(a);
      await driver.newUser(b);
      expect(await driver.start(a, user)).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 1, "the rating question from A");
      expect(await driver.tapRating(b, user, "3")).toBe(200);
      await driver.settle(() => driver.texts(user).length >= 2, "the comment question from B");
      expect(await driver.type(a, user, COMMENT)).toBe(200);
      await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
      expect((await surveysOf(store, user))[0]).toMatchObject({ score: 3, comment: COMMENT });
    });

    it("answers non-2xx (webhooks) or retries a bounded number of times (clients) when a delivery throws", async () => {
      const p = await open();
      const user = await driver.newUser(p);
      const before = driver.sendAttempts();
      driver.failSends(driver.kind === "answers" ? 1 : 10);
      const status = await driver.start(p, user);
      if (driver.kind === "answers") {
        expect(status).toBeGreaterThanOrEqual(500);
        // The redelivery is processed in full (the failed step was not saved).
        expect(await driver.redeliverLast(p, user)).toBe(200);
        await driver.settle(() => driver.texts(user).length === 1, "the rating question on redelivery");
      } else {
        await driver.settle(() => p.logs.some((l) => l.includes("not processed after")), "the give-up log line");
        const attempts = driver.sendAttempts() - before;
        expect(attempts).toBeGreaterThanOrEqual(2);
        expect(attempts).toBeLessThanOrEqual(5);
        expect(driver.texts(user)).toEqual([]);
      }
      driver.stopFailing();
    });

    it("refuses new input once close() begins and drains the work in flight", async () => {
      const p = await open();
      const first = await driver.newUser(p);
      const second = await driver.newUser(p);
      p.gate.hold();
      const inFlight = driver.start(p, first);
      await driver.settle(() => p.gate.arrived >= 1, "the first event in flight");
      let drained = false;
      const closing = p.closeChannel().then(() => (drained = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(drained).toBe(false);
      const refused = await driver.start(p, second);
      if (driver.kind === "answers") expect(refused).toBe(503);
      p.gate.release();
      expect(await inFlight).toBe(200);
      await closing;
      expect(drained).toBe(true);
      await driver.settle(() => driver.texts(first).length >= 1, `the in-flight event's question (logs: ${p.logs.slice(-6).join("\n")})`);
      expect(p.gate.arrived).toBe(1);
      expect(driver.texts(second)).toEqual([]);
    });

    // Proactive delivery: only channels that have it (the capability, not a skipped test). A
    // channel whose driver has no proactive part yet (WhatsApp Cloud: its owner extends it) is left out.
    const proactive = driver.proactive;
    if (proactive) {
      it("has the proactive capability its driver drives", async () => {
        const p = await open();
        expect(p.channel.proactive).toBeDefined();
      });

      /** The trigger API's part: resolve `to`, then start the scenario with the trigger's variables. */
      const fire = async (p: ContractProcess, to: string) => {
        const target = await (p.channel.proactive as NonNullable<Channel["proactive"]>).resolve({ to });
        if (!target.ok) throw new Error(`${driver.module.name} refused a recipient it should reach: ${target.status} ${target.reason}`);
        const triggerId = randomUUID();
        const event: InboundEvent = {
          ...target.ref,
          kind: "start",
          scenarioId: "csat",
          variables: { agent: "Olena", ticket: "T-1042" },
          dedupeKey: `trigger:${triggerId}`,
          proactive: { triggerId },
        };
        expect(target.ref.channel).toBe(driver.module.name);
        expect(target.ref.conversationId).toBe(to);
        expect(await p.trigger(event)).toEqual({ status: "processed" });
        // The trigger's retry of the same start is deduplicated: nothing is sent twice.
        expect(await p.trigger({ ...event })).toEqual({ status: "duplicate" });
      };

      it("sends a trigger's first question unprompted, and the user's answer completes the survey, stored once", async () => {
        const p = await open();
        const user = await proactive.recipient(p);
        const before = driver.texts(user).length;
        await fire(p, user);
        await driver.settle(() => driver.texts(user).length === before + 1, "the trigger's rating question");
        expect(driver.texts(user)[before]).toMatch(/rate/i);
        expect(await driver.tapRating(p, user, "5")).toBe(200);
        await driver.settle(() => driver.texts(user).length >= before + 2, "the comment question");
        if (driver.editsKeyboards) await driver.settle(() => driver.ratingClosed(user), "the trigger's rating keyboard closed");
        expect(await driver.type(p, user, COMMENT)).toBe(200);
        await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
        expect((await surveysOf(store, user))[0]).toMatchObject({ scenarioId: "csat", channel: driver.module.name, score: 5, comment: COMMENT, completed: true });
        expect(p.logs.join("\n")).not.toContain(COMMENT);
      });

      it("resolves a recipient it cannot reach to a 404 or 422 with a reason", async () => {
        const p = await open();
        const target = await (p.channel.proactive as NonNullable<Channel["proactive"]>).resolve({ to: await proactive.unknown(p) });
        expect(target.ok).toBe(false);
        if (target.ok) return;
        expect([404, 422]).toContain(target.status);
        expect(target.problem).toMatch(/^(unknown_recipient|blocked|not_allowed|window_closed|invalid_options)$/);
        expect(target.reason.length).toBeGreaterThan(10);
      });

      if (backingName === "redis") it("fires a trigger on one process for a recipient another process knows, and takes the answer there", async () => {
        const a = await open(0);
        const b = await open(1);
        const user = await proactive.recipient(a);
        if (driver.kind === "background") await driver.newUser(b); // B's client logged in too
        const before = driver.texts(user).length;
        await fire(b, user);
        await driver.settle(() => driver.texts(user).length === before + 1, "B's rating question");
        expect(await driver.tapRating(a, user, "2")).toBe(200);
        await driver.settle(() => driver.texts(user).length >= before + 2, "the comment question from A");
        if (driver.editsKeyboards) await driver.settle(() => driver.ratingClosed(user), "B's rating keyboard closed by A");
        expect(await driver.type(a, user, COMMENT)).toBe(200);
        await expect.poll(async () => (await surveysOf(store, user)).map((r) => r.completed), { timeout: 10_000 }).toEqual([true]);
        expect((await surveysOf(store, user))[0]).toMatchObject({ score: 2, comment: COMMENT });
      });
    }
  });
}
