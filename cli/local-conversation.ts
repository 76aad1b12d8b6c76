/**
 * One conversation with a scenario, run through the real Runtime with an in-memory state
 * store: what `botflow chat` and `botflow run` drive. It reports what happens, in the order
 * a user would see it, as entries (bot messages, actions run, ignored input).
 *
 * @example
 * const c = new LocalConversation({ scenario, kit, clock, onEntry: (e) => print(e) });
 * await c.start();
 * await c.text("4");
 */
import type { ConversationRef, ConversationState, Effect, OutButton, OutMessage, VarValue } from "../engine/types.ts";
import type { ActionRunner, BeginResult, CommitOptions, Delivery, StateStore } from "../engine/ports.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime } from "../engine/runtime.ts";
import { MemoryStateStore } from "../engine/state/memory-store.ts";
import type { SurveyEvent } from "../stats/events.ts";
import type { ScenarioKit } from "./scenario-kit.ts";
import type { SimClock } from "./sim-clock.ts";

export type ConversationEntry =
  | { kind: "bot"; message: OutMessage }
  | { kind: "action"; name: string; ok: boolean; events: SurveyEvent[]; error?: string }
  | { kind: "ignored"; reason: Extract<Effect, { type: "ignored" }>["reason"] }
  /** The open question got no answer in time. */
  | { kind: "timed_out" };

/** A question shown to the user, open or not. */
export interface ShownPrompt {
  promptId: string;
  buttons: OutButton[];
}

export interface LocalConversationOptions {
  scenario: LoadedScenario;
  kit: ScenarioKit;
  clock: SimClock;
  /** The user's locale; the scenario's default when absent. */
  locale?: string;
  /** Distinct ids keep distinct surveys when events go to a real store (`run --data-dir`). */
  conversationId?: string;
  onEntry?: (entry: ConversationEntry) => void;
  /** The scenarios `scenario` hands over to (goto_scenario). */
  related?: readonly LoadedScenario[];
}

const REF: ConversationRef = { channel: "cli", conversationId: "local", userId: "local-user" };

export class LocalConversation {
  private readonly runtime: Runtime;
  private readonly store: RecordingStore;
  private readonly shown: ShownPrompt[] = [];
  private readonly actionResults: ConversationEntry[] = [];
  private seq = 0;

  constructor(private readonly o: LocalConversationOptions) {
    const scenarios = new ScenarioRegistry(o.kit.loadOptions);
    for (const related of o.related ?? []) scenarios.add(related);
    scenarios.add(o.scenario);
    this.store = new RecordingStore(new MemoryStateStore(o.clock));
    this.runtime = new Runtime({
      scenarios,
      store: this.store,
      delivery: this.delivery(),
      actions: this.actions(),
      tracker: o.kit.tracker,
      defaultScenarioId: o.scenario.id,
      clock: o.clock,
    });
  }

  /** Opens the chat: runs the start block (again, after a restart), with `variables` as its start variables when given. */
  async start(variables?: Readonly<Record<string, VarValue>>): Promise<void> {
    await this.handle({ kind: "start", ...(this.o.locale ? { locale: this.o.locale } : {}), ...(variables ? { variables } : {}) });
  }

  /** The user typed `text`. */
  async text(text: string): Promise<void> {
    await this.handle({ kind: "text", text });
  }

  /** The user tapped button `buttonIndex` of prompt `promptId` (open or stale). */
  async tap(promptId: string, buttonIndex: number): Promise<void> {
    await this.handle({ kind: "choice", promptId, buttonIndex });
  }

  /** Moves time forward and fires the no-answer timeouts that fall due. */
  async wait(ms: number): Promise<void> {
    this.o.clock.advance(ms);
    this.actionResults.length = 0;
    await this.runtime.sweepTimeouts();
  }

  get state(): ConversationState | null {
    return this.store.last;
  }

  /** Every question shown so far, oldest first. */
  get prompts(): readonly ShownPrompt[] {
    return this.shown;
  }

  /** The question the conversation waits on, if any. */
  get openPrompt(): ShownPrompt | undefined {
    const id = this.state?.ended ? undefined : this.state?.prompt?.id;
    return id === undefined ? undefined : this.shown.find((p) => p.promptId === id);
  }

  private async handle(event: { kind: "start" | "text" | "choice"; text?: string; promptId?: string; buttonIndex?: number; locale?: string; variables?: Readonly<Record<string, VarValue>> }): Promise<void> {
    this.seq += 1;
    this.actionResults.length = 0; // left over only when an earlier step failed after its actions ran
    const ref = this.o.conversationId === undefined ? REF : { ...REF, conversationId: this.o.conversationId };
    await this.runtime.handle({ ...ref, ...event, dedupeKey: `cli-${this.seq}` });
  }

  private delivery(): Delivery {
    return {
      deliver: async (_ref, effects) => {
        for (const e of effects) {
          if (e.type === "send") {
            if (e.message.promptId !== undefined) this.shown.push({ promptId: e.message.promptId, buttons: e.message.buttons ?? [] });
            this.o.onEntry?.({ kind: "bot", message: e.message });
          } else if (e.type === "runAction") {
            // The runtime delivers once the whole step ran; actions report in the order they ran.
            const result = this.actionResults.shift();
            if (result) this.o.onEntry?.(result);
          } else if (e.type === "close" && e.reason === "timeout") {
            this.o.onEntry?.({ kind: "timed_out" });
          } else if (e.type === "ignored") {
            this.o.onEntry?.({ kind: "ignored", reason: e.reason });
          }
        }
      },
    };
  }

  private actions(): ActionRunner {
    const { actions, queue } = this.o.kit;
    return {
      run: async (name, config, ctx) => {
        const before = queue.events.length;
        try {
          const outcome = await actions.run(name, config, ctx);
          this.actionResults.push({ kind: "action", name, ok: true, events: queue.events.slice(before) });
          return outcome;
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          this.actionResults.push({ kind: "action", name, ok: false, events: queue.events.slice(before), error });
          throw err;
        }
      },
    };
  }
}

/** The memory store, remembering the last state saved so the CLI can show variables and prompts. */
class RecordingStore implements StateStore {
  last: ConversationState | null = null;

  constructor(private readonly inner: MemoryStateStore) {}

  begin(key: string, dedupeKey: string, lockMs: number): Promise<BeginResult> {
    return this.inner.begin(key, dedupeKey, lockMs);
  }

  async commit(key: string, token: string, state: ConversationState | null, dedupeKey: string, options: CommitOptions): Promise<void> {
    await this.inner.commit(key, token, state, dedupeKey, options);
    this.last = state;
  }

  release(key: string, token: string): Promise<void> {
    return this.inner.release(key, token);
  }

  dueTimeouts(now: number, limit: number): ReturnType<StateStore["dueTimeouts"]> {
    return this.inner.dueTimeouts(now, limit);
  }

  forget(matches: (key: string) => boolean): Promise<number> {
    return this.inner.forget(matches);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
