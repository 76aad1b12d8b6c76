/**
 * Plays one scripted dialogue (see dialogues.ts) against a scenario in a fresh conversation,
 * on a simulated clock that starts at a fixed instant, so the same script always gives the
 * same result.
 */
import type { LoadedScenario } from "../engine/scenario.ts";
import type { VarValue } from "../engine/types.ts";
import type { SurveyEvent } from "../stats/events.ts";
import type { Dialogue, Turn } from "./dialogues.ts";
import { LocalConversation, type ConversationEntry, type ShownPrompt } from "./local-conversation.ts";
import type { SurveyQueue } from "../stats/events.ts";
import type { ActionSetup } from "../app/action-setup.ts";
import { createScenarioKit } from "./scenario-kit.ts";
import { SimClock } from "./sim-clock.ts";

/** Where the simulated clock starts; each turn happens one second after the one before. */
export const DIALOGUE_EPOCH = Date.UTC(2026, 0, 1);
const TURN_GAP_MS = 1000;

/** A survey event as `run --json` shows it: what statistics receive, without ids and times. */
export interface ShownEvent {
  kind: SurveyEvent["kind"];
  score?: number;
  scale?: { min: number; max: number };
  comment?: string;
  reason?: string;
}

export type TranscriptItem = ConversationEntry | { kind: "user"; turn: Turn } | { kind: "error"; message: string };

export interface DialogueResult {
  name?: string;
  /** What the bot sent, in order. */
  messages: { text: string; buttons?: { label: string; value: VarValue }[] }[];
  variables: Record<string, VarValue>;
  ended: boolean;
  /** Survey events queued for statistics (tracker and actions), in order. */
  events: ShownEvent[];
  /** Turns the engine ignored (stale keyboards, input after the end), 1-based. */
  ignored: { turn: number; reason: string }[];
  /** Why the dialogue stopped early (a tap that matches no button); absent when it ran to the end. */
  error?: string;
  /** Everything that happened, user turns included, for the readable transcript. */
  transcript: TranscriptItem[];
}

/** Plays `dialogue` (number `n`, 1-based, for messages) against `scenario`. */
/** Where a run's survey events go besides the transcript: a real queue, under real time. */
export interface DialogueStats {
  queue: SurveyQueue;
  /** Makes conversation (and so survey) ids unique across runs writing to one store. */
  runId: string;
  /** When the run started: dialogues are recorded at real time, so `botflow stats` finds them. */
  epoch: number;
}

export async function playDialogue(
  scenario: LoadedScenario,
  dialogue: Dialogue,
  n: number,
  defaultLocale?: string,
  stats?: DialogueStats,
  related: readonly LoadedScenario[] = [],
  actions?: ActionSetup,
): Promise<DialogueResult> {
  const kit = createScenarioKit({ ...(stats ? { queue: stats.queue } : {}), ...(actions ? { actions } : {}) });
  const epoch = stats?.epoch ?? DIALOGUE_EPOCH;
  const clock = new SimClock(() => epoch);
  const transcript: TranscriptItem[] = [];
  const messages: DialogueResult["messages"] = [];
  const ignored: DialogueResult["ignored"] = [];
  let turnNo = 0;
  const locale = dialogue.locale ?? defaultLocale;
  const conversation = new LocalConversation({
    scenario,
    related,
    kit,
    clock,
    ...(locale ? { locale } : {}),
    ...(stats ? { conversationId: `run-${stats.runId}-${n}` } : {}),
    onEntry: (entry) => {
      transcript.push(entry);
      if (entry.kind === "bot") {
        const buttons = entry.message.buttons?.map((b) => ({ label: b.label, value: b.value }));
        messages.push({ text: entry.message.text, ...(buttons && buttons.length > 0 ? { buttons } : {}) });
      } else if (entry.kind === "ignored") {
        ignored.push({ turn: turnNo, reason: entry.reason });
      }
    },
  });

  let error: string | undefined;
  try {
    await conversation.start(dialogue.variables);
    for (const turn of dialogue.turns) {
      turnNo += 1;
      transcript.push({ kind: "user", turn });
      clock.advance(TURN_GAP_MS);
      if (turn.type === "text") await conversation.text(turn.text);
      else if (turn.type === "wait") await conversation.wait(turn.ms);
      else {
        const target = resolveTap(conversation, turn);
        if (typeof target === "string") {
          error = `dialogue ${n}, turn ${turnNo}: ${target}`;
          break;
        }
        await conversation.tap(target.promptId, target.index);
      }
    }
  } catch (err) {
    error = `dialogue ${n}, turn ${turnNo}: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (error !== undefined) transcript.push({ kind: "error", message: error });

  const state = conversation.state;
  return {
    ...(dialogue.name !== undefined ? { name: dialogue.name } : {}),
    messages,
    variables: { ...(state?.vars ?? {}) },
    ended: state?.ended ?? false,
    events: kit.queue.events.map(showEvent),
    ignored,
    ...(error !== undefined ? { error } : {}),
    transcript,
  };
}

/** The prompt and button a tap turn means, or why it means none. */
function resolveTap(conversation: LocalConversation, turn: Extract<Turn, { type: "tap" }>): { promptId: string; index: number } | string {
  const shown = conversation.prompts;
  const open = conversation.openPrompt;
  let prompt: ShownPrompt | undefined;
  let which: string;
  if (turn.prompt === "current") {
    which = "the open question";
    prompt = open;
    if (!prompt) return `${tapText(turn)}: no question is open (the dialogue ${conversation.state?.ended ? "has ended" : "waits for nothing"}); to tap an old keyboard add "prompt": "previous"`;
  } else if (turn.prompt === "previous") {
    which = "the previous question";
    const at = open ? shown.indexOf(open) - 1 : shown.length - 1;
    prompt = at >= 0 ? shown[at] : undefined;
    if (!prompt) return `${tapText(turn)}: no question was shown before the open one`;
  } else {
    which = `question ${turn.prompt}`;
    prompt = shown[turn.prompt - 1];
    if (!prompt) return `${tapText(turn)}: only ${shown.length} question(s) were shown so far`;
  }
  const button =
    prompt.buttons.find((b) => b.label === String(turn.tap)) ??
    prompt.buttons.find((b) => (typeof turn.tap === "number" ? b.value === turn.tap : String(b.value) === turn.tap));
  if (!button) {
    const has = prompt.buttons.length === 0 ? "it has no buttons" : `buttons: ${prompt.buttons.map(describeButton).join(", ")}`;
    return `${tapText(turn)} matches no button of ${which} (${has})`;
  }
  return { promptId: prompt.promptId, index: button.index };
}

function tapText(turn: Extract<Turn, { type: "tap" }>): string {
  return `tap ${JSON.stringify(turn.tap)}`;
}

function describeButton(b: { label: string; value: VarValue; skip?: boolean }): string {
  return b.skip ? `${JSON.stringify(b.label)} (skip)` : `${JSON.stringify(b.label)} = ${JSON.stringify(b.value)}`;
}

function showEvent(e: SurveyEvent): ShownEvent {
  return {
    kind: e.kind,
    ...(e.score !== undefined ? { score: e.score } : {}),
    ...(e.scale !== undefined ? { scale: e.scale } : {}),
    ...(e.comment !== undefined ? { comment: e.comment } : {}),
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
  };
}
