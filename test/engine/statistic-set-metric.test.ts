/**
 * statistic__set {type: metric}: a scenario asks an NPS 0–10 and a yes/no after the CSAT rating,
 * and the action records each answer as a metric event beside the CSAT survey, end to end through
 * the real loader, runtime and action; the scenario checks refuse a metric config without its name
 * or scale, and the queue's JSON check refuses a metric off its scale.
 */
import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { surveyJobId } from "../../stats/events.ts";
import { MalformedSurveyEventError, parseSurveyEvent } from "../../stats/queue/parse-survey-event.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const NPS = `id: nps
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate us
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }, { label: "3", value: 3 }, { label: "4", value: 4 }, { label: "5", value: 5 }]
    save_to: quality_answer
    next: recommend
  recommend:
    type: message_with_keyboard
    text: How likely are you to recommend us, 0 to 10?
    buttons: [${Array.from({ length: 11 }, (_, i) => `{ label: "${i}", value: ${i} }`).join(", ")}]
    save_to: nps
    next: resolved
  resolved:
    type: message_with_keyboard
    text: Was your issue resolved?
    buttons: [{ label: "Yes", value: 1 }, { label: "No", value: 0 }]
    save_to: issue_resolved
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: save_nps
  save_nps:
    type: action
    action: statistic__set
    config: { type: metric, name: nps, scale: nps_0_10 }
    next: save_resolved
  save_resolved:
    type: action
    action: statistic__set
    config: { type: metric, name: resolved, scale: yes_no, variable: issue_resolved }
    next: bye
  bye:
    type: end
    text: Thanks
`;

function setup(yaml: string) {
  const scenarios = new ScenarioRegistry();
  const scenario = loadTestScenario(yaml);
  scenarios.add(scenario);
  const queue = new RecordingQueue();
  const delivery = new RecordingDelivery();
  const clock = new ManualClock();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(clock), delivery, actions: testActions(queue), defaultScenarioId: scenario.id, clock });
  let n = 0;
  const lastPrompt = () => {
    const sent = delivery.batches.flatMap((b) => b.effects).filter((e) => e.type === "send" && e.message.promptId);
    const last = sent[sent.length - 1];
    return last?.type === "send" ? last.message.promptId : undefined;
  };
  const send = (e: Partial<InboundEvent>) => runtime.handle({ channel: "telegram", conversationId: "42", userId: "7", kind: "text", dedupeKey: `d${n++}`, ...e } as InboundEvent);
  const tap = (buttonIndex: number) => send({ kind: "choice", promptId: lastPrompt(), buttonIndex });
  return { queue, send, tap, delivery };
}

describe("statistic__set {type: metric}", () => {
  it("records the NPS and the yes/no answers as metric events beside the CSAT survey, each its own job", async () => {
    const { queue, send, tap } = setup(NPS);
    await send({ kind: "start" });
    await tap(3); // rating 4
    await tap(9); // NPS 9
    await tap(1); // resolved: No
    const completed = queue.events.filter((e) => e.kind === "completed");
    const metrics = queue.events.filter((e) => e.kind === "metric");
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ score: 4 });
    expect(metrics.map((e) => e.metric)).toEqual([
      { name: "nps", scale: "nps_0_10", value: 9 },
      { name: "resolved", scale: "yes_no", value: 0 },
    ]);
    // The same survey, one job per metric; and the events survive the queue's JSON check.
    expect(new Set(metrics.map((e) => e.surveyId))).toEqual(new Set([completed[0]!.surveyId]));
    expect(metrics.map(surveyJobId)).toEqual([`${completed[0]!.surveyId}.metric.nps`, `${completed[0]!.surveyId}.metric.resolved`]);
    for (const e of metrics) expect(parseSurveyEvent(JSON.parse(JSON.stringify(e)))).toEqual(e);
  });

  it("records nothing for an unanswered metric, and fails the action for a value off its scale", async () => {
    const skipped = setup(NPS.replace("save_to: nps\n", "save_to: other\n"));
    await skipped.send({ kind: "start" });
    await skipped.tap(4);
    await skipped.tap(10);
    await skipped.tap(0);
    expect(skipped.queue.events.filter((e) => e.kind === "metric").map((e) => e.metric?.name)).toEqual(["resolved"]);

    // The yes/no question's buttons carry 2 for "No": off the yes_no scale.
    const off = setup(NPS.replace('{ label: "No", value: 0 }', '{ label: "No", value: 2 }'));
    await off.send({ kind: "start" });
    await off.tap(4);
    await off.tap(10);
    await off.tap(1);
    expect(off.queue.events.filter((e) => e.kind === "metric").map((e) => e.metric?.name)).toEqual(["nps"]);
  });

  it("the scenario checks refuse a metric without its name or scale, an unknown scale, and metric keys on a quality config", () => {
    const problems = (config: string) => {
      const r = loadScenarioText(NPS.replace("config: { type: metric, name: nps, scale: nps_0_10 }", `config: ${config}`), "nps.yaml", { actions: testActions().specs() });
      return r.problems.filter((p) => p.severity === "error").map((p) => p.message);
    };
    expect(problems("{ type: metric, name: nps, scale: nps_0_10 }")).toEqual([]);
    expect(problems("{ type: metric, scale: nps_0_10 }").join("\n")).toMatch(/name/);
    expect(problems("{ type: metric, name: nps }").join("\n")).toMatch(/scale/);
    expect(problems("{ type: metric, name: nps, scale: stars_1_10 }").join("\n")).toMatch(/scale/);
    expect(problems("{ type: quality, name: nps }")).not.toEqual([]);
  });

  it("the queue's JSON check refuses a metric off its scale, a bad name, or a metric on another kind", () => {
    const base = { kind: "metric", surveyId: "s1", scenarioId: "nps", scenarioVersion: "v1", channel: "telegram", botId: "", conversationId: "42", dialogueStartedAt: 1_000, at: 2_000 };
    const problem = (o: object) => {
      try {
        parseSurveyEvent(o);
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedSurveyEventError);
        return (err as MalformedSurveyEventError).problem;
      }
      return "accepted";
    };
    expect(problem({ ...base, metric: { name: "nps", scale: "nps_0_10", value: 10 } })).toBe("accepted");
    expect(problem({ ...base, metric: { name: "nps", scale: "nps_0_10", value: 11 } })).toMatch(/0 to 10/);
    expect(problem({ ...base, metric: { name: "nps", scale: "nps_0_10", value: 7.5 } })).toMatch(/whole number/);
    expect(problem({ ...base, metric: { name: "NPS!", scale: "nps_0_10", value: 1 } })).toMatch(/metric.name/);
    expect(problem({ ...base, metric: { name: "x", scale: "stars", value: 1 } })).toMatch(/metric.scale/);
    expect(problem({ ...base })).toMatch(/metric must be/);
    expect(problem({ ...base, kind: "completed", metric: { name: "nps", scale: "nps_0_10", value: 1 } })).toMatch(/only a metric event/);
  });
});
