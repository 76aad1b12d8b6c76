/**
 * goto_scenario: a dialogue hands over to another scenario in the same turn, with the variables
 * it passes on (templated from its own) as the next dialogue's start variables, recorded with the
 * survey; a target that is not loaded ends the dialogue and says so; a scenario handing over to
 * itself forever is stopped.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { RecordingDelivery, RecordingLogger } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const read = (name: string) => readFileSync(new URL(`../../scenarios/${name}`, import.meta.url), "utf8");
const SUPPORT = loadTestScenario(read("support.yaml"), "support.yaml");
const CSAT = loadTestScenario(read("csat.yaml"), "csat.yaml");
const ref = { channel: "test", conversationId: "c1", userId: "u1" };
let n = 0;
const ev = (e: Partial<InboundEvent> & Pick<InboundEvent, "kind">): InboundEvent => ({ ...ref, dedupeKey: `e${++n}`, ...e }) as InboundEvent;

function setup(...loaded: ReturnType<typeof loadTestScenario>[]) {
  const scenarios = new ScenarioRegistry();
  for (const s of loaded) scenarios.add(s);
  const queue = new RecordingQueue();
  const delivery = new RecordingDelivery();
  const logger = new RecordingLogger();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery, actions: testActions(queue), tracker: new SurveyTracker(queue), defaultScenarioId: loaded[0]?.id as string, logger });
  return { runtime, queue, delivery, logger };
}

describe("goto_scenario", () => {
  it("ends the support dialogue and starts the survey in the same turn, with the variables it passes on recorded", async () => {
    const { runtime, queue, delivery } = setup(SUPPORT, CSAT);
    await runtime.handle(ev({ kind: "start" }));
    const r = await runtime.handle(ev({ kind: "choice", promptId: "p1", buttonIndex: 0 }));
    expect(r.state).toMatchObject({ scenarioId: "csat", ended: false, context: { topic: "billing", team: "support" }, vars: { topic: "billing", team: "support" } });
    expect(delivery.texts().slice(-2)).toEqual(["Thanks, your billing question is with our team: we have sent you the details by email.", expect.stringContaining("rate the quality of service")]);
    const prompt = (r.state?.prompt?.id ?? "") as string;
    await runtime.handle(ev({ kind: "choice", promptId: prompt, buttonIndex: 4 }));
    const done = await runtime.handle(ev({ kind: "text", text: "All good" }));
    expect(done.state).toMatchObject({ scenarioId: "csat", ended: true });
    const rated = queue.events.filter((e) => e.scenarioId === "csat" && e.kind === "completed");
    expect(rated).toHaveLength(1);
    expect(rated[0]).toMatchObject({ context: { topic: "billing", team: "support" } });
    // The support dialogue was recorded as its own dialogue, ended, and the survey as the next one.
    expect(new Set(queue.events.map((e) => e.scenarioId))).toEqual(new Set(["support", "csat"]));
  });

  it("ends the dialogue with an error in the log when the target scenario is not loaded", async () => {
    const { runtime, logger, delivery } = setup(SUPPORT);
    await runtime.handle(ev({ kind: "start" }));
    const r = await runtime.handle(ev({ kind: "choice", promptId: "p1", buttonIndex: 1 }));
    expect(r.state).toMatchObject({ scenarioId: "support", ended: true });
    expect(delivery.texts().at(-1)).toContain("delivery question");
    expect(logger.lines.some((l) => l.level === "error" && /goto_scenario: no scenario "csat" is loaded/.test(l.msg ?? ""))).toBe(true);
  });

  it("stops a scenario that hands over to itself without ever waiting", async () => {
    const loop = loadTestScenario("id: loop\nstart: again\nblocks:\n  again:\n    type: goto_scenario\n    scenario: loop\n", "loop.yaml");
    const { runtime, logger } = setup(loop);
    const r = await runtime.handle(ev({ kind: "start" }));
    expect(r.state?.ended).toBe(true);
    expect(logger.lines.some((l) => l.level === "error" && /actions ran for one event/.test(l.msg ?? ""))).toBe(true);
  });
});
