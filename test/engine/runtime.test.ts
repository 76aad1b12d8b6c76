import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { MAX_ACTIONS_PER_EVENT, Runtime, surveyId, type RuntimeOptions } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { ActionContext, Tracker } from "../../engine/ports.ts";
import type { InboundEvent, TrackEvent } from "../../engine/types.ts";
import { surveyJobId, type SurveyEvent, type SurveyQueue } from "../../stats/events.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { ofType, texts } from "../helpers/conversation.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery, RecordingLogger, RecordingTracker } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const CSAT = loadTestScenario(`
id: csat
locale: en
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate us from 1 to 5
    buttons:
      - { label: "1", value: 1 }
      - { label: "2", value: 2 }
      - { label: "3", value: 3 }
      - { label: "4", value: 4 }
      - { label: "5", value: 5 }
    save_to: quality_answer
    skip: { label: Skip, next: thanks }
    timeout: { after: 1h, next: save }
    next: comment
  comment:
    type: wait_for_response
    text: Any comment?
    save_to: quality_comment
    timeout: { after: 1h, next: save }
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    on_error: sorry
    next: thanks
  sorry:
    type: message
    text: Sorry, that did not work.
    next: thanks
  thanks:
    type: end
    text: Thanks!
`);

const LOOP = loadTestScenario(`
id: loop
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Say something
    save_to: last
    next: echo
  echo:
    type: message
    text: "got {{last}}"
    next: ask
`);

const HOUR = 3_600_000;

class FailingQueue implements SurveyQueue {
  async add(event: SurveyEvent): Promise<void> {
    // Like a database driver that quotes the row it refused.
    throw new Error(`insert into surveys failed: value too long for comment "${event.comment ?? ""}"`);
  }
  async close(): Promise<void> {}
}

function setup(options: Partial<RuntimeOptions> & { queue?: SurveyQueue } = {}) {
  const clock = new ManualClock();
  const store = new MemoryStateStore(clock);
  const delivery = new RecordingDelivery();
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const tracker = new RecordingTracker();
  const scenarios = new ScenarioRegistry();
  scenarios.add(CSAT);
  scenarios.add(LOOP);
  const runtime = new Runtime({
    scenarios,
    store,
    delivery,
    actions: testActions(options.queue ?? queue),
    tracker,
    logger,
    clock,
    defaultScenarioId: "csat",
    lockWaitMs: 1000,
    ...options,
  });
  let n = 0;
  const event = (kind: InboundEvent["kind"], extra: Partial<InboundEvent> = {}): InboundEvent => ({
    channel: "test",
    conversationId: "c1",
    userId: "u1",
    kind,
    dedupeKey: `k${++n}`,
    ...extra,
  });
  return { clock, store, delivery, queue, logger, tracker, scenarios, runtime, event };
}

