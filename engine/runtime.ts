/**
 * The runtime around the pure interpreter: dedupe → per-conversation lock → load state →
 * step (running actions and feeding their results back) → deliver effects → save state.
 *
 * @example
 * const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery, actions, defaultScenarioId: "csat" });
 * await runtime.handle({ channel: "telegram", conversationId: "42", userId: "7", kind: "start", dedupeKey: "u1" });
 */
import { createHash } from "node:crypto";
import { step as interpret } from "./interpreter.ts";
import {
  silentLogger,
  systemClock,
  type ActionContext,
  type ActionRunner,
  type BeginResult,
  type Clock,
  type Delivery,
  type Logger,
  type StateStore,
  type TrackBatch,
  type Tracker,
} from "./ports.ts";
import type { ScenarioRegistry } from "./registry.ts";
import type { LoadedScenario } from "./scenario.ts";
import type { ConversationRef, ConversationState, Effect, InboundEvent, VarValue } from "./types.ts";
import { ActionError, ConversationBusyError, errorSummary } from "./errors.ts";
import { cleanStartVariables } from "./start-variables.ts";
import { cleanText, needsCleaning } from "./text.ts";

export interface RuntimeOptions {
  scenarios: ScenarioRegistry;
  store: StateStore;
  delivery: Delivery;
  actions: ActionRunner;
  tracker?: Tracker;
  /** The scenario a `start` without a scenario id runs. */
  defaultScenarioId: string;
  clock?: Clock;
  logger?: Logger;
  /** How long one event may hold a conversation's lock. */
  lockMs?: number;
  /** How long to wait for a busy conversation before giving up (the channel then asks for redelivery). */
  lockWaitMs?: number;
  stateTtlMs?: number;
  dedupeTtlMs?: number;
}

export interface HandleResult {
  status: "processed" | "duplicate";
  /** Every effect of the event, in order (empty for duplicates). */
  effects: Effect[];
  state: ConversationState | null;
}

type Processed = { state: ConversationState | null; effects: Effect[] };

/** The conversation stayed busy longer than `lockWaitMs`; the delivery should be retried (engine/errors.ts). */
export { ConversationBusyError } from "./errors.ts";

/**
 * Actions and goto_scenario handovers one event may run back to back. The loaders refuse loops
 * with no waiting block (within a scenario and across scenarios), so only a longer chain reaches
 * it; the dialogue is then ended (and logged) rather than saved with an action pending, which
 * would leave the conversation stuck.
 */
export const MAX_ACTIONS_PER_EVENT = 50;

export class Runtime {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly lockMs: number;
  private readonly lockWaitMs: number;
  private readonly commitOptions: { stateTtlMs: number; dedupeTtlMs: number };

  constructor(private readonly o: RuntimeOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger ?? silentLogger;
    this.lockMs = o.lockMs ?? 30_000;
    this.lockWaitMs = o.lockWaitMs ?? 15_000;
    this.commitOptions = { stateTtlMs: o.stateTtlMs ?? 30 * 86_400_000, dedupeTtlMs: o.dedupeTtlMs ?? 86_400_000 };
  }

