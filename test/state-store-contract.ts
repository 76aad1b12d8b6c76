/**
 * The contract every StateStore passes (test/engine/state-store.test.ts runs it against each one):
 * dedupe, locking, lock expiry, TTLs, the deadline index, and two Runtimes racing on one conversation.
 *
 * Time: the suite advances the injected clock, then polls (bounded) for the outcome, so a store
 * that keeps time itself (Redis PX) passes with short real TTLs and an in-memory one passes at once.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ActionRegistry } from "../actions/registry.ts";
import { statisticSetAction } from "../actions/statistic-set.ts";
import { loadScenarioFile } from "../engine/loader.ts";
import { LockLostError, type Clock, type StateStore } from "../engine/ports.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime, type HandleResult } from "../engine/runtime.ts";
import type { ConversationRef, ConversationState, Effect, InboundEvent } from "../engine/types.ts";
import type { SurveyEvent, SurveyQueue } from "../stats/events.ts";
import { SurveyTracker } from "../stats/survey-tracker.ts";

export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/** A store under test, as a factory makes it. */
export interface StoreUnderTest {
  store: StateStore;
  /** Another store on the same backend, as a second process would open it (memory: the same object). */
  peer(): Promise<StateStore>;
  /** Requests `store` has sent to its backend so far; given by stores that talk over a network. */
  roundTrips?: () => number;
  /** Closes `store` and every peer and deletes what they wrote. */
  cleanup(): Promise<void>;
}

const CSAT = fileURLToPath(new URL("../scenarios/csat.yaml", import.meta.url));
const OPTS = { stateTtlMs: 60_000, dedupeTtlMs: 60_000 };
const LOCK_MS = 10_000;
const SHORT_MS = 50;

