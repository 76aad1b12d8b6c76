/**
 * Hostile text in, storable text out: the cleaning rule (engine/text.ts `cleanText`) where text
 * enters the engine, in scenario files, in survey events, and the worker's last resort when the
 * database still refuses an event for its data. The channels × stores matrix is in
 * hostile-text-matrix.test.ts.
 */
import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import { cleanText, needsCleaning } from "../../engine/text.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { cleanSurveyEvent } from "../../stats/clean-survey-event.ts";
import type { SurveyEvent } from "../../stats/events.ts";
import { parseSurveyEvent } from "../../stats/queue/parse-survey-event.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { isDataError } from "../../stats/store/sql-errors.ts";
import { SurveyBatchWriter, type SurveyWriteStore } from "../../stats/worker-batch-writer.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";
import { HOSTILE_TEXTS } from "./hostile-texts.ts";

describe("cleanText", () => {
  it("removes U+0000, replaces lone surrogates with U+FFFD and leaves everything else alone", () => {
    for (const t of HOSTILE_TEXTS) {
      expect(cleanText(t.sent).trim(), t.name).toBe(t.stored);
      expect(needsCleaning(t.sent), t.name).toBe(t.sanitized);
    }
    expect(cleanText("\ud800\ud800\udc00")).toBe("\uFFFD\ud800\udc00"); // a lone high before a whole pair
    expect(cleanText("\udc00\udc00")).toBe("\uFFFD\uFFFD");
    expect(cleanText("\u0000")).toBe("");
  });

  it("gives back the very same string when nothing had to change", () => {
    const s = "Quick and friendly 👍";
    expect(cleanText(s)).toBe(s);
  });

  it("always gives text that is valid UTF-8 (survives an encode/decode round trip)", () => {
    for (let i = 0; i < 2000; i++) {
      const units = Array.from({ length: 8 }, (_, k) => [0, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0x41, 0x5d0, 0xd83d, 0xde00][(i * 7 + k * 3 + (i >> k)) % 9]!);
      const out = cleanText(String.fromCharCode(...units));
      expect(Buffer.from(out, "utf8").toString("utf8")).toBe(out);
      expect(out).not.toContain("\u0000");
    }
  });
});

const CSAT = loadTestScenario(`
id: csat
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "1", value: 1 }, { label: "5", value: 5 }]
    save_to: quality_answer
    next: comment
  comment:
    type: wait_for_response
    text: Any comment?
    save_to: quality_comment
    max_length: 65536
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: thanks
  thanks:
    type: end
    text: Thanks!
`);

function runtimeWith(queue: RecordingQueue) {
  const clock = new ManualClock();
  const scenarios = new ScenarioRegistry();
  scenarios.add(CSAT);
  const runtime = new Runtime({
    scenarios,
    store: new MemoryStateStore(clock),
    delivery: new RecordingDelivery(),
    actions: testActions(queue),
    tracker: new SurveyTracker(queue),
    clock,
    defaultScenarioId: "csat",
  });
  let n = 0;
  const ev = (kind: InboundEvent["kind"], extra: Partial<InboundEvent> = {}): InboundEvent => ({ channel: "test", conversationId: "c1", userId: "u1", kind, dedupeKey: `k${++n}`, ...extra });
  return { runtime, ev };
}

describe("the engine boundary", () => {
  it("saves typed text cleaned, and the survey says when its comment had to be cleaned", async () => {
    for (const t of HOSTILE_TEXTS) {
      const queue = new RecordingQueue();
      const { runtime, ev } = runtimeWith(queue);
      await runtime.handle(ev("start"));
      await runtime.handle(ev("choice", { promptId: "p1", buttonIndex: 1 }));
      const r = await runtime.handle(ev("text", { text: t.sent }));
      expect(r.state?.vars.quality_comment, t.name).toBe(t.stored);
      expect(r.state?.cleanedVars ?? [], t.name).toEqual(t.sanitized ? ["quality_comment"] : []);
      const commented = queue.events.find((e) => e.kind === "commented");
      const completed = queue.events.find((e) => e.kind === "completed");
      expect(commented, t.name).toMatchObject({ comment: t.stored });
      expect(completed, t.name).toMatchObject({ score: 5, comment: t.stored });
      expect(commented?.commentSanitized === true, t.name).toBe(t.sanitized);
      expect(completed?.commentSanitized === true, t.name).toBe(t.sanitized);
      for (const e of queue.events) expect(() => JSON.parse(JSON.stringify(e)), t.name).not.toThrow();
    }
  });

  it("matches a typed rating that carries a NUL like the clean rating", async () => {
    const queue = new RecordingQueue();
    const { runtime, ev } = runtimeWith(queue);
    await runtime.handle(ev("start"));
    const r = await runtime.handle(ev("text", { text: "5\u0000" }));
    expect(r.state?.vars.quality_answer).toBe(5);
    expect(r.state?.cleanedVars).toBeUndefined();
  });

  it("cleans scenario strings at load, with a warning where they stand", () => {
    const r = loadScenarioText(
      'id: x\nstart: a\nblocks:\n  a:\n    type: message_with_keyboard\n    text: "Rate\\0 us"\n    buttons: [{ label: "ok\\ud800", value: 1 }]\n    save_to: quality_answer\n    next: b\n  b:\n    type: end\n',
      "x.yaml",
      { actions: testActions().specs() },
    );
    expect(r.scenario).toBeDefined();
    const block = r.scenario!.def.blocks.a as { text: string; buttons: { label: string }[] };
    expect(block.text).toBe("Rate us");
    expect(block.buttons[0]!.label).toBe("ok\uFFFD");
    expect(r.problems.map((p) => [p.line, p.severity])).toEqual([
      [6, "warning"],
      [7, "warning"],
    ]);
    expect(r.problems[0]!.message).toMatch(/U\+0000/);
  });
});

