import { describe, expect, it } from "vitest";
import { step } from "../../engine/interpreter.ts";
import type { ActionContext } from "../../engine/ports.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { cleanStartVariables, isVariableName, MAX_START_VARIABLE_LENGTH, MAX_START_VARIABLES } from "../../engine/start-variables.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { T0, texts } from "../helpers/conversation.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery, RecordingLogger, RecordingTracker } from "../helpers/recorders.ts";
import { deepFreeze, loadTestScenario, RecordingQueue } from "../helpers/scenario.ts";

const GREET = deepFreeze(
  loadTestScenario(`
id: greet
start: hello
blocks:
  hello:
    type: message
    text: "Hi, this is {{agent}} from {{team}}."
    next:
      - { var: team, equals: billing, goto: billing }
      - { default: rate }
  billing:
    type: message
    text: Billing follows up on invoices.
    next: rate
  rate:
    type: message_with_keyboard
    text: "How did {{agent}} do?"
    buttons: [{ label: "1", value: 1 }, { label: "5", value: 5 }]
    save_to: quality_answer
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: bye
  bye:
    type: end
    text: "Thanks, {{quality_answer}} for {{agent}}."
`),
);

const base = { channel: "test", conversationId: "c1", userId: "u1" } as const;

describe("start variables in the interpreter", () => {
  it("seed the dialogue: the first block's text and its next rules see them", () => {
    const r = step(GREET, null, { ...base, kind: "start", dedupeKey: "s1", at: T0, variables: { agent: "Olena", team: "billing" }, proactive: { triggerId: "t-1" } });
    expect(texts(r.effects)).toEqual(["Hi, this is Olena from billing.", "Billing follows up on invoices.", "How did Olena do?"]);
    expect(r.state).toMatchObject({ vars: { agent: "Olena", team: "billing" }, context: { agent: "Olena", team: "billing" }, triggerId: "t-1" });
  });

  it("stay apart from what the dialogue saves: context is what was given, vars grow", () => {
    const started = step(GREET, null, { ...base, kind: "start", dedupeKey: "s1", at: T0, variables: { agent: "Olena", team: "sales" } });
    expect(texts(started.effects)).toEqual(["Hi, this is Olena from sales.", "How did Olena do?"]);
    const answered = step(GREET, started.state, { ...base, kind: "choice", promptId: "p1", buttonIndex: 1, dedupeKey: "c1", at: T0 + 1 });
    expect(answered.state?.vars).toEqual({ agent: "Olena", team: "sales", quality_answer: 5 });
    expect(answered.state?.context).toEqual({ agent: "Olena", team: "sales" });
  });

  it("a later start in the conversation begins without the earlier dialogue's context or trigger", () => {
    const first = step(GREET, null, { ...base, kind: "start", dedupeKey: "s1", at: T0, variables: { agent: "Olena" }, proactive: { triggerId: "t-1" } });
    const again = step(GREET, first.state, { ...base, kind: "start", dedupeKey: "s2", at: T0 + 1 });
    expect(texts(again.effects)).toContain("Hi, this is  from .");
    expect(again.state?.vars).toEqual({});
    expect(again.state?.context).toBeUndefined();
    expect(again.state?.triggerId).toBeUndefined();
    expect(again.state?.dialogue).toBe(2);
  });

  it("variables on an event that is no start are not applied", () => {
    const first = step(GREET, null, { ...base, kind: "start", dedupeKey: "s1", at: T0 });
    const typed = step(GREET, first.state, { ...base, kind: "text", text: "5", dedupeKey: "t1", at: T0 + 1, variables: { agent: "Mallory" } });
    expect(typed.state?.vars).toEqual({ quality_answer: 5 });
    expect(typed.state?.context).toBeUndefined();
  });
});

