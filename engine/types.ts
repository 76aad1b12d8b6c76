/**
 * The data the engine speaks: inbound events from channels, conversation state,
 * and effects returned by the interpreter. Plain data only, no SDK types.
 */

/** A saved variable value. */
export type VarValue = string | number;

/** Normalised inbound event; every channel turns its payloads into these. */
export interface InboundEvent {
  channel: string;
  /** Channel-scoped conversation id (Telegram chat id, Teams conversation id, ...). */
  conversationId: string;
  userId: string;
  botId?: string;
  kind: "start" | "text" | "choice" | "timeout";
  /** Typed text (`text`), or the start payload (`start`). */
  text?: string;
  /** The prompt a `choice` answers (stale prompts are ignored). */
  promptId?: string;
  /** Index of the tapped button in the prompt's button list (skip button comes last). */
  buttonIndex?: number;
  /** The scenario a `start` (or a `startIfIdle` text that starts a dialogue) should run; defaults to the runtime's configured one. */
  scenarioId?: string;
  /** Channel-supplied key that identifies a delivery (Telegram update_id, Teams activity id). */
  dedupeKey: string;
  /** User's locale (en, uk-UA); picks the scenario translation. */
  locale?: string;
  /** When a `text` arrives with no dialogue in progress, start the scenario instead of ignoring it. */
  startIfIdle?: boolean;
  /**
   * With `startIfIdle`: the message was not typed text (an image, a location, a contact card,
   * another template's button), so only a scenario with `start_on: any` starts on it (engine/start-on.ts).
   */
  nonText?: boolean;
  /** Event time in epoch ms; the runtime fills it from its Clock when missing. */
  at?: number;
  /**
   * Set by the runtime when `text` had to be cleaned on the way in (U+0000 removed, lone
   * surrogates replaced; engine/text.ts `cleanText`). Channels never set it.
   */
  cleaned?: boolean;
  /**
   * `start` only: variables the dialogue begins with (a trigger's `agent`, `ticket`, `name`),
   * available to `{{…}}` and `next` rules from the first block and recorded with the survey.
   */
  variables?: Readonly<Record<string, VarValue>>;
  /**
   * `start` only: the dialogue was started from outside (the trigger API), not by the user. Its
   * channel sends the first message unprompted; `options` are the call's channel options (a
   * WhatsApp Cloud template), opaque to the engine.
   */
  proactive?: { triggerId: string; options?: Readonly<Record<string, unknown>> };
  /**
   * `timeout` only: trigger `triggerId`'s `expire_after` passed, whatever the prompt's own
   * deadline: the waiting question is declined as a timeout and the dialogue ends. Only the
   * dialogue that trigger started: a newer one in the same chat (another trigger's, or one the
   * user began) is left alone.
   */
  expire?: { triggerId: string };
}

/** The question a conversation is waiting on. */
export interface PendingPrompt {
  /** Unique within the conversation; channels put it in callback data. */
  id: string;
  blockId: string;
  attempts: number;
  /** Epoch ms after which the no-answer timeout fires. */
  deadline?: number;
}

/** Where a conversation lives: enough for the runtime to deliver to it without an inbound event. */
export interface ConversationRef {
  channel: string;
  conversationId: string;
  userId: string;
  botId?: string;
}

export interface ConversationState {
  /** Set by the runtime; the interpreter carries it along untouched. */
  ref?: ConversationRef;
  scenarioId: string;
  /** Version (content hash) of the scenario this dialogue started on. */
  scenarioVersion: string;
  /** Increments with each new dialogue in this conversation; part of the survey id. */
  dialogue: number;
  /** Monotonic counter for prompt ids. */
  seq: number;
  prompt: PendingPrompt | null;
  /** An action block waiting for its result. */
  pendingAction: string | null;
  vars: Record<string, VarValue>;
  locale: string;
  ended: boolean;
  startedAt: number;
  /**
   * Dedupe key of the event that started this dialogue. A start redelivered because its step
   * could not be saved starts the "same" dialogue again: the survey id derives from this key, not
   * from the clock, so the statistics see one survey, not a stray second one.
   */
  startKey?: string;
  updatedAt: number;
  /**
   * The variables this dialogue was started with from outside (a trigger's, or the ones a
   * `goto_scenario` passed on), kept apart from what the dialogue saves; they also seed `vars`.
   * Absent when the dialogue started without any. A later dialogue in the conversation does not
   * inherit them.
   */
  context?: Readonly<Record<string, VarValue>>;
  /** The trigger (InboundEvent.proactive.triggerId) that started this dialogue, when one did. */
  triggerId?: string;
  /**
   * Variables of this dialogue whose value had to be cleaned when it entered (see
   * `InboundEvent.cleaned`); absent when none. The survey record says so for the comment.
   */
  cleanedVars?: string[];
}