const base: SurveyEvent = {
  kind: "completed",
  surveyId: "s1",
  scenarioId: "csat",
  scenarioVersion: "v1",
  channel: "webchat",
  botId: "",
  conversationId: "c1",
  dialogueStartedAt: 1_700_000_000_000,
  at: 1_700_000_001_000,
  score: 4,
};

describe("survey events", () => {
  it("are cleaned by the worker's parser, so a job dead-lettered for its text stores on replay", () => {
    const parsed = parseSurveyEvent(JSON.parse(JSON.stringify({ ...base, comment: "a\u0000b \ud800", conversationId: "c\u00001" })));
    expect(parsed).toMatchObject({ comment: "ab \uFFFD", commentSanitized: true, conversationId: "c1", score: 4 });
    expect(parseSurveyEvent({ ...base, comment: "fine" })).not.toHaveProperty("commentSanitized");
    expect(() => parseSurveyEvent({ ...base, commentSanitized: "yes" })).toThrow(/commentSanitized/);
  });

  it("pass through untouched (the same object) when clean", () => {
    const e = { ...base, comment: "👍🏽 fine" };
    expect(cleanSurveyEvent(e)).toBe(e);
  });
});

/** A store that refuses, like PostgreSQL, any event whose comment contains `poison`. */
class RefusingStore implements SurveyWriteStore {
  readonly stored: SurveyEvent[] = [];
  calls = 0;
  async migrate(): Promise<void> {}
  async close(): Promise<void> {}
  async apply(events: readonly SurveyEvent[]): Promise<void> {
    this.calls++;
    if (events.some((e) => e.comment?.includes("poison"))) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8"'), { code: "22021" });
    this.stored.push(...events);
  }
}

describe("the worker's last resort", () => {
  it("stores an event the database refuses for its data without the comment, flagged, and the rest of the batch as is", async () => {
    const store = new RefusingStore();
    const writer = new SurveyBatchWriter(store);
    await Promise.all([writer.write({ ...base, surveyId: "a", comment: "poison words" }), writer.write({ ...base, surveyId: "b", comment: "kind words" })]);
    expect(store.stored.map((e) => [e.surveyId, e.score, e.comment, e.commentSanitized === true])).toEqual([
      ["a", 4, "", true],
      ["b", 4, "kind words", false],
    ]);
    expect(writer.stats.salvaged).toBe(1);
    // A single refused event is salvaged without being tried twice as it was.
    const one = new RefusingStore();
    await new SurveyBatchWriter(one).write({ ...base, comment: "poison" });
    expect(one.calls).toBe(2);
    expect(one.stored).toMatchObject([{ comment: "", commentSanitized: true, score: 4 }]);
  });

  it("still refuses what salvaging cannot fix, and never treats an outage as bad data", async () => {
    expect(isDataError({ code: "22P05" })).toBe(true);
    expect(isDataError({ code: "08006" })).toBe(false);
    expect(isDataError(new Error("x"))).toBe(false);
    const store = new RefusingStore();
    await expect(new SurveyBatchWriter(store).write({ ...base, kind: "answered" as const, comment: undefined, reason: "x", surveyId: "poison" })).resolves.toBeUndefined();
    const refusing: SurveyWriteStore = { migrate: async () => {}, close: async () => {}, apply: async () => Promise.reject(Object.assign(new Error("out of range"), { code: "22003" })) };
    await expect(new SurveyBatchWriter(refusing).write({ ...base, comment: "" })).rejects.toThrow(/out of range/);
  });
});