describe("cleanStartVariables", () => {
  it("keeps names of the VarName pattern and bounded values, cleans strings, reports dropped names only", () => {
    const long = "x".repeat(MAX_START_VARIABLE_LENGTH + 1);
    const r = cleanStartVariables({ agent: "Ol\u0000ena", ticket: 42, "bad name": "a", nan: Number.NaN, inf: Infinity, big: long, obj: { a: 1 }, ok: "x".repeat(MAX_START_VARIABLE_LENGTH) });
    expect(r.variables).toEqual({ agent: "Olena", ticket: 42, ok: "x".repeat(MAX_START_VARIABLE_LENGTH) });
    expect(r.dropped).toEqual(['"bad name"', "nan", "inf", "big", "obj"]);
    expect(r.dropped.join(" ")).not.toContain("xxx");
  });

  it("keeps at most MAX_START_VARIABLES; never throws on what is not an object", () => {
    const many = Object.fromEntries(Array.from({ length: MAX_START_VARIABLES + 3 }, (_, i) => [`v${i}`, i]));
    const r = cleanStartVariables(many);
    expect(Object.keys(r.variables)).toHaveLength(MAX_START_VARIABLES);
    expect(r.dropped).toEqual([`v${MAX_START_VARIABLES}`, `v${MAX_START_VARIABLES + 1}`, `v${MAX_START_VARIABLES + 2}`]);
    for (const raw of [null, "agent", 7, ["a"]]) expect(cleanStartVariables(raw)).toEqual({ variables: {}, dropped: ["(not an object)"] });
    expect(cleanStartVariables(undefined)).toEqual({ variables: {}, dropped: [] });
  });

  it("__proto__ is kept as an own variable, never the prototype", () => {
    const raw = JSON.parse('{"__proto__": "x", "agent": "a"}') as Record<string, unknown>;
    const r = cleanStartVariables(raw);
    expect(Object.hasOwn(r.variables, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(r.variables)).toBe(Object.prototype);
  });

  it("isVariableName is the schema's VarName pattern", () => {
    expect(["agent", "_x", "quality_answer", "a".repeat(64)].every(isVariableName)).toBe(true);
    expect(["", "1a", "a-b", "a b", "a".repeat(65), "agent\n"].some(isVariableName)).toBe(false);
  });
});

describe("start variables in the runtime", () => {
  function setup() {
    const clock = new ManualClock();
    const scenarios = new ScenarioRegistry();
    scenarios.add(GREET);
    const contexts: ActionContext[] = [];
    const tracker = new RecordingTracker();
    const logger = new RecordingLogger();
    const queue = new RecordingQueue();
    const runtime = new Runtime({
      scenarios,
      store: new MemoryStateStore(clock),
      delivery: new RecordingDelivery(),
      actions: { run: async (_name, _config, ctx) => void contexts.push(ctx) },
      tracker,
      logger,
      clock,
      defaultScenarioId: "greet",
    });
    let n = 0;
    const event = (kind: InboundEvent["kind"], extra: Partial<InboundEvent> = {}): InboundEvent => ({ ...base, kind, dedupeKey: `k${++n}`, ...extra });
    return { runtime, contexts, tracker, logger, queue, event };
  }

  it("pass context and triggerId to actions and the tracker", async () => {
    const t = setup();
    await t.runtime.handle(t.event("start", { variables: { agent: "Olena", team: "sales" }, proactive: { triggerId: "trg-7", options: { template: "x" } } }));
    const done = await t.runtime.handle(t.event("text", { text: "5" }));
    expect(texts(done.effects)).toEqual(["Thanks, 5 for Olena."]);
    expect(t.contexts).toHaveLength(1);
    expect(t.contexts[0]).toMatchObject({ context: { agent: "Olena", team: "sales" }, triggerId: "trg-7", vars: { agent: "Olena", team: "sales", quality_answer: 5 } });
    expect(t.tracker.events.length).toBeGreaterThan(0);
    for (const { ctx } of t.tracker.events) expect(ctx).toMatchObject({ context: { agent: "Olena", team: "sales" }, triggerId: "trg-7" });
  });

  it("drops invalid variables and logs their names, never their values, and the dialogue runs", async () => {
    const t = setup();
    const hostile = { agent: "Olena", "x y": "secret-value-1", team: "s".repeat(2000), n: Number.POSITIVE_INFINITY } as unknown as Record<string, string>;
    const r = await t.runtime.handle(t.event("start", { variables: hostile }));
    expect(texts(r.effects)[0]).toBe("Hi, this is Olena from .");
    expect(r.state?.context).toEqual({ agent: "Olena" });
    const warn = t.logger.lines.find((l) => l.level === "warn");
    expect(warn?.obj).toMatchObject({ dropped: ['"x y"', "team", "n"] });
    expect(JSON.stringify(t.logger.lines)).not.toContain("secret-value-1");
    expect(JSON.stringify(t.logger.lines)).not.toContain("sss");
  });

  it("a user's later start in the same conversation has no context and no trigger", async () => {
    const t = setup();
    await t.runtime.handle(t.event("start", { variables: { agent: "Olena" }, proactive: { triggerId: "trg-7" } }));
    await t.runtime.handle(t.event("text", { text: "1" }));
    const again = await t.runtime.handle(t.event("start"));
    expect(again.state).toMatchObject({ dialogue: 2, vars: {} });
    expect(again.state?.context).toBeUndefined();
    await t.runtime.handle(t.event("text", { text: "5" }));
    expect(t.contexts.at(-1)?.context).toBeUndefined();
    expect(t.contexts.at(-1)?.triggerId).toBeUndefined();
  });
});
