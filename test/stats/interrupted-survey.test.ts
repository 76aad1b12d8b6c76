/**
 * A rating followed by "Start over" (the web chat's button, /start, a new trigger) before the
 * comment: the interrupted dialogue's rating is a recorded rating, so the response rate's
 * "answered" and the figures' ratings agree. End to end: the bundled csat scenario through the
 * real runtime, SurveyTracker and statistic__set, into a PGlite store, read back as figures and
 * as the dialogue list.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";
import { pgliteBackend } from "./store-harness.ts";

const csatYaml = readFileSync(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");
const backend = pgliteBackend();
afterAll(async () => backend.shutdown());

function conversation(conversationId: string) {
  const scenarios = new ScenarioRegistry();
  const scenario = loadTestScenario(csatYaml);
  scenarios.add(scenario);
  const queue = new RecordingQueue();
  const clock = new ManualClock(Date.UTC(2026, 2, 10, 9));
  const delivery = new RecordingDelivery();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(clock), delivery, actions: testActions(queue), tracker: new SurveyTracker(queue), defaultScenarioId: scenario.id, clock });
  let n = 0;
  const send = async (e: Partial<InboundEvent>) => {
    clock.advance(1000);
    await runtime.handle({ channel: "webchat", conversationId, userId: "u1", kind: "text", dedupeKey: `${conversationId}-${n++}`, ...e } as InboundEvent);
  };
  const promptId = () => {
    const sent = delivery.batches.flatMap((b) => b.effects).filter((e) => e.type === "send" && e.message.promptId);
    const last = sent[sent.length - 1];
    return last?.type === "send" ? last.message.promptId : undefined;
  };
  /** Taps the button of the last question whose value is `value` (ratings 1–5 are buttons 0–4). */
  const rate = (value: number) => send({ kind: "choice", promptId: promptId(), buttonIndex: value - 1 });
  return { queue, send, rate, startOver: () => send({ kind: "start" }) };
}

describe('a rating followed by "Start over" before the comment', () => {
  it("is a recorded rating: answered, rated, in the average and the distribution, as the dialogue list shows it", async () => {
    const { store, cleanup } = await backend.open();
    try {
      const c = conversation("start-over");
      await c.startOver(); // the first dialogue
      await c.rate(4);
      await c.startOver(); // "Start over" while the comment is asked
      await c.rate(2);
      await c.send({ text: "Slow" }); // the second dialogue completes as the scenario says
      await c.startOver();
      await c.rate(5);
      await c.send({ text: "Great" }); // the third too
      await c.startOver();
      await c.rate(1);
      await c.startOver(); // the fourth interrupted during the comment question; the fifth waits on its rating
      await store.apply(c.queue.events);

      const f = await store.figures({ from: "2026-03-10", to: "2026-03-11" });
      expect({ dialogues: f.dialogues, offered: f.offered, answered: f.answered, rated: f.rated, surveys: f.surveys }).toEqual({ dialogues: 5, offered: 5, answered: 4, rated: 4, surveys: 4 });
      expect(f.responseRate).toBe(4 / 5);
      expect(f.distribution).toEqual({ "1": 1, "2": 1, "4": 1, "5": 1 });
      expect(f.average).toBe(3);
      expect(f.csat).toBe(0.5);
      // The CSAT column of the list holds the same ratings, the comment where one was typed.
      const list = await store.listDialogues({ surveysOnly: true });
      expect(list.rows.map((r) => [r.score, r.comment]).sort()).toEqual([[1, ""], [2, "Slow"], [4, ""], [5, "Great"]]);
      // Answered and rated agree in every trend point too.
      for (const p of f.trend.points) expect(p.answered).toBe(p.rated);
    } finally {
      await cleanup();
    }
  });

  it("keeps the interrupted dialogue's own survey id, start time and trigger, and nothing without a rating", async () => {
    const c = conversation("ids");
    await c.send({ kind: "start", variables: { agent: "olena" }, proactive: { triggerId: "trg-7" } });
    await c.startOver(); // interrupted on the rating question: no rating, nothing recorded for it
    await c.rate(3);
    await c.startOver(); // interrupted on the comment question
    const e = c.queue.events;
    const completed = e.filter((x) => x.kind === "completed");
    expect(completed).toHaveLength(1);
    const answered = e.find((x) => x.kind === "answered")!;
    expect(completed[0]).toMatchObject({ surveyId: answered.surveyId, dialogueStartedAt: answered.dialogueStartedAt, score: 3, comment: "" });
    expect(completed[0]!.triggerId).toBeUndefined();
    const firstSurvey = e.find((x) => x.kind === "offered")!.surveyId;
    expect(e.filter((x) => x.surveyId === firstSurvey).map((x) => x.kind)).toEqual(["dialogue_started", "offered"]);
    expect(e.find((x) => x.surveyId === firstSurvey)).toMatchObject({ triggerId: "trg-7", context: { agent: "olena" } });
  });
});