  /** Processes one inbound event exactly once per dedupe key; throws when it could not be saved. */
  async handle(input: InboundEvent): Promise<HandleResult> {
    const timed = input.at === undefined ? withTime(input, this.clock.now()) : (input as InboundEvent & { at: number });
    // The boundary where text enters: what the user typed is stored, so it must be storable.
    const typed = timed.text !== undefined && needsCleaning(timed.text) ? { ...timed, text: cleanText(timed.text), cleaned: true } : timed;
    // Start variables enter here too: bounded and cleaned, whoever produced the event.
    const event = typed.variables !== undefined && typed.kind === "start" ? this.withStartVariables(typed) : typed;
    const ref: ConversationRef = { channel: event.channel, conversationId: event.conversationId, userId: event.userId };
    if (event.botId !== undefined) ref.botId = event.botId;
    const key = conversationKey(ref);
    const first = await this.o.store.begin(key, event.dedupeKey, this.lockMs);
    // The common, uncontended case takes no extra async frame (each costs ~0.5 KB and a tick per event).
    const begun = first.status === "locked" ? await this.waitForLock(key, event.dedupeKey) : first;
    if (begun.status === "duplicate") return { status: "duplicate", effects: [], state: null };
    const { token } = begun;
    try {
      // What the update records for statistics is gathered while it steps and queued as one unit.
      const batch = this.o.tracker?.open?.();
      const processed = this.process(ref, key, begun.state, event, batch);
      const { state, effects } = processed instanceof Promise ? await processed : processed;
      // A step's warnings (a set block that could not compute a value) name the block and the
      // variable, never the value: the integrator's log is where a scenario mistake shows.
      for (const e of effects) if (e.type === "warning") this.log.warn({ conversation: key, scenario: state?.scenarioId, block: e.blockId }, e.message);
      // Durable before anything is sent or saved, as when each record was queued on its own: a
      // failure gives the step up and the delivery comes again (the same records, the same job id).
      if (batch) await batch.flush();
      await this.o.delivery.deliver(ref, effects, input);
      await this.o.store.commit(key, token, state, event.dedupeKey, this.commitOptions);
      return { status: "processed", effects, state };
    } catch (err) {
      await this.o.store.release(key, token).catch(() => {});
      throw err;
    }
  }

  /** The start with its variables checked (engine/start-variables.ts); what does not fit is dropped and logged by name. */
  private withStartVariables(event: InboundEvent & { at: number }): InboundEvent & { at: number } {
    const { variables, dropped } = cleanStartVariables(event.variables);
    if (dropped.length > 0) {
      this.log.warn(
        { conversation: `${event.channel}:${event.conversationId}`, dropped },
        "start variables dropped: a name is not a variable name, a value is not a string of at most 1000 characters or a finite number, or there were more than 50",
      );
    }
    return { ...event, variables };
  }

  /** Fires the no-answer timeouts that are due; call it on an interval. Returns how many fired. */
  async sweepTimeouts(limit = 500): Promise<number> {
    const now = this.clock.now();
    const due = await this.o.store.dueTimeouts(now, limit);
    let fired = 0;
    for (const d of due) {
      try {
        const r = await this.handle({ ...d.ref, kind: "timeout", dedupeKey: `timeout:${d.deadline}`, at: now });
        if (r.status === "processed") fired++;
      } catch (err) {
        this.log.error({ err: errorSummary(err), conversation: d.key }, "timeout sweep failed for a conversation; it is retried on the next sweep");
      }
    }
    return fired;
  }