describe("Runtime", () => {
  it("runs a CSAT dialogue end to end: delivery, action, saved state", async () => {
    const t = setup();
    const started = await t.runtime.handle(t.event("start"));
    expect(started.status).toBe("processed");
    expect(texts(started.effects)).toEqual(["Rate us from 1 to 5"]);
    expect(started.state).toMatchObject({ ref: { channel: "test", conversationId: "c1", userId: "u1" }, prompt: { id: "p1" } });

    await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 3 }));
    const last = await t.runtime.handle(t.event("text", { text: "Quick and friendly" }));
    expect(texts(last.effects)).toEqual(["Thanks!"]);
    expect(last.state).toMatchObject({ ended: true, pendingAction: null, vars: { quality_answer: 4, quality_comment: "Quick and friendly" } });

    expect(t.queue.events).toHaveLength(1);
    expect(t.queue.events[0]).toMatchObject({ kind: "completed", score: 4, comment: "Quick and friendly", scenarioId: "csat", scenarioVersion: CSAT.version, conversationId: "c1", channel: "test", botId: "" });
    expect(t.delivery.texts()).toEqual(["Rate us from 1 to 5", "Any comment?", "Thanks!"]);
    // Every delivered batch went to the conversation's ref.
    expect(new Set(t.delivery.batches.map((b) => JSON.stringify(b.ref)))).toEqual(new Set([JSON.stringify({ channel: "test", conversationId: "c1", userId: "u1" })]));
  });

  describe("dedupe", () => {
    it("the same dedupe key twice: the second is a duplicate with no effects and nothing re-run", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 4 }));
      const comment = t.event("text", { text: "fine" });
      const first = await t.runtime.handle(comment);
      expect(first.status).toBe("processed");
      const batches = t.delivery.batches.length;
      const tracked = t.tracker.events.length;

      const again = await t.runtime.handle({ ...comment });
      expect(again).toEqual({ status: "duplicate", effects: [], state: null });
      expect(t.delivery.batches).toHaveLength(batches);
      expect(t.tracker.events).toHaveLength(tracked);
      expect(t.queue.events).toHaveLength(1);
    });

    it("a start redelivered does not start a second dialogue", async () => {
      const t = setup();
      const start = t.event("start");
      await t.runtime.handle(start);
      expect((await t.runtime.handle(start)).status).toBe("duplicate");
      const next = await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 0 }));
      expect(next.state).toMatchObject({ dialogue: 1, vars: { quality_answer: 1 } });
    });

    it("the same key delivered twice at once is processed once", async () => {
      const t = setup();
      const start = t.event("start");
      const results = await Promise.all([t.runtime.handle(start), t.runtime.handle({ ...start })]);
      expect(results.map((r) => r.status).sort()).toEqual(["duplicate", "processed"]);
      expect(t.delivery.batches).toHaveLength(1);
    });

    it("dedupe is per conversation", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start", { dedupeKey: "same" }));
      const other = await t.runtime.handle(t.event("start", { dedupeKey: "same", conversationId: "c2" }));
      expect(other.status).toBe("processed");
    });
  });

  describe("nothing is lost", () => {
    it("a delivery that throws saves nothing and releases the lock; the redelivery works", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 1 }));
      const comment = t.event("text", { text: "slow answer" });
      t.delivery.failures = 1;
      await expect(t.runtime.handle(comment)).rejects.toThrow("channel unavailable");

      // The lock was released: the redelivery does not wait for it (lockWaitMs would throw ConversationBusyError).
      const retried = await t.runtime.handle({ ...comment });
      expect(retried.status).toBe("processed");
      expect(retried.state).toMatchObject({ ended: true, vars: { quality_answer: 2, quality_comment: "slow answer" } });
      expect(t.delivery.texts()).toEqual(["Rate us from 1 to 5", "Any comment?", "Thanks!"]);
      // The action ran on both attempts with the same survey: one queue job.
      expect(t.queue.events).toHaveLength(2);
      expect(new Set(t.queue.events.map(surveyJobId)).size).toBe(1);
    });

    it("a start whose first prompt could not be delivered is the same survey when it comes again later", async () => {
      const t = setup();
      const start = t.event("start");
      t.delivery.failures = 1;
      await expect(t.runtime.handle(start)).rejects.toThrow("channel unavailable");
      t.clock.advance(30_000); // the messenger redelivers half a minute later
      expect((await t.runtime.handle({ ...start })).status).toBe("processed");
      const started = t.tracker.events.filter((x) => x.event.type === "dialogue_started");
      expect(started).toHaveLength(2); // tracked on both attempts...
      expect(new Set(started.map((x) => x.ctx.surveyId)).size).toBe(1); // ...as one survey
      // A genuinely new dialogue is another survey.
      await t.runtime.handle(t.event("start"));
      const all = t.tracker.events.filter((x) => x.event.type === "dialogue_started");
      expect(new Set(all.map((x) => x.ctx.surveyId)).size).toBe(2);
    });

    it("a tracker that throws fails the event without saving it; the redelivery works", async () => {
      const t = setup();
      let failures = 1;
      const flaky: Tracker = {
        async track(event: TrackEvent, ctx: Omit<ActionContext, "blockId">) {
          if (failures-- > 0) throw new Error("queue down");
          await t.tracker.track(event, ctx);
        },
      };
      const runtime = new Runtime({ scenarios: t.scenarios, store: t.store, delivery: t.delivery, actions: testActions(t.queue), tracker: flaky, clock: t.clock, defaultScenarioId: "csat", lockWaitMs: 1000 });
      const start = t.event("start");
      await expect(runtime.handle(start)).rejects.toThrow("queue down");
      expect(t.delivery.batches).toHaveLength(0);
      const retried = await runtime.handle({ ...start });
      expect(retried.status).toBe("processed");
      expect(retried.state?.dialogue).toBe(1);
      expect(t.tracker.events.map((e) => e.event.type)).toEqual(["dialogue_started", "prompt_offered"]);
    });

    it("an action that throws is logged with the conversation id, never with the comment, and the dialogue goes on", async () => {
      const t = setup({ queue: new FailingQueue() });
      const secret = "my neighbour Jane Doe was rude";
      await t.runtime.handle(t.event("start"));
      await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 0 }));
      const r = await t.runtime.handle(t.event("text", { text: secret }));
      expect(r.status).toBe("processed");
      expect(texts(r.effects)).toEqual(["Sorry, that did not work.", "Thanks!"]);
      expect(r.state).toMatchObject({ ended: true, prompt: null, pendingAction: null });

      const errors = t.logger.lines.filter((l) => l.level === "error");
      expect(errors).toHaveLength(1);
      expect(errors[0]?.obj).toMatchObject({ conversation: "test::c1", scenario: "csat", block: "save", action: "statistic__set", err: { name: "Error" } });
      expect(JSON.stringify(errors[0]?.obj)).toContain("value too long for comment");
      for (const line of t.logger.serialized()) expect(line).not.toContain(secret);
    });

    it("a chain of more actions than one event may run ends the dialogue instead of leaving it stuck", async () => {
      const n = MAX_ACTIONS_PER_EVENT + 5;
      const blocks = Array.from({ length: n }, (_, i) =>
        `  a${i}:\n    type: action\n    action: statistic__set\n    config: { type: quality }\n    next: ${i + 1 < n ? `a${i + 1}` : "done"}\n`,
      ).join("");
      const chain = loadTestScenario(`id: chain\nstart: a0\nblocks:\n${blocks}  done:\n    type: end\n    text: done\n`);
      const t = setup({ defaultScenarioId: "chain" });
      t.scenarios.add(chain);
      const r = await t.runtime.handle(t.event("start"));
      expect(ofType(r.effects, "runAction")).toHaveLength(MAX_ACTIONS_PER_EVENT + 1);
      expect(r.state).toMatchObject({ ended: true, pendingAction: null });
      expect(r.effects.at(-1)).toEqual({ type: "track", event: { type: "dialogue_ended" } });
      expect(t.logger.lines.filter((l) => l.level === "error").map((l) => l.obj)).toEqual([{ conversation: "test::c1", scenario: "chain", block: `a${MAX_ACTIONS_PER_EVENT}` }]);
      // Not stuck: the next start runs a new dialogue.
      expect((await t.runtime.handle(t.event("start"))).state?.dialogue).toBe(2);
    });
  });

  describe("tracking", () => {
    it("the tracker hears every survey event with the dialogue's context", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      t.clock.advance(5000);
      await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 4 }));
      await t.runtime.handle(t.event("text", { text: "great" }));
      expect(t.tracker.events.map((e) => e.event)).toEqual([
        { type: "dialogue_started" },
        { type: "prompt_offered", blockId: "rate", saveTo: "quality_answer", scale: { min: 1, max: 5 } },
        { type: "prompt_answered", blockId: "rate", saveTo: "quality_answer", value: 5 },
        { type: "prompt_offered", blockId: "comment", saveTo: "quality_comment", scale: undefined },
        { type: "prompt_answered", blockId: "comment", saveTo: "quality_comment", value: "great" },
        { type: "dialogue_ended" },
      ]);
      const ids = new Set(t.tracker.events.map((e) => e.ctx.surveyId));
      expect(ids.size).toBe(1);
      const first = t.tracker.events[0]?.ctx;
      expect(first).toMatchObject({ scenarioId: "csat", scenarioVersion: CSAT.version, dialogueStartedAt: t.clock.now() - 5000, ref: { channel: "test", conversationId: "c1", userId: "u1" } });
      expect(t.tracker.events[2]?.ctx.at).toBe(t.clock.now());
    });

    it("the real SurveyTracker turns them into survey events on the queue", async () => {
      const t = setup();
      const surveys = new RecordingQueue();
      const runtime = new Runtime({ scenarios: t.scenarios, store: t.store, delivery: t.delivery, actions: testActions(surveys), tracker: new SurveyTracker(surveys), clock: t.clock, defaultScenarioId: "csat" });
      await runtime.handle(t.event("start"));
      await runtime.handle(t.event("text", { text: "2" }));
      await runtime.handle(t.event("text", { text: "too slow" }));
      expect(surveys.events.map((e) => [e.kind, e.score, e.comment])).toEqual([
        ["dialogue_started", undefined, undefined],
        ["offered", undefined, undefined],
        ["answered", 2, undefined],
        ["commented", undefined, "too slow"],
        ["completed", 2, "too slow"],
      ]);
      expect(surveys.events[1]?.scale).toEqual({ min: 1, max: 5 });
      expect(new Set(surveys.events.map((e) => e.surveyId)).size).toBe(1);
    });

    it("surveyId is stable within a dialogue and new for the next one", async () => {
      const t = setup();
      const a = await t.runtime.handle(t.event("start"));
      await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 2 }));
      t.clock.advance(1000);
      const b = await t.runtime.handle(t.event("start"));
      const byDialogue = new Map<number, Set<string>>();
      // The start ended the first dialogue, interrupted: that end names its dialogue itself (event.interrupted).
      const interrupted = t.tracker.events.filter((e) => e.event.interrupted);
      expect(interrupted.map((e) => e.event)).toMatchObject([{ type: "dialogue_ended", reason: "restart", interrupted: { dialogue: 1 } }]);
      for (const e of t.tracker.events) {
        if (e.event.interrupted) continue;
        const d = e.event.type === "dialogue_started" ? byDialogue.size + 1 : byDialogue.size;
        if (!byDialogue.has(d)) byDialogue.set(d, new Set());
        byDialogue.get(d)?.add(e.ctx.surveyId);
      }
      expect([...byDialogue.values()].map((s) => s.size)).toEqual([1, 1]);
      const [first, second] = [...byDialogue.values()].map((s) => [...s][0]);
      expect(first).not.toBe(second);
      if (!a.state?.ref || !b.state?.ref) throw new Error("no ref saved");
      expect(first).toBe(surveyId(a.state.ref, a.state));
      expect(surveyId(a.state.ref, interrupted[0]!.event.interrupted!)).toBe(first);
      expect(second).toBe(surveyId(b.state.ref, b.state));
      expect(surveyId(a.state.ref, a.state)).toBe(surveyId({ ...a.state.ref }, { ...a.state }));
    });
  });

  describe("timeouts", () => {
    it("sweepTimeouts fires a due timeout exactly once, on the simulated clock", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      t.clock.advance(HOUR - 1);
      expect(await t.runtime.sweepTimeouts()).toBe(0);
      expect(t.delivery.batches).toHaveLength(1);

      t.clock.advance(1);
      expect(await t.runtime.sweepTimeouts()).toBe(1);
      const batch = t.delivery.batches[1];
      expect(batch?.effects.slice(0, 2)).toEqual([
        { type: "close", promptId: "p1", reason: "timeout" },
        { type: "track", event: { type: "prompt_declined", blockId: "rate", saveTo: "quality_answer", reason: "timeout" } },
      ]);
      expect(t.delivery.texts()).toEqual(["Rate us from 1 to 5", "Thanks!"]);
      expect(t.tracker.events.map((e) => e.event.type)).toContain("prompt_declined");

      t.clock.advance(HOUR * 5);
      expect(await t.runtime.sweepTimeouts()).toBe(0);
      expect(t.delivery.batches).toHaveLength(2);
    });

    it("never fires for an answered prompt; the next prompt's deadline fires on its own", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      await t.runtime.handle(t.event("start", { conversationId: "c2" }));
      t.clock.advance(10 * 60_000);
      await t.runtime.handle(t.event("choice", { conversationId: "c2", promptId: "p1", buttonIndex: 4 }));

      t.clock.advance(HOUR - 10 * 60_000);
      expect(await t.runtime.sweepTimeouts()).toBe(1); // c1's rating only
      expect(t.delivery.batches.at(-1)?.ref.conversationId).toBe("c1");

      t.clock.advance(10 * 60_000 - 1);
      expect(await t.runtime.sweepTimeouts()).toBe(0);
      t.clock.advance(1);
      expect(await t.runtime.sweepTimeouts()).toBe(1); // c2's comment prompt
      const c2 = t.delivery.batches.at(-1);
      expect(c2?.ref.conversationId).toBe("c2");
      expect(c2?.effects[0]).toEqual({ type: "close", promptId: "p2", reason: "timeout" });
      expect(await t.runtime.sweepTimeouts()).toBe(0);
      // The rating survived the comment's timeout and reached statistics.
      expect(t.queue.events.map((e) => [e.conversationId, e.score])).toEqual([["c2", 5]]);
    });

    it("an answer arriving before the sweep but after the deadline fires the timeout, not the answer", async () => {
      const t = setup();
      await t.runtime.handle(t.event("start"));
      t.clock.advance(HOUR + 1);
      const r = await t.runtime.handle(t.event("text", { text: "5" }));
      expect(r.state).toMatchObject({ ended: true, vars: {} });
      expect(await t.runtime.sweepTimeouts()).toBe(0);
    });
  });

  describe("scenarios", () => {
    it("a start for an unknown scenario id is ignored and logged; a dialogue in progress goes on", async () => {
      const t = setup();
      const none = await t.runtime.handle(t.event("start", { scenarioId: "nope" }));
      expect(none.effects).toEqual([{ type: "ignored", reason: "no_dialogue" }]);
      expect(none.state).toBeNull();
      expect(t.logger.lines.filter((l) => l.level === "warn").map((l) => l.obj)).toEqual([{ conversation: "test::c1", scenario: "nope" }]);

      await t.runtime.handle(t.event("start"));
      const again = await t.runtime.handle(t.event("start", { scenarioId: "nope" }));
      expect(again.state).toMatchObject({ scenarioId: "csat", ended: false, prompt: { id: "p1" } });
      const answered = await t.runtime.handle(t.event("choice", { promptId: "p1", buttonIndex: 2 }));
      expect(answered.state?.vars).toEqual({ quality_answer: 3 });
    });

    it("a start picks the scenario it names", async () => {
      const t = setup();
      const r = await t.runtime.handle(t.event("start", { scenarioId: "loop" }));
      expect(texts(r.effects)).toEqual(["Say something"]);
      expect(r.state?.scenarioId).toBe("loop");
    });

    it("text with no dialogue starts the default scenario only with startIfIdle", async () => {
      const t = setup();
      expect((await t.runtime.handle(t.event("text", { text: "hi" }))).effects).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: undefined }]);
      const r = await t.runtime.handle(t.event("text", { text: "hi", startIfIdle: true }));
      expect(r.state).toMatchObject({ scenarioId: "csat", dialogue: 1 });
    });
  });

  describe("concurrency", () => {
    it("20 concurrent events on one conversation are serialised: none lost, none interleaved", async () => {
      const t = setup({ defaultScenarioId: "loop" });
      await t.runtime.handle(t.event("start"));
      const events = Array.from({ length: 20 }, (_, i) => t.event("text", { text: `m${i}` }));
      const results = await Promise.all(events.map((e) => t.runtime.handle(e)));
      expect(results.every((r) => r.status === "processed")).toBe(true);
      expect(t.delivery.maxInFlight).toBe(1);

      const batches = t.delivery.batches.slice(1);
      expect(batches).toHaveLength(20);
      // Each step closed exactly the prompt the step before it offered.
      batches.forEach((b, i) => {
        expect(ofType(b.effects, "close")[0]?.promptId).toBe(`p${i + 1}`);
        expect(ofType(b.effects, "send").at(-1)?.message.promptId).toBe(`p${i + 2}`);
      });
      const got = t.delivery.texts().filter((x) => x.startsWith("got "));
      expect(got.sort()).toEqual(events.map((e) => `got ${e.text}`).sort());
      const final = results.find((r) => r.state?.seq === 21);
      expect(final).toBeDefined();
    });

    it("two runtimes sharing one store (two processes) never interleave a conversation", async () => {
      const t = setup({ defaultScenarioId: "loop" });
      const other = new Runtime({ scenarios: t.scenarios, store: t.store, delivery: t.delivery, actions: testActions(t.queue), clock: t.clock, defaultScenarioId: "loop", lockWaitMs: 5000 });
      await t.runtime.handle(t.event("start"));
      const events = Array.from({ length: 12 }, (_, i) => t.event("text", { text: `m${i}` }));
      const results = await Promise.all(events.map((e, i) => (i % 2 === 0 ? t.runtime : other).handle(e)));
      expect(results.every((r) => r.status === "processed")).toBe(true);
      expect(t.delivery.maxInFlight).toBe(1);
      t.delivery.batches.slice(1).forEach((b, i) => expect(ofType(b.effects, "close")[0]?.promptId).toBe(`p${i + 1}`));
      expect(Math.max(...results.map((r) => r.state?.seq ?? 0))).toBe(13);
    });

    it("an event that outlived its lock is not saved over the newer state; its redelivery is processed", async () => {
      const t = setup({ defaultScenarioId: "loop", lockMs: 30_000 });
      await t.runtime.handle(t.event("start"));
      let open: () => void = () => {};
      const gate = new Promise<void>((r) => (open = r));
      const slow = new Runtime({
        scenarios: t.scenarios,
        store: t.store,
        delivery: { deliver: () => gate },
        actions: testActions(t.queue),
        clock: t.clock,
        defaultScenarioId: "loop",
        lockMs: 30_000,
      });
      const first = t.event("text", { text: "slow" });
      const stuck = slow.handle(first);
      await new Promise<void>((r) => setImmediate(r));
      t.clock.advance(30_001); // the slow event's lock expires
      const second = await t.runtime.handle(t.event("text", { text: "fast" }));
      expect(second.state?.vars).toEqual({ last: "fast" });
      open();
      await expect(stuck).rejects.toThrow("lost the lock");

      const redelivered = await t.runtime.handle({ ...first });
      expect(redelivered.status).toBe("processed");
      expect(redelivered.state).toMatchObject({ vars: { last: "slow" }, seq: 3 });
      expect(t.delivery.texts().filter((x) => x.startsWith("got "))).toEqual(["got fast", "got slow"]);
    });

    it("events on different conversations do not wait for each other", async () => {
      const t = setup();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => t.runtime.handle(t.event("start", { conversationId: `c${i}` }))),
      );
      expect(results.map((r) => r.state?.prompt?.id)).toEqual(Array(10).fill("p1"));
    });
  });
});
