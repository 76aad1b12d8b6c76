/**
 * The ports the runtime talks through. Adapters live outside engine/ (channels/, actions/,
 * stats/) or beside it (state stores); the engine never imports them.
 */
import type { ConversationRef, ConversationState, Effect, TrackEvent, VarValue, InboundEvent } from "./types.ts";

/** Injected time, so timeouts are tested with a simulated clock and never with sleeps. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** pino-compatible structured logger. Never pass tokens or comment text in `obj`. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** What `begin` found: the delivery was seen already, someone else holds the lock, or we hold it. */
export type BeginResult =
  | { status: "duplicate" }
  | { status: "locked" }
  | { status: "acquired"; token: string; state: ConversationState | null };

export interface CommitOptions {
  /** Idle conversations expire after this long. */
  stateTtlMs: number;
  /** How long a dedupe key is remembered. */
  dedupeTtlMs: number;
}

/**
 * Conversation state, delivery dedupe, per-conversation locks and prompt deadlines.
 * One inbound event costs exactly two calls: `begin` before the step and `commit` after it
 * (one round trip each on Redis). Implementations pass test/state-store-contract.ts.
 *
 * Deliberately left out: history of past states, cross-conversation queries, and any
 * ordering beyond "one event at a time per conversation" — channels order their own input.
 */
export interface StateStore {
  /** Takes the conversation's lock for `lockMs` unless `dedupeKey` was committed already; reads the state. */
  begin(key: string, dedupeKey: string, lockMs: number): Promise<BeginResult>;
  /**
   * Writes the state (null deletes it), remembers `dedupeKey`, sets or clears the prompt deadline,
   * and releases the lock. Throws LockLostError when the lock expired and someone else took it.
   */
  commit(key: string, token: string, state: ConversationState | null, dedupeKey: string, options: CommitOptions): Promise<void>;
  /** Releases the lock without writing (the step failed; the delivery will come again). */
  release(key: string, token: string): Promise<void>;
  /** Conversations whose prompt deadline is at or before `now`, oldest first. */
  dueTimeouts(now: number, limit: number): Promise<{ key: string; ref: ConversationRef; deadline: number }[]>;
  /**
   * Forgets every conversation whose key `matches` (a person's erasure): its state, lock, dedupe
   * keys and prompt deadline. Resolves to how many conversations had a state or a deadline. Walks
   * every key the store holds, so it is for rare requests, never for a hot path.
   */
  forget(matches: (key: string) => boolean): Promise<number>;
  close(): Promise<void>;
}

/** What an action sees of the conversation that runs it. */
export interface ActionContext {
  ref: ConversationRef;
  scenarioId: string;
  scenarioVersion: string;
  /** One survey per dialogue: stable across retries and redeliveries of the same dialogue. */
  surveyId: string;
  dialogueStartedAt: number;
  blockId: string;
  vars: Readonly<Record<string, VarValue>>;
  /** Variables whose value had to be cleaned on the way in (ConversationState.cleanedVars). */
  cleanedVars?: readonly string[];
  /** The variables the dialogue was started with (ConversationState.context); recorded with the survey. */
  context?: Readonly<Record<string, VarValue>>;
  /** The trigger that started the dialogue (ConversationState.triggerId). */
  triggerId?: string;
  at: number;
  /**
   * The inbound update's batch (Tracker.open), when the tracker batches: what the update records
   * for statistics goes into it and is queued once, before the update is delivered and saved.
   */
  batch?: TrackBatch;
}

/** What a finished action hands back: variables to save before the dialogue follows `next` (http__request's `save`). */
export interface ActionOutcome {
  vars?: Readonly<Record<string, VarValue>>;
}

/**
 * Runs named actions. Actions must be idempotent: a redelivered event may run one again.
 * Throwing fails the action (the block's `on_error` runs); an ActionError's `vars` are saved even then.
 */
export interface ActionRunner {
  run(name: string, config: Readonly<Record<string, unknown>>, ctx: ActionContext): Promise<ActionOutcome | void>;
}

/** Receives what prompts became (offered, answered, declined) for statistics; idempotent like actions. */
export interface Tracker {
  track(event: TrackEvent, ctx: Omit<ActionContext, "blockId">): Promise<void>;
  /**
   * A batch for one inbound update: the runtime passes it in every context of the update's
   * steps (`ctx.batch`) and flushes it once the step is done, before delivery and the state's
   * save, so the update's records are queued as one unit (one job, not one per event). A
   * tracker without it queues each record in `track`.
   */
  open?(): TrackBatch;
}

/** What one inbound update recorded, gathered by the tracker and its actions (Tracker.open). */
export interface TrackBatch {
  /** Queues what was gathered (nothing to do when empty); resolves once it is durable. A rejection fails the update, which is then redelivered. */
  flush(): Promise<void>;
}

/**
 * Delivers user-visible effects (send, close, ignored) of one event to the conversation's channel.
 * Throwing makes the runtime give up the step without saving it; the delivery comes again.
 *
 * `cause` is the inbound event object the channel handed to the runtime, so a channel can tie
 * the effects to the payload behind them (answer Telegram's callback query, reply in the Teams
 * turn) by identity, without ambient async context.
 */
export interface Delivery {
  deliver(ref: ConversationRef, effects: readonly Effect[], cause?: InboundEvent): Promise<void>;
}

/** The lock expired before the step was saved (a BotflowError with code LOCK_LOST, engine/errors.ts). */
export { LockLostError } from "./errors.ts";