export interface OutButton {
  label: string;
  /** Recorded value (number for ratings). */
  value: VarValue;
  /** Position in the prompt's button list; channels send it back in `choice` events. */
  index: number;
  /** True for the decline ("skip") button. */
  skip?: boolean;
}

export interface OutMessage {
  text: string;
  /** Set for keyboards and for questions with a skip button. */
  promptId?: string;
  buttons?: OutButton[];
  /** Buttons grouped into rows by the scenario's layout. */
  rows?: OutButton[][];
  /** True when the prompt accepts free text (wait_for_response). */
  expectsText?: boolean;
}

export type CloseReason = "answered" | "skipped" | "timeout" | "invalid" | "reprompt" | "restart";

/** What a prompt became, for tracking (statistics) and for channels. */
export interface TrackEvent {
  type: "dialogue_started" | "prompt_offered" | "prompt_answered" | "prompt_declined" | "dialogue_ended";
  blockId?: string;
  saveTo?: string;
  value?: VarValue;
  /** min/max of a keyboard's numeric values. */
  scale?: { min: number; max: number };
  reason?: CloseReason;
  /** prompt_answered: the typed value had to be cleaned on the way in. */
  cleaned?: boolean;
  /**
   * prompt_answered: nobody answered; the re-prompts ran out and `value` is the question's
   * `invalid.default`, recorded as the answer. Statistics can leave such answers out.
   */
  defaulted?: boolean;
  /**
   * prompt_offered: the scenario's `dimensions:` as they stand at the offer (engine/survey-dimensions.ts),
   * frozen into the survey; `rolledUp` names the ones figures group by. Absent when it declares none or none has a value.
   */
  dimensions?: Record<string, string | string[]>;
  rolledUp?: string[];
  /**
   * dialogue_ended with reason "restart": a start (a "Start over", /start, a trigger, the scenario
   * changed under it) interrupted this dialogue before it ended. The step's own state is already the
   * next dialogue's, so the interrupted one's identity and variables ride along, as they stood:
   * statistics record the rating it was given (stats/survey-tracker.ts).
   */
  interrupted?: InterruptedDialogue;
}

/** What a tracker needs of a dialogue a start replaced (TrackEvent.interrupted). */
export type InterruptedDialogue = Pick<ConversationState, "scenarioId" | "scenarioVersion" | "dialogue" | "startedAt" | "startKey" | "vars" | "context" | "triggerId" | "cleanedVars">;

export type Effect =
  | { type: "send"; message: OutMessage }
  | { type: "close"; promptId: string; reason: CloseReason; answer?: { label: string; value: VarValue } }
  | { type: "runAction"; blockId: string; name: string; config: Record<string, unknown> }
  | { type: "track"; event: TrackEvent }
  | { type: "ignored"; reason: "stale_prompt" | "no_dialogue" | "unknown_button"; promptId?: string }
  /**
   * Something in the scenario did not work out at run time but the dialogue goes on (a set block's
   * `add` of a value that is not a number: the variable is left unset). For logs and `botflow chat`;
   * the message names blocks and variables, never a variable's value.
   */
  | { type: "warning"; blockId: string; message: string }
  /** A goto_scenario block ended the dialogue: the runtime starts `scenarioId` with `variables` in the same turn. */
  | { type: "handover"; blockId: string; scenarioId: string; variables: Record<string, VarValue> };

/** An action's result fed back into the interpreter. */
export interface ActionResultEvent {
  kind: "action_result";
  blockId: string;
  ok: boolean;
  at: number;
  /** Variables the action saved (ActionOutcome.vars), set before `next` / `on_error` is followed. */
  vars?: Readonly<Record<string, VarValue>>;
}

export function assertNever(x: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
