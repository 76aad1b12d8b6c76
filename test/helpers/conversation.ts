/**
 * Test helper: drives the pure interpreter like a runtime would, one event at a time,
 * deep-freezing every state it passes in so any mutation of the input fails the test.
 */
import { step, type StepResult } from "../../engine/interpreter.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import type { ConversationState, Effect, InboundEvent, OutMessage, TrackEvent } from "../../engine/types.ts";
import { deepFreeze } from "./scenario.ts";

export const T0 = Date.UTC(2026, 0, 1, 12);

export type TestEvent = Partial<Omit<InboundEvent, "kind">> & Pick<InboundEvent, "kind">;

export class TestConversation {
  state: ConversationState | null = null;
  t = T0;
  private n = 0;

  constructor(readonly scenario: LoadedScenario) {}

  /** Steps one inbound event, `dt` ms after the previous one (or at `event.at`). */
  feed(event: TestEvent, dt = 1000): Effect[] {
    this.t = event.at ?? this.t + dt;
    const full = { channel: "test", conversationId: "c1", userId: "u1", dedupeKey: `d${++this.n}`, ...event, at: this.t };
    const result = step(this.scenario, deepFreeze(this.state), full);
    return this.accept(result);
  }

  /** Feeds an action's result, as the runtime does after running it. */
  actionResult(blockId: string, ok: boolean): Effect[] {
    const result = step(this.scenario, deepFreeze(this.state), { kind: "action_result", blockId, ok, at: this.t });
    return this.accept(result);
  }

  /** Keeps the new state, checking the invariant the runtime relies on: a pending action's runAction comes last. */
  private accept(result: StepResult): Effect[] {
    const pending = result.state?.pendingAction;
    const last = result.effects.at(-1);
    if (pending && result.state !== this.state && !(last?.type === "runAction" && last.blockId === pending)) {
      throw new Error(`action "${pending}" is pending but the last effect is ${JSON.stringify(last)}`);
    }
    this.state = result.state;
    return result.effects;
  }

  start(extra: Partial<InboundEvent> = {}): Effect[] {
    return this.feed({ kind: "start", ...extra });
  }
  text(text: string, extra: Partial<InboundEvent> = {}): Effect[] {
    return this.feed({ kind: "text", text, ...extra });
  }
  /** Taps button `buttonIndex` of the current prompt (or of `promptId`). */
  tap(buttonIndex: number, promptId = this.state?.prompt?.id): Effect[] {
    return this.feed({ kind: "choice", buttonIndex, promptId });
  }
  get promptId(): string | undefined {
    return this.state?.prompt?.id ?? undefined;
  }
}

export function sends(effects: readonly Effect[]): OutMessage[] {
  return effects.flatMap((e) => (e.type === "send" ? [e.message] : []));
}

export function texts(effects: readonly Effect[]): string[] {
  return sends(effects).map((m) => m.text);
}

export function tracks(effects: readonly Effect[]): TrackEvent[] {
  return effects.flatMap((e) => (e.type === "track" ? [e.event] : []));
}

export function ofType<T extends Effect["type"]>(effects: readonly Effect[], type: T): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}