  /**
   * Waits for a busy conversation's lock (the first attempt, in `handle`, found it taken).
   * Deliberately on wall-clock time (Date.now/setTimeout), not the injected Clock: this is real
   * contention with another event or process, and a simulated clock that tests hold still would
   * make the wait never end. Scenario time (deadlines) stays on the Clock.
   */
  private async waitForLock(key: string, dedupeKey: string): Promise<Exclude<BeginResult, { status: "locked" }>> {
    const giveUp = Date.now() + this.lockWaitMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      if (Date.now() >= giveUp) throw new ConversationBusyError(key);
      // Full jitter: waiters on one conversation (in this process or another) must not retry in step.
      const pause = wait / 2 + Math.random() * wait;
      await new Promise((res) => setTimeout(res, pause));
      const r = await this.o.store.begin(key, dedupeKey, this.lockMs);
      if (r.status !== "locked") return r;
    }
  }

  private pickScenario(
    state: ConversationState | null,
    event: InboundEvent & { at: number },
  ): { scenario: LoadedScenario | undefined; state: ConversationState | null; restart: boolean } {
    const wantsNew = event.kind === "start" || (event.kind === "text" && event.startIfIdle === true && (!state || state.ended));
    if (wantsNew || !state) {
      // An unknown scenario id is not replaced by the default one: that would record surveys under
      // the wrong scenario. `process` logs it and leaves the conversation as it was.
      // A text that starts a dialogue (startIfIdle) may name its channel's scenario too.
      const id = (wantsNew && event.scenarioId) || this.o.defaultScenarioId;
      return { scenario: this.o.scenarios.get(id), state, restart: false };
    }
    const current = this.o.scenarios.get(state.scenarioId);
    // The id is no longer offered (its file was renamed or removed): finish on the version, if loaded.
    if (!current) return { scenario: this.o.scenarios.getVersion(state.scenarioId, state.scenarioVersion), state, restart: false };
    if (current.version === state.scenarioVersion) return { scenario: current, state, restart: false };
    // A no-answer timeout never restarts a dialogue: the sweeper would send a new survey to someone
    // who did nothing. It finishes the prompt like `on_update: finish` does.
    const policy = event.kind === "timeout" ? "finish" : (current.def.on_update ?? "finish");
    const old = this.o.scenarios.getVersion(state.scenarioId, state.scenarioVersion);
    if (policy === "finish" && old) return { scenario: old, state, restart: false };
    // The old version is gone (restart policy, or a process restart): continue on the new one when the
    // block waited on is still a question there; otherwise restart the dialogue on the new version.
    const waiting = state.prompt ? current.def.blocks[state.prompt.blockId]?.type : undefined;
    const resumable = waiting === "message_with_keyboard" || waiting === "wait_for_response";
    if (policy === "finish" && (state.ended || (resumable && !state.pendingAction))) {
      return { scenario: current, state: { ...state, scenarioVersion: current.version }, restart: false };
    }
    // (A timeout on a vanished block ends the dialogue in the interpreter instead.)
    return { scenario: current, state, restart: !state.ended && event.kind !== "timeout" };
  }

  /** Steps the event; synchronous unless an action runs or a tracker listens (most events: neither). */
  private process(
    ref: ConversationRef,
    key: string,
    loaded: ConversationState | null,
    event: InboundEvent & { at: number },
    batch?: TrackBatch,
  ): Processed | Promise<Processed> {
    const picked = this.pickScenario(loaded, event);
    const scenario = picked.scenario;
    if (!scenario) {
      const effects: Effect[] = [{ type: "ignored", reason: "no_dialogue" }];
      const requested = event.kind === "start" || !loaded || (loaded.ended && event.startIfIdle === true);
      if (requested) {
        // A start for a scenario this process does not have: the dialogue in progress (if any) goes on.
        const id = ((event.kind === "start" || event.startIfIdle === true) && event.scenarioId) || this.o.defaultScenarioId;
        this.log.warn({ conversation: key, scenario: id }, `no scenario "${id}" is loaded; the event is ignored. Check the scenario id or the scenarios directory`);
        return { state: loaded, effects };
      }
      this.log.warn({ conversation: key, scenario: loaded.scenarioId }, `scenario "${loaded.scenarioId}" is no longer loaded; the conversation's dialogue is ended`);
      return { state: { ...loaded, ended: true, prompt: null, pendingAction: null }, effects };
    }
    const result = picked.restart
      ? interpret(scenario, picked.state, restartEvent(event, picked.state))
      : interpret(scenario, picked.state, event);
    if (picked.restart) this.log.info({ conversation: key, scenario: scenario.id, version: scenario.version }, "scenario changed under the conversation; restarted it");
    const lastType = result.effects[result.effects.length - 1]?.type;
    if (!this.o.tracker && lastType !== "runAction" && lastType !== "handover") {
      // No async frame for this (common) case: it costs ~0.7 KB and a tick per event.
      return { state: result.state ? withRef(result.state, ref) : null, effects: result.effects };
    }
    return this.runSteps(scenario, ref, key, result, event, batch);
  }

  /** Tracks each step's effects and runs the action a step ends on, feeding its result back in. */
  private async runSteps(
    scenario: LoadedScenario,
    ref: ConversationRef,
    key: string,
    first: ReturnType<typeof interpret>,
    event: InboundEvent & { at: number },
    batch: TrackBatch | undefined,
  ): Promise<Processed> {
    let result = first;
    let current = scenario;
    const effects: Effect[] = [];
    for (let n = 0; ; n++) {
      const state = result.state ? withRef(result.state, ref) : null;
      if (this.o.tracker) await this.track(result.effects, state, event.at, batch);
      for (const e of result.effects) effects.push(e);
      const last = result.effects[result.effects.length - 1];
      if (!state || (last?.type !== "runAction" && last?.type !== "handover")) return { state, effects };
      if (n >= MAX_ACTIONS_PER_EVENT) return this.endRunaway(key, state, last.blockId, effects, event.at, batch);
      if (last.type === "handover") {
        const next = this.o.scenarios.get(last.scenarioId);
        if (!next) {
          this.log.error({ conversation: key, scenario: state.scenarioId, block: last.blockId, target: last.scenarioId }, `goto_scenario: no scenario "${last.scenarioId}" is loaded; the dialogue ended without it`);
          return { state, effects };
        }
        current = next;
        result = interpret(next, state, this.handoverStart(ref, state, last.variables, event, n));
        continue;
      }
      const { ok, vars } = await this.runAction(last, state, event.at, key, batch);
      result = interpret(current, state, { kind: "action_result", blockId: last.blockId, ok, at: event.at, ...(vars ? { vars } : {}) });
    }
  }

  /** The start a goto_scenario block hands over with: the next scenario's own dialogue, with the variables it was given. */
  private handoverStart(ref: ConversationRef, state: ConversationState, given: Record<string, VarValue>, event: InboundEvent & { at: number }, n: number): InboundEvent & { at: number } {
    const { variables, dropped } = cleanStartVariables(given);
    if (dropped.length > 0) this.log.warn({ conversation: conversationKey(ref), dropped }, "goto_scenario variables dropped: not a variable name, or a value that is not a string of at most 1000 characters or a finite number");
    const start: InboundEvent & { at: number } = {
      channel: ref.channel,
      conversationId: ref.conversationId,
      userId: ref.userId,
      kind: "start",
      dedupeKey: `${event.dedupeKey}:handover:${n}`,
      variables,
      locale: state.locale,
      at: event.at,
    };
    if (ref.botId !== undefined) start.botId = ref.botId;
    return start;
  }

  private async endRunaway(key: string, state: ConversationState, blockId: string, effects: Effect[], at: number, batch: TrackBatch | undefined) {
    this.log.error(
      { conversation: key, scenario: state.scenarioId, block: blockId },
      `more than ${MAX_ACTIONS_PER_EVENT} actions or scenario handovers ran for one event; the dialogue is ended. Put a waiting block between long chains of actions or goto_scenario blocks`,
    );
    const ended: ConversationState = { ...state, pendingAction: null, prompt: null, ended: true, updatedAt: at };
    const end: Effect[] = [{ type: "track", event: { type: "dialogue_ended" } }];
    await this.track(end, ended, at, batch);
    effects.push(...end);
    return { state: ended, effects };
  }

  private context(state: ConversationState, at: number, batch: TrackBatch | undefined): Omit<ActionContext, "blockId"> {
    const ref = state.ref as ConversationRef;
    const ctx: Omit<ActionContext, "blockId"> = {
      ref,
      scenarioId: state.scenarioId,
      scenarioVersion: state.scenarioVersion,
      surveyId: surveyId(ref, state),
      dialogueStartedAt: state.startedAt,
      vars: state.vars,
      cleanedVars: state.cleanedVars,
      context: state.context,
      triggerId: state.triggerId,
      at,
    };
    if (batch) ctx.batch = batch;
    return ctx;
  }

  private async runAction(
    effect: Extract<Effect, { type: "runAction" }>,
    state: ConversationState,
    at: number,
    key: string,
    batch: TrackBatch | undefined,
  ): Promise<{ ok: boolean; vars?: Record<string, VarValue> }> {
    try {
      // Object.assign, not a spread: adding a key to a spread copy takes V8's slow path (~1 µs on Node 20).
      const outcome = await this.o.actions.run(effect.name, effect.config, Object.assign(this.context(state, at, batch), { blockId: effect.blockId }));
      return { ok: true, ...this.savedVars(outcome?.vars, effect, key) };
    } catch (err) {
      // The dialogue goes on (on_error, else next): the user is never stuck on a failed side effect.
      this.log.error(
        { err: errorSummary(err, state.vars), conversation: key, scenario: state.scenarioId, block: effect.blockId, action: effect.name },
        "action failed",
      );
      return { ok: false, ...this.savedVars(err instanceof ActionError ? err.vars : undefined, effect, key) };
    }
  }

  /** What an action asked to save, within the bounds of start variables (names, lengths, count); what does not fit is dropped and logged by name. */
  private savedVars(raw: unknown, effect: Extract<Effect, { type: "runAction" }>, key: string): { vars?: Record<string, VarValue> } {
    if (raw === undefined) return {};
    const { variables, dropped } = cleanStartVariables(raw);
    if (dropped.length > 0) {
      this.log.warn({ conversation: key, block: effect.blockId, action: effect.name, dropped }, "action variables dropped: not a variable name, or a value that is not a string of at most 1000 characters or a finite number");
    }
    return { vars: variables };
  }

  private async track(effects: readonly Effect[], state: ConversationState | null, at: number, batch: TrackBatch | undefined): Promise<void> {
    if (!this.o.tracker || !state) return;
    for (const e of effects) if (e.type === "track") await this.o.tracker.track(e.event, this.context(state, at, batch));
  }
}