/** Registers the contract suite for one StateStore implementation. */
export function stateStoreContract(name: string, makeStore: (clock: ManualClock) => Promise<StoreUnderTest>): void {
  describe(`StateStore contract: ${name}`, () => {
    let clock: ManualClock;
    let t: StoreUnderTest;
    let store: StateStore;
    beforeEach(async () => {
      clock = manualClock(1_700_000_000_000);
      t = await makeStore(clock);
      store = t.store;
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it("begins a fresh conversation with no state, and keeps conversations apart", async () => {
      const a = await store.begin("c:a", "d1", LOCK_MS);
      expect(a).toMatchObject({ status: "acquired", state: null });
      const b = await store.begin("c:b", "d1", LOCK_MS);
      expect(b).toMatchObject({ status: "acquired", state: null });
    });

    it("reads back what was committed", async () => {
      const s = conversation({ seq: 3, vars: { quality_answer: 4, note: "ünïcode ✓" } });
      await commitState(store, "c:1", s, "d1");
      const again = await store.begin("c:1", "d2", LOCK_MS);
      expect(again).toEqual({ status: "acquired", token: expect.any(String), state: s });
    });

    it("reports a committed dedupe key as duplicate, but not a released one (a failed step is redelivered)", async () => {
      const first = acquired(await store.begin("c:1", "d1", LOCK_MS));
      await store.release("c:1", first.token);
      const retry = acquired(await store.begin("c:1", "d1", LOCK_MS));
      await store.commit("c:1", retry.token, conversation(), "d1", OPTS);
      expect(await store.begin("c:1", "d1", LOCK_MS)).toEqual({ status: "duplicate" });
      await expect((await t.peer()).begin("c:1", "d1", LOCK_MS)).resolves.toEqual({ status: "duplicate" });
      // The same delivery id on another conversation is another delivery.
      expect(await store.begin("c:2", "d1", LOCK_MS)).toMatchObject({ status: "acquired" });
      expect(await store.begin("c:1", "d2", LOCK_MS)).toMatchObject({ status: "acquired" });
    });

    it("forgets a dedupe key after dedupeTtlMs", async () => {
      const b = acquired(await store.begin("c:1", "d1", LOCK_MS));
      await store.commit("c:1", b.token, conversation(), "d1", { ...OPTS, dedupeTtlMs: SHORT_MS });
      clock.advance(SHORT_MS + 1);
      await eventually("the dedupe key to expire", async () => {
        const r = await store.begin("c:1", "d1", LOCK_MS);
        if (r.status === "acquired") await store.release("c:1", r.token);
        return r.status === "acquired";
      });
    });

    it("locks a conversation against a second begin until commit or release", async () => {
      const peer = await t.peer();
      const a = acquired(await store.begin("c:1", "d1", LOCK_MS));
      expect(await peer.begin("c:1", "d2", LOCK_MS)).toEqual({ status: "locked" });
      expect(await store.begin("c:1", "d3", LOCK_MS)).toEqual({ status: "locked" });
      await store.commit("c:1", a.token, conversation({ seq: 1 }), "d1", OPTS);
      const b = acquired(await peer.begin("c:1", "d2", LOCK_MS));
      expect(b.state?.seq).toBe(1);
      expect(await store.begin("c:1", "d3", LOCK_MS)).toEqual({ status: "locked" });
      await peer.release("c:1", b.token);
      expect(await store.begin("c:1", "d3", LOCK_MS)).toMatchObject({ status: "acquired", state: { seq: 1 } });
    });

    it("lets another taker in when the lock expires; the late committer gets LockLostError and writes nothing", async () => {
      const peer = await t.peer();
      await commitState(store, "c:1", conversation({ seq: 1 }), "d0");
      const late = acquired(await store.begin("c:1", "d1", SHORT_MS));
      clock.advance(SHORT_MS + 1);
      let taker: { token: string } | undefined;
      await eventually("the lock to expire", async () => {
        const r = await peer.begin("c:1", "d2", LOCK_MS);
        if (r.status === "acquired") taker = r;
        return r.status === "acquired";
      });
      await expect(store.commit("c:1", late.token, conversation({ seq: 99 }), "d1", OPTS)).rejects.toBeInstanceOf(LockLostError);
      // The late committer's delivery was not remembered either: it must come again.
      await peer.commit("c:1", (taker as { token: string }).token, conversation({ seq: 2 }), "d2", OPTS);
      expect(await store.begin("c:1", "d1", LOCK_MS)).toMatchObject({ status: "acquired", state: { seq: 2 } });
    });

    it("ignores a release or commit with a wrong token", async () => {
      const a = acquired(await store.begin("c:1", "d1", LOCK_MS));
      await store.release("c:1", "not-the-token");
      expect(await store.begin("c:1", "d2", LOCK_MS)).toEqual({ status: "locked" });
      await expect(store.commit("c:1", "not-the-token", conversation({ seq: 7 }), "d3", OPTS)).rejects.toBeInstanceOf(LockLostError);
      await store.commit("c:1", a.token, conversation({ seq: 1 }), "d1", OPTS);
      expect(await store.begin("c:1", "d3", LOCK_MS)).toMatchObject({ status: "acquired", state: { seq: 1 } });
    });

    it("expires an idle conversation after stateTtlMs", async () => {
      const b = acquired(await store.begin("c:1", "d1", LOCK_MS));
      await store.commit("c:1", b.token, conversation(), "d1", { ...OPTS, stateTtlMs: SHORT_MS });
      clock.advance(SHORT_MS + 1);
      let n = 0;
      await eventually("the state to expire", async () => {
        const r = acquired(await store.begin("c:1", `probe-${n++}`, LOCK_MS));
        await store.release("c:1", r.token);
        return r.state === null;
      });
    });

    it("deletes the state on a null commit", async () => {
      await commitState(store, "c:1", conversation({ seq: 5 }), "d1");
      await commitState(store, "c:1", null, "d2");
      expect(await store.begin("c:1", "d3", LOCK_MS)).toMatchObject({ status: "acquired", state: null });
    });

    it("forgets the conversations a key matcher names (state, dedupe keys, lock, deadline) and keeps the rest", async () => {
      // Keys as the runtime builds them (channel:bot:conversation), ids with ':' inside as Teams has them.
      await commitState(store, "teams:28:b:a:1xyz", waiting("a:1xyz", 1000), "d1");
      await commitState(store, "teams:28:b:a:1xyz", waiting("a:1xyz", 1000), "d2");
      await commitState(store, "teams::other", waiting("other", 1000), "d1");
      const held = acquired(await store.begin("telegram::42", "d9", LOCK_MS));
      const target = (key: string) => key.endsWith(":a:1xyz") || key === "telegram::42";
      expect(await store.forget(target)).toBe(1);
      // No state, no deadline, and its delivery ids count as new again: nothing of it is left.
      expect(await store.dueTimeouts(5000, 10)).toEqual([{ key: "teams::other", ref: ref("other"), deadline: 1000 }]);
      expect(await store.begin("teams:28:b:a:1xyz", "d1", LOCK_MS)).toEqual({ status: "acquired", token: expect.any(String), state: null });
      // The lock went with it; the one holding it finds it lost.
      await expect(store.commit("telegram::42", held.token, conversation(), "d9", OPTS)).rejects.toBeInstanceOf(LockLostError);
      expect(await store.begin("teams::other", "d1", LOCK_MS)).toEqual({ status: "duplicate" });
      expect(await store.forget(target)).toBe(0);
    });

    it("returns due prompt deadlines oldest first, up to the limit, with their refs", async () => {
      await commitState(store, "c:late", waiting("late", 3000), "d");
      await commitState(store, "c:early", waiting("early", 1000), "d");
      await commitState(store, "c:mid", waiting("mid", 2000), "d");
      await commitState(store, "c:none", conversation({ ref: ref("none") }), "d");
      await commitState(store, "c:ended", { ...waiting("ended", 500), ended: true }, "d");
      expect(await store.dueTimeouts(2500, 10)).toEqual([
        { key: "c:early", ref: ref("early"), deadline: 1000 },
        { key: "c:mid", ref: ref("mid"), deadline: 2000 },
      ]);
      expect(await store.dueTimeouts(2000, 10)).toHaveLength(2); // "at or before now"
      expect((await store.dueTimeouts(10_000, 1)).map((d) => d.key)).toEqual(["c:early"]);
      expect((await store.dueTimeouts(10_000, 10)).map((d) => d.key)).toEqual(["c:early", "c:mid", "c:late"]);
      expect(await store.dueTimeouts(999, 10)).toEqual([]);
    });

    it("forgets a deadline once the prompt is answered, the dialogue ends, the state is deleted or expires", async () => {
      for (const id of ["answered", "ended", "deleted", "expired", "kept"]) await commitState(store, `c:${id}`, waiting(id, 1000), "d1");
      await commitState(store, "c:answered", { ...waiting("answered", 1000), prompt: null }, "d2");
      await commitState(store, "c:ended", { ...waiting("ended", 1000), ended: true }, "d2");
      await commitState(store, "c:deleted", null, "d2");
      await commitState(store, "c:expired", waiting("expired", 1000), "d2", { ...OPTS, stateTtlMs: SHORT_MS });
      clock.advance(SHORT_MS + 1);
      await eventually("the expired conversation to leave the deadline index", async () => {
        const due = await store.dueTimeouts(5000, 10);
        return JSON.stringify(due.map((d) => d.key)) === JSON.stringify(["c:kept"]);
      });
    });

    raceSuite(() => ({ t, clock }));
  });
}

/** Two Runtimes on two store instances over one backend, fed one conversation concurrently. */
function raceSuite(get: () => { t: StoreUnderTest; clock: ManualClock }): void {
  async function rig() {
    const { t, clock } = get();
    const queued: SurveyEvent[] = [];
    const queue: SurveyQueue = { add: async (e) => void queued.push(e), close: async () => {} };
    const actions = new ActionRegistry().register(statisticSetAction(queue));
    const scenarios = new ScenarioRegistry({ actions: actions.specs() });
    await scenarios.loadFile(CSAT);
    const delivery = { deliver: async () => {} };
    const counted = countCalls(t.store);
    const stores = [counted.store, await t.peer()];
    const runtimes = stores.map(
      (store) => new Runtime({ scenarios, store, delivery, actions, tracker: new SurveyTracker(queue), defaultScenarioId: "csat", clock }),
    );
    const conv = { channel: "test", conversationId: `race-${randomUUID()}`, userId: "u1" };
    const key = `test::${conv.conversationId}`;
    const results: { dedupeKey: string; r: HandleResult }[] = [];
    const fire = (i: number, event: Omit<InboundEvent, "channel" | "conversationId" | "userId">) =>
      (runtimes[i % 2] as Runtime).handle({ ...conv, ...event }).then((r) => void results.push({ dedupeKey: event.dedupeKey, r }));
    const read = async () => {
      const b = acquired(await t.store.begin(key, `read-${randomUUID()}`, LOCK_MS));
      await t.store.release(key, b.token);
      return b.state as ConversationState;
    };
    return { t, queued, fire, results, read, storeCalls: counted.calls };
  }

  it("two runtimes racing on one conversation process every event once, in a serial order", async () => {
    const { queued, fire, results, read } = await rig();

    // 50 restarts split across both runtimes, 10 of them also delivered to the other runtime at once.
    const phase1: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      phase1.push(fire(i, { kind: "start", dedupeKey: `start-${i}` }));
      if (i % 5 === 0) phase1.push(fire(i + 1, { kind: "start", dedupeKey: `start-${i}` }));
    }
    await Promise.all(phase1);
    expect(count(results, "processed")).toBe(50);
    expect(count(results, "duplicate")).toBe(10);
    expect(new Set(results.filter((x) => x.r.status === "processed").map((x) => x.dedupeKey)).size).toBe(50);
    // Each processed start offered the next prompt id and closed the one before: a chain p1 → … → p50.
    const offered = results.flatMap((x) => x.r.effects).flatMap((e) => (e.type === "send" && e.message.promptId ? [e.message.promptId] : []));
    expect(offered.sort(byNumber)).toEqual(Array.from({ length: 50 }, (_, i) => `p${i + 1}`));
    for (const { r } of results.filter((x) => x.r.status === "processed")) {
      const own = promptOf(r.effects);
      const closed = r.effects.find((e): e is Extract<Effect, { type: "close" }> => e.type === "close");
      if (own === 1) expect(closed).toBeUndefined();
      else expect(closed).toMatchObject({ promptId: `p${own - 1}`, reason: "restart" });
    }
    expect(await read()).toMatchObject({ dialogue: 50, seq: 50, prompt: { id: "p50", attempts: 0 }, ended: false });
    expect(new Set(queued.filter((e) => e.kind === "dialogue_started").map((e) => e.surveyId)).size).toBe(50);
    expect(queued.filter((e) => e.kind === "dialogue_started")).toHaveLength(50);

    // Two invalid answers at once, each also delivered to both runtimes: both count, once each.
    results.length = 0;
    await Promise.all([
      fire(0, { kind: "text", text: "hello", dedupeKey: "bad-1" }),
      fire(1, { kind: "text", text: "hello", dedupeKey: "bad-1" }),
      fire(1, { kind: "text", text: "what?", dedupeKey: "bad-2" }),
      fire(0, { kind: "text", text: "what?", dedupeKey: "bad-2" }),
    ]);
    expect([count(results, "processed"), count(results, "duplicate")]).toEqual([2, 2]);
    expect(await read()).toMatchObject({ seq: 52, prompt: { id: "p52", attempts: 2 }, ended: false });

    // One tap and then one comment, each delivered to both runtimes at once: one survey, recorded once.
    results.length = 0;
    await Promise.all([0, 1].map((i) => fire(i, { kind: "choice", promptId: "p52", buttonIndex: 3, dedupeKey: "tap" })));
    await Promise.all([0, 1].map((i) => fire(i, { kind: "text", text: "quick and kind", dedupeKey: "comment" })));
    expect([count(results, "processed"), count(results, "duplicate")]).toEqual([2, 2]);
    expect(await read()).toMatchObject({ seq: 53, ended: true, vars: { quality_answer: 4, quality_comment: "quick and kind" } });
    const completed = queued.filter((e) => e.kind === "completed");
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ score: 4, comment: "quick and kind" });
    expect(queued.filter((e) => e.kind === "answered")).toHaveLength(1);
  });

  it("costs two store calls per inbound event (begin + commit), one for a duplicate, and as many round trips at most", async () => {
    const { t, fire, storeCalls } = await rig();
    const trips = t.roundTrips ?? storeCalls; // in-process stores have no network: their calls are the cost
    const perEvent: { calls: number; trips: number }[] = [];
    const events: Omit<InboundEvent, "channel" | "conversationId" | "userId">[] = [
      { kind: "start", dedupeKey: "e1" },
      { kind: "text", text: "4", dedupeKey: "e2" },
      { kind: "text", text: "fine", dedupeKey: "e3" },
      { kind: "text", text: "fine", dedupeKey: "e3" },
    ];
    for (const event of events) {
      const [calls, round] = [storeCalls(), trips()];
      await fire(0, event);
      perEvent.push({ calls: storeCalls() - calls, trips: trips() - round });
    }
    expect(perEvent.map((e) => e.calls)).toEqual([2, 2, 2, 1]);
    expect(perEvent.map((e) => e.trips)).toEqual([2, 2, 2, 1]);
  });
}

