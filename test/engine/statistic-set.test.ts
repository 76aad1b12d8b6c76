/**
 * statistic__set and the survey tracker record what started the dialogue: the trigger API's
 * start variables (`context`) and its `triggerId`, on every survey event of that dialogue, end
 * to end through the real loader, runtime, SurveyTracker and action; and they survive the queue's
 * JSON check (parseSurveyEvent) unchanged.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { statisticSetAction } from "../../actions/statistic-set.ts";
import type { ActionContext } from "../../engine/ports.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { parseSurveyEvent } from "../../stats/queue/parse-survey-event.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const csatYaml = readFileSync(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");
const START = { agent: "olena", team: "billing", ticket: "T-1234", attempt: 2 };

function setup() {
  const scenarios = new ScenarioRegistry();
  const scenario = loadTestScenario(csatYaml);
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
    runtime.handle({ channel: "telegram", conversationId: "42", userId: "7", kind: "text", dedupeKey: `d${n++}`, ...e } as InboundEvent);
  const promptId = () => {
    const sent = delivery.batches.flatMap((b) => b.effects).filter((e) => e.type === "send" && e.message.promptId);
    const last = sent[sent.length - 1];
    return last?.type === "send" ? last.message.promptId : undefined;
  };
  return { queue, send, promptId };
}

function actionContext(o: Partial<ActionContext> = {}): ActionContext {
  return {
    ref: { channel: "telegram", conversationId: "42", userId: "7" },
    scenarioId: "csat",
    scenarioVersion: "v1",
    surveyId: "s1",
    dialogueStartedAt: 1_000,
    blockId: "save",
    vars: { quality_answer: 4, quality_comment: "fine" },
    at: 2_000,
    ...o,
  };
}

describe("statistic__set with the dialogue's start context", () => {
  it("a triggered dialogue: every survey event, statistic__set's completed included, carries the context and the trigger id", async () => {
    const { queue, send, promptId } = setup();
    await send({ kind: "start", variables: START, proactive: { triggerId: "trg-1" } });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 3 });
    await send({ text: "Quick and kind" });
    const e = queue.events;
    expect(e.map((x) => x.kind)).toEqual(["dialogue_started", "offered", "answered", "commented", "completed"]);
    for (const x of e) expect(x).toMatchObject({ context: START, triggerId: "trg-1" });
    expect(e[4]).toMatchObject({ kind: "completed", score: 4, comment: "Quick and kind" });
    // Through the queue's JSON check unchanged, as a BullMQ worker sees them.
    for (const x of e) expect(parseSurveyEvent(JSON.parse(JSON.stringify(x)))).toEqual(x);
  });

  it("a dialogue the user started carries neither, and a later dialogue does not inherit a trigger's", async () => {
    const { queue, send, promptId } = setup();
    await send({ kind: "start", variables: START, proactive: { triggerId: "trg-2" } });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 4 });
    await send({ kind: "choice", promptId: promptId(), buttonIndex: 0 }); // no comment
    const firstSurvey = queue.events[0]!.surveyId;
    await send({ kind: "start" });
    const later = queue.events.filter((x) => x.surveyId !== firstSurvey);
    expect(later.map((x) => x.kind)).toEqual(["dialogue_started", "offered"]);
    for (const x of later) {
      expect(x).not.toHaveProperty("context");
      expect(x).not.toHaveProperty("triggerId");
    }
  });

  it("puts context only when it has variables, and the trigger id whenever there is one", async () => {
    const queue = new RecordingQueue();
    const action = statisticSetAction(queue);
    await action.run({ type: "quality" }, actionContext({ context: { agent: "olena", vip: 1 }, triggerId: "t-9" }));
    await action.run({ type: "quality" }, actionContext({ context: {}, triggerId: "t-10" }));
    await action.run({ type: "quality" }, actionContext());
    expect(queue.events).toHaveLength(3);
    expect(queue.events[0]).toMatchObject({ kind: "completed", score: 4, comment: "fine", context: { agent: "olena", vip: 1 }, triggerId: "t-9" });
    expect(queue.events[1]).not.toHaveProperty("context");
    expect(queue.events[1]).toMatchObject({ triggerId: "t-10" });
    expect(queue.events[2]).not.toHaveProperty("context");
    expect(queue.events[2]).not.toHaveProperty("triggerId");
  });
});