/**
 * The start that restarts a dialogue whose scenario changed under it: the same dialogue begun
 * again, so it keeps the variables and trigger it was started with.
 */
function restartEvent(event: InboundEvent & { at: number }, state: ConversationState | null): InboundEvent & { at: number } {
  const restart: InboundEvent & { at: number } = { ...event, kind: "start", text: undefined, variables: state?.context };
  if (state?.triggerId !== undefined) restart.proactive = { triggerId: state.triggerId };
  else delete restart.proactive;
  return restart;
}

/**
 * The event stamped with `at`. Not `{ ...input, at }`: on Node 20 adding a key to a spread copy
 * takes V8's slow path (about 1 µs, the largest single cost per event in bench/engine-throughput).
 */
function withTime(input: InboundEvent, at: number): InboundEvent & { at: number } {
  return "at" in input ? { ...input, at } : Object.assign({ at }, input);
}

/** The state carrying `ref`: the same object when it already carries an equal ref (every event but a dialogue's first). */
function withRef(state: ConversationState, ref: ConversationRef): ConversationState {
  const had = state.ref;
  if (had && had.channel === ref.channel && had.conversationId === ref.conversationId && had.userId === ref.userId && had.botId === ref.botId) {
    return state;
  }
  return "ref" in state ? { ...state, ref } : Object.assign({ ref }, state); // see withTime for why not always the former
}

/** The store key of a conversation. */
export function conversationKey(ref: ConversationRef): string {
  return `${ref.channel}:${ref.botId ?? ""}:${ref.conversationId}`;
}

/** A survey (dialogue) id that is the same for every redelivery of the same dialogue. */
export function surveyId(ref: ConversationRef, state: Pick<ConversationState, "dialogue" | "startedAt" | "startKey">): string {
  // The start's dedupe key, not its time: a redelivered start (the first try was not saved) is the same survey.
  const input = `${conversationKey(ref)}|${state.dialogue}|${state.startKey ?? state.startedAt}`;
  // One event asks for the same id once per track effect and action: hash it once.
  if (input === lastSurvey.input) return lastSurvey.id;
  const id = createHash("sha256").update(input).digest("base64url").slice(0, 22);
  lastSurvey.input = input;
  lastSurvey.id = id;
  return id;
}

const lastSurvey = { input: "", id: "" };