/** Counts every call the runtime makes into a store. */
function countCalls(store: StateStore): { store: StateStore; calls: () => number } {
  let n = 0;
  const counted: StateStore = {
    begin: (...a) => (n++, store.begin(...a)),
    commit: (...a) => (n++, store.commit(...a)),
    release: (...a) => (n++, store.release(...a)),
    dueTimeouts: (...a) => (n++, store.dueTimeouts(...a)),
    forget: (m) => (n++, store.forget(m)),
    close: () => store.close(),
  };
  return { store: counted, calls: () => n };
}

function manualClock(start: number): ManualClock {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

function ref(id: string): ConversationRef {
  return { channel: "test", conversationId: id, userId: `u-${id}` };
}

function conversation(over: Partial<ConversationState> = {}): ConversationState {
  return {
    scenarioId: "csat",
    scenarioVersion: "v1",
    dialogue: 1,
    seq: 0,
    prompt: null,
    pendingAction: null,
    vars: {},
    locale: "en",
    ended: false,
    startedAt: 1000,
    updatedAt: 1000,
    ...over,
  };
}

function waiting(id: string, deadline: number): ConversationState {
  return conversation({ ref: ref(id), seq: 1, prompt: { id: "p1", blockId: "ask_rating", attempts: 0, deadline } });
}

function acquired<T extends { status: string }>(r: T): Extract<T, { status: "acquired" }> {
  if (r.status !== "acquired") throw new Error(`expected to acquire the lock, got ${r.status}`);
  return r as Extract<T, { status: "acquired" }>;
}

async function commitState(store: StateStore, key: string, state: ConversationState | null, dedupeKey: string, opts = OPTS): Promise<void> {
  const b = acquired(await store.begin(key, dedupeKey, LOCK_MS));
  await store.commit(key, b.token, state, dedupeKey, opts);
}

/** Polls `check` until it holds, for at most `ms`: the store may keep time itself. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

function count(results: { r: HandleResult }[], status: HandleResult["status"]): number {
  return results.filter((x) => x.r.status === status).length;
}

function promptOf(effects: readonly Effect[]): number {
  const send = effects.find((e) => e.type === "send" && e.message.promptId);
  return send?.type === "send" ? Number(send.message.promptId?.slice(1)) : Number.NaN;
}

function byNumber(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}
