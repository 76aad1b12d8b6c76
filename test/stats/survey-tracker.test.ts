/**
 * What the runtime tells the statistics pipeline, end to end through the real loader,
 * interpreter, runtime, SurveyTracker and statistic__set, for the csat scenario and a
 * thumbs scale: every event kind the figures need, and the reference display rules.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { toScore, type SurveyEvent } from "../../stats/events.ts";
import { SurveyTracker, toSurveyEvent } from "../../stats/survey-tracker.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const csatYaml = readFileSync(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");

const thumbsYaml = `
id: thumbs
locale: en
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Did we help?
    buttons:
      - { label: "👍", value: 100 }
      - { label: "👎", value: 0 }
    save_to: quality_answer
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
`;

const typedYaml = `
id: typed
locale: en
start: rate
blocks:
  rate:
    type: wait_for_response
    text: Type a rating from 1 to 5
    save_to: quality_answer
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
`;

const commentOnlyYaml = `
id: comment_only
locale: en
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }]
    save_to: quality_answer
    skip: { label: Skip, next: comment }
    next: comment
  comment:
    type: wait_for_response
    text: Anything to add?
    save_to: quality_comment
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
`;

function setup(yaml: string) {
  const scenarios = new ScenarioRegistry();
  const scenario = loadTestScenario(yaml);
  scenarios.add(scenario);
  const queue = new RecordingQueue();
  const clock = new ManualClock();
  const delivery = new RecordingDelivery();
  const runtime = new Runtime({
    scenarios,
    store: new MemoryStateStore(clock),
    delivery,
    actions: testActions(queue),
    tracker: new SurveyTracker(queue),
    defaultScenarioId: scenario.id,
    clock,
  });
  let n = 0;
  const send = (e: Partial<InboundEvent>) =>
    runtime.handle({ channel: "telegram", conversationId: "42", userId: "7", botId: "b1", kind: "text", dedupeKey: `d${n++}`, ...e } as InboundEvent);
  const promptId = () => {
    const sent = delivery.batches.flatMap((b) => b.effects).filter((e) => e.type === "send" && e.message.promptId);
    const last = sent[sent.length - 1];
    return last?.type === "send" ? last.message.promptId : undefined;
  };
  return { queue, clock, send, promptId };
}

const kinds = (events: SurveyEvent[]) => events.map((e) => e.kind);

describe("survey events from the runtime", () => {
  it("rating then comment: started, offered with the scale, answered, commented, completed", async () => {
    const { queue, clock, send, promptId } = setup(csatYaml);
    await send({ kind: "start" });
    clock.advance(5_000);
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 3 });
    clock.advance(5_000);
    await send({ text: "Quick and kind" });
    const e = queue.events;
    expect(kinds(e)).toEqual(["dialogue_started", "offered", "answered", "commented", "completed"]);
    expect(e[1]).toMatchObject({ scale: { min: 1, max: 5 } });
    expect(e[2]).toMatchObject({ score: 4 });
    expect(e[3]).toMatchObject({ comment: "Quick and kind" });
    expect(e[4]).toMatchObject({ score: 4, comment: "Quick and kind" });
    // One survey per dialogue, every job with its dimensions and timestamps.
    expect(new Set(e.map((x) => x.surveyId)).size).toBe(1);
    for (const x of e) {
      expect(x).toMatchObject({ scenarioId: "csat", channel: "telegram", botId: "b1", conversationId: "42", dialogueStartedAt: Date.UTC(2026, 0, 1) });
    }
    expect(e.map((x) => x.at)).toEqual([0, 0, 5_000, 10_000, 10_000].map((d) => Date.UTC(2026, 0, 1) + d));
  });

  it("a rating without a comment is completed with an empty comment", async () => {
    const { queue, send, promptId } = setup(csatYaml);
    await send({ kind: "start" });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 1 });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 0 }); // "No comment" (the skip button)
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered", "answered", "completed"]);
    expect(queue.events[3]).toMatchObject({ score: 2, comment: "" });
  });

  it("declined by the skip button: declined with its reason, and nothing completed", async () => {
    const { queue, send, promptId } = setup(csatYaml);
    await send({ kind: "start" });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 5 }); // Skip
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered", "declined"]);
    expect(queue.events[2]).toMatchObject({ reason: "skipped" });
  });

  it("declined by the no-answer timeout and by invalid answers", async () => {
    const t = setup(csatYaml);
    await t.send({ kind: "start" });
    t.clock.advance(25 * 3_600_000);
    await t.send({ kind: "timeout" });
    expect(kinds(t.queue.events)).toEqual(["dialogue_started", "offered", "declined"]);
    expect(t.queue.events[2]).toMatchObject({ reason: "timeout" });

    const i = setup(csatYaml);
    await i.send({ kind: "start" });
    for (const text of ["meh", "so-so", "no idea"]) await i.send({ text });
    expect(kinds(i.queue.events)).toEqual(["dialogue_started", "offered", "declined"]);
    expect(i.queue.events[2]).toMatchObject({ reason: "invalid" });
  });

  it("a comment without a rating is completed as a comment only (no score)", async () => {
    const { queue, send, promptId } = setup(commentOnlyYaml);
    await send({ kind: "start" });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 2 }); // Skip
    await send({ text: "just a remark" });
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered", "declined", "commented", "completed"]);
    const completed = queue.events[4];
    expect(completed).toMatchObject({ comment: "just a remark" });
    expect(completed && "score" in completed).toBe(false);
  });

  it("a non-1–5 scale carries its own min and max and recorded values", async () => {
    const { queue, send, promptId } = setup(thumbsYaml);
    await send({ kind: "start" });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 0 });
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered", "answered", "completed"]);
    expect(queue.events[1]).toMatchObject({ scale: { min: 0, max: 100 } });
    expect(queue.events[2]).toMatchObject({ score: 100 });
    expect(queue.events[3]).toMatchObject({ score: 100, comment: "" });
  });

  it("a rating typed into a free-text prompt is still a numeric rating", async () => {
    const { queue, send } = setup(typedYaml);
    await send({ kind: "start" });
    await send({ text: " 4 " });
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered", "answered", "completed"]);
    expect(queue.events[1]?.scale).toBeUndefined(); // free text has no keyboard, so no scale
    expect(queue.events[2]).toMatchObject({ score: 4 });
    expect(queue.events[3]).toMatchObject({ score: 4, comment: "" });
  });

  it("words in the rating variable are no rating: with no comment either, only the offered flag is recorded", async () => {
    const { queue, send } = setup(typedYaml);
    await send({ kind: "start" });
    await send({ text: "great" });
    expect(kinds(queue.events)).toEqual(["dialogue_started", "offered"]);
  });
});

describe("toSurveyEvent", () => {
  const ctx = {
    ref: { channel: "teams", conversationId: "a:1", userId: "u", botId: "b" },
    scenarioId: "csat",
    scenarioVersion: "v2",
    surveyId: "sv1",
    dialogueStartedAt: 1_000,
    vars: {},
    at: 2_000,
  };

  it("keeps a scale the runtime reports with an answer, and ignores prompts that do not feed statistics", () => {
    expect(toSurveyEvent({ type: "prompt_answered", saveTo: "quality_answer", value: 5, scale: { min: 1, max: 5 } }, ctx)).toEqual({
      kind: "answered",
      surveyId: "sv1",
      scenarioId: "csat",
      scenarioVersion: "v2",
      channel: "teams",
      botId: "b",
      conversationId: "a:1",
      dialogueStartedAt: 1_000,
      at: 2_000,
      score: 5,
      scale: { min: 1, max: 5 },
    });
    expect(toSurveyEvent({ type: "prompt_offered", saveTo: "email" }, ctx)).toBeUndefined();
    expect(toSurveyEvent({ type: "prompt_answered", saveTo: "email", value: "x@y.z" }, ctx)).toBeUndefined();
    expect(toSurveyEvent({ type: "prompt_declined", saveTo: "quality_comment", reason: "skipped" }, ctx)).toBeUndefined();
    expect(toSurveyEvent({ type: "prompt_answered", saveTo: "quality_comment", value: "" }, ctx)).toBeUndefined();
    expect(toSurveyEvent({ type: "dialogue_ended" }, ctx)).toBeUndefined();
  });
});

describe("toScore", () => {
  it("accepts finite numbers and numeric text, nothing else", () => {
    expect([5, "3", " 2 ", "4.5", 0].map(toScore)).toEqual([5, 3, 2, 4.5, 0]);
    expect(["", "  ", "great", "Infinity", Number.NaN, undefined, null, {}].map(toScore)).toEqual(Array(8).fill(undefined));
  });
});
