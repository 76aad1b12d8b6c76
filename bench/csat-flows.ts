/**
 * The two CSAT implementations the throughput benchmark compares, behind one shape: the
 * engine (loader + Runtime + MemoryStateStore + the real statistic__set action) and the
 * hand-coded switch. Both deliver to a counting Delivery and queue to a counting SurveyQueue,
 * and one driver plays the same conversations through either.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ActionRegistry } from "../actions/registry.ts";
import { statisticSetAction } from "../actions/statistic-set.ts";
import { loadScenarioFile } from "../engine/loader.ts";
import type { Clock, Delivery } from "../engine/ports.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime } from "../engine/runtime.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { MemoryStateStore } from "../engine/state/memory-store.ts";
import type { ConversationRef, Effect, InboundEvent } from "../engine/types.ts";
import type { SurveyEvent, SurveyQueue } from "../stats/events.ts";
import { HandCodedCsat } from "./csat-hand-coded.ts";

export const CSAT_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "scenarios", "csat.yaml");

/** Inbound events per conversation: start, rating tap, typed comment. */
export const EVENTS_PER_CONVERSATION = 3;
/** Event time of conversation 0; fixed so both sides compute the same survey ids. */
const T0 = Date.UTC(2026, 0, 1);

/** What one implementation produced. `recorded` is filled only when recording (tests). */
export interface FlowOutput {
  events: number;
  messages: number;
  closes: number;
  surveys: number;
  recorded?: { sent: { conversationId: string; effect: Effect }[]; queued: SurveyEvent[] };
}

export interface CsatFlow {
  readonly name: "engine" | "hand-coded";
  /** Handles one inbound event; `effects` are the effects it delivered. */
  handle(event: InboundEvent): Promise<{ effects: Effect[] }>;
  /** The flow's clock: the driver sets each event's time on it, since events (as from a channel) carry none. */
  readonly clock: BenchClock;
  readonly output: FlowOutput;
}

class CountingQueue implements SurveyQueue {
  constructor(private readonly out: FlowOutput) {}
  async add(event: SurveyEvent): Promise<void> {
    this.out.surveys++;
    this.out.recorded?.queued.push(event);
  }
  async close(): Promise<void> {}
}

/** Counts user-visible effects; the engine also hands it track/runAction effects, which it skips. */
class CountingDelivery implements Delivery {
  constructor(private readonly out: FlowOutput) {}
  async deliver(ref: ConversationRef, effects: readonly Effect[]): Promise<void> {
    for (const effect of effects) {
      if (effect.type === "send") this.out.messages++;
      else if (effect.type === "close") this.out.closes++;
      else continue;
      this.out.recorded?.sent.push({ conversationId: ref.conversationId, effect });
    }
  }
}

/** A Clock the driver moves by hand, so both sides stamp events with the same times. */
export class BenchClock implements Clock {
  t = T0;
  now(): number {
    return this.t;
  }
}

function newOutput(record: boolean): FlowOutput {
  return { events: 0, messages: 0, closes: 0, surveys: 0, ...(record ? { recorded: { sent: [], queued: [] } } : {}) };
}

/** Loads scenarios/csat.yaml strictly, with the real action specs, once per process. */
export async function loadCsat(): Promise<LoadedScenario> {
  const specs = new ActionRegistry().register(statisticSetAction({ add: async () => {}, close: async () => {} })).specs();
  return loadScenarioFile(CSAT_FILE, { actions: specs });
}

/** A fresh engine: its own registry, store, action registry, delivery and queue. */
export function createEngineFlow(scenario: LoadedScenario, record = false): CsatFlow {
  const output = newOutput(record);
  const scenarios = new ScenarioRegistry();
  scenarios.add(scenario);
  const actions = new ActionRegistry().register(statisticSetAction(new CountingQueue(output)));
  const clock = new BenchClock();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery: new CountingDelivery(output), actions, defaultScenarioId: scenario.id, clock });
  return {
    name: "engine",
    output,
    clock,
    // Not async: a wrapper frame here would be a cost the hand-coded side does not pay.
    handle(event) {
      output.events++;
      return runtime.handle(event);
    },
  };
}

/** A fresh hand-coded flow with its own delivery and queue. */
export function createHandCodedFlow(scenario: LoadedScenario, record = false): CsatFlow {
  const output = newOutput(record);
  const clock = new BenchClock();
  const csat = new HandCodedCsat({ delivery: new CountingDelivery(output), queue: new CountingQueue(output), scenarioVersion: scenario.version, clock });
  return {
    name: "hand-coded",
    output,
    clock,
    handle(event) {
      output.events++;
      return csat.handle(event);
    },
  };
}

/**
 * Plays conversations `from`..`from + count - 1` one after another: start, tap the rating
 * (prompt id and button taken from the keyboard just sent), type a comment.
 */
export async function playConversations(flow: CsatFlow, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    // Literal events, no spreads: V8's object spread costs microseconds here and would blur the comparison.
    const conversationId = `c${i}`;
    const userId = `u${i}`;
    const at = T0 + i * 1000;
    // Events carry no time, as channels send them; both sides stamp them from their clock.
    flow.clock.t = at;
    const started = await flow.handle({ channel: "bench", conversationId, userId, kind: "start", dedupeKey: `${i}:start` });
    const keyboard = promptOf(started.effects, flow.name, i);
    const rating = (i % 5) + 1;
    const buttonIndex = keyboard.buttons?.findIndex((b) => b.value === rating) ?? -1;
    flow.clock.t = at + 100;
    await flow.handle({ channel: "bench", conversationId, userId, kind: "choice", promptId: keyboard.promptId, buttonIndex, dedupeKey: `${i}:rate` });
    flow.clock.t = at + 200;
    await flow.handle({ channel: "bench", conversationId, userId, kind: "text", text: `Comment ${i}: rated ${rating}`, dedupeKey: `${i}:comment` });
  }
}

function promptOf(effects: readonly Effect[], name: string, i: number) {
  for (const e of effects) if (e.type === "send" && e.message.promptId !== undefined) return e.message;
  throw new Error(`${name}: conversation ${i} sent no keyboard on start; the CSAT flow is broken`);
}
