/**
 * goto_scenario: a dialogue hands over to another scenario in the same turn, with the variables
 * it passes on (templated from its own) as the next dialogue's start variables, recorded with the
 * survey. Loading refuses a target that is not loaded and a handover loop with no waiting block,
 * at the block's `scenario:`; the runtime still ends a dialogue whose target is gone, and stops a
 * loop it was handed without those checks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatProblem, ScenarioError, type ScenarioProblem } from "../../engine/errors.ts";
import { checkHandovers } from "../../engine/handovers.ts";
import { step } from "../../engine/interpreter.ts";
import { loadScenarioText } from "../../engine/loader.ts";
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
    await runtime.handle(ev({ kind: "start", variables: { agent: "Olena", ticket: 1042 } }));
    const r = await runtime.handle(ev({ kind: "choice", promptId: "p1", buttonIndex: 0 }));
    const passed = { agent: "Olena", ticket: 1042, topic: "billing" };
    expect(r.state).toMatchObject({ scenarioId: "csat", ended: false, context: passed, vars: passed });
    expect(delivery.texts().slice(-2)).toEqual(["Thanks, your billing question is with our team: we have sent you the details by email.", expect.stringContaining("rate the quality of service")]);
    const prompt = (r.state?.prompt?.id ?? "") as string;
    await runtime.handle(ev({ kind: "choice", promptId: prompt, buttonIndex: 4 }));
    const done = await runtime.handle(ev({ kind: "text", text: "All good" }));
    expect(done.state).toMatchObject({ scenarioId: "csat", ended: true });
    const rated = queue.events.filter((e) => e.scenarioId === "csat" && e.kind === "completed");
    expect(rated).toHaveLength(1);
    expect(rated[0]).toMatchObject({ context: passed });
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

  it("stops scenarios handing over to each other without waiting when they were added without the folder's checks", async () => {
    const ping = loadTestScenario("id: ping\nstart: go\nblocks:\n  go:\n    type: goto_scenario\n    scenario: pong\n", "ping.yaml");
    const pong = loadTestScenario("id: pong\nstart: go\nblocks:\n  go:\n    type: goto_scenario\n    scenario: ping\n", "pong.yaml");
    const { runtime, logger } = setup(ping, pong);
    const r = await runtime.handle(ev({ kind: "start" }));
    expect(r.state?.ended).toBe(true);
    expect(logger.lines.some((l) => l.level === "error" && /actions or scenario handovers ran for one event/.test(l.msg ?? ""))).toBe(true);
  });
});

describe("goto_scenario variables", () => {
  const handover = (variables: string) =>
    loadTestScenario(`id: h\nstart: go\nblocks:\n  go:\n    type: goto_scenario\n    scenario: csat\n    variables:\n${variables}`, "h.yaml");
  const effectOf = (scenario: ReturnType<typeof handover>, vars: Record<string, string | number>) => {
    const { effects } = step(scenario, null, { ...ref, kind: "start", dedupeKey: "s", variables: vars, at: 0 });
    return effects.at(-1);
  };

  it("passes a lone {{name}} as the value it is, leaves out one this dialogue lacks, and fills templates in", () => {
    const s = handover('      ticket: "{{ticket}}"\n      agent: "{{ agent }}"\n      missing: "{{nobody}}"\n      note: "#{{ticket}} by {{agent}}{{nobody}}"\n      team: support\n      level: 2\n');
    expect(effectOf(s, { ticket: 1042, agent: "Olena" })).toEqual({
      type: "handover",
      blockId: "go",
      scenarioId: "csat",
      variables: { ticket: 1042, agent: "Olena", note: "#1042 by Olena", team: "support", level: 2 },
    });
  });

  it("ends the dialogue before the handover: the next dialogue is its own", () => {
    const s = handover('      a: "1"\n');
    const { state, effects } = step(s, null, { ...ref, kind: "start", dedupeKey: "s", at: 0 });
    expect(state?.ended).toBe(true);
    expect(effects.map((e) => e.type)).toEqual(["track", "track", "handover"]);
  });
});

describe("goto_scenario when loading", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "botflow-goto-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const show = (p: ScenarioProblem) => formatProblem(p);

  it("refuses a scenario that hands over to itself before anything waits, at its scenario: value", () => {
    const r = loadScenarioText("id: loop\nstart: hello\nblocks:\n  hello:\n    type: message\n    text: Hi\n    next: again\n  again:\n    type: goto_scenario\n    scenario: loop\n", "loop.yaml");
    expect(r.problems.map(show)).toEqual([
      'loop.yaml:10:15: error: block "again": hands over to this scenario ("loop") itself before anything waits for the user, so it would restart forever; put a message_with_keyboard or wait_for_response block on the way from start "hello", or end the dialogue instead',
    ]);
  });

  it("accepts handing over to itself after a question (each round waits for the user)", () => {
    const r = loadScenarioText(
      'id: again\nstart: ask\nblocks:\n  ask:\n    type: message_with_keyboard\n    text: Once more?\n    buttons: [{ label: "Yes", value: "yes" }]\n    next: restart\n  restart:\n    type: goto_scenario\n    scenario: again\n',
      "again.yaml",
    );
    expect(r.problems).toEqual([]);
    expect(r.scenario?.handovers).toEqual([{ blockId: "restart", target: "again", immediate: false, line: 11, col: 15 }]);
  });

  it("checks a folder's targets once the whole folder loaded: a target may sort after the file naming it; a typo is refused with a suggestion", async () => {
    const dir = mkdtempSync(path.join(tmp, "folder-"));
    const hand = (id: string, target: string) => `id: ${id}\nstart: hi\nblocks:\n  hi:\n    type: message\n    text: Hi\n    next: go\n  go:\n    type: goto_scenario\n    scenario: ${target}\n`;
    const end = (id: string) => `id: ${id}\nstart: bye\nblocks:\n  bye:\n    type: end\n    text: Bye\n`;
    writeFileSync(path.join(dir, "a-first.yaml"), hand("first", "zeta"));
    writeFileSync(path.join(dir, "b-typo.yaml"), hand("typo", "zeat"));
    writeFileSync(path.join(dir, "c-via-typo.yaml"), hand("via_typo", "typo"));
    writeFileSync(path.join(dir, "z.yaml"), end("zeta"));
    const registry = new ScenarioRegistry();
    const problems = await registry.loadDir(dir);
    expect(problems.map(show)).toEqual([
      `${path.join(dir, "b-typo.yaml")}:10:15: error: block "go": goto_scenario names no loaded scenario "zeat" (did you mean "zeta"?); loaded: first, typo, via_typo, zeta. Use a scenario's id (its id: line), or add the scenario beside this one`,
      // Its target did not load, so it does not either.
      `${path.join(dir, "c-via-typo.yaml")}:10:15: error: block "go": goto_scenario names no loaded scenario "typo"; loaded: first, via_typo, zeta. Use a scenario's id (its id: line), or add the scenario beside this one`,
    ]);
    expect(registry.list().map((s) => s.id).sort()).toEqual(["first", "zeta"]);
    // A reload that breaks a target keeps the previous version.
    writeFileSync(path.join(dir, "a-first.yaml"), hand("first", "zet"));
    await expect(registry.loadFile(path.join(dir, "a-first.yaml"))).rejects.toBeInstanceOf(ScenarioError);
    expect(registry.get("first")?.handovers?.[0]?.target).toBe("zeta");
  });

  it("refuses scenarios that hand the conversation back and forth before anything waits, in each of them", () => {
    const ping = loadTestScenario("id: ping\nstart: go\nblocks:\n  go:\n    type: goto_scenario\n    scenario: pong\n", "ping.yaml");
    const pong = loadTestScenario("id: pong\nstart: hi\nblocks:\n  hi:\n    type: message\n    text: Hi\n    next: go\n  go:\n    type: goto_scenario\n    scenario: ping\n", "pong.yaml");
    expect(checkHandovers([ping, pong], [ping, pong]).map(show)).toEqual([
      'ping.yaml:6:15: error: block "go": hands over to "pong", which hands the conversation back before anything waits for the user ("ping" → "pong" → "ping"), so it would switch scenarios forever; put a message_with_keyboard or wait_for_response block on the way in one of them',
      'pong.yaml:10:15: error: block "go": hands over to "ping", which hands the conversation back before anything waits for the user ("pong" → "ping" → "pong"), so it would switch scenarios forever; put a message_with_keyboard or wait_for_response block on the way in one of them',
    ]);
    // The bundled support → csat handover is no loop: csat waits for a rating first.
    expect(checkHandovers([SUPPORT], [SUPPORT, CSAT])).toEqual([]);
  });
});
