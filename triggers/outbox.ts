/**
 * The trigger outbox: "send trigger `id` at `runAt`", durable in production (BullMQ on Redis, a
 * delayed trigger survives a SIGKILL of every process) and in process in the embedded default
 * (the trigger store in the data folder is the durable record there: TriggerService.recover()
 * hands the outbox every scheduled trigger again at start).
 *
 * Both implementations share this policy and pass test/triggers/outbox-contract.ts:
 * - `add` dedupes by id: a trigger waiting, delayed, running or recently done is not added again;
 * - the handler (TriggerService.send) resolving is done; rejecting with a ChannelError that is not
 *   retryable (or any error on the last attempt) is final: `failed(job, reason)` hears of it once
 *   and the job stays in the dead letter; any other rejection is retried after the backoff of
 *   channels/retry.ts, at least the messenger's `retry_after`.
 *
 * The port is generic in the job's payload: the trigger outbox carries `{ triggerId }`, the
 * outgoing webhooks (webhooks/webhook-outbox.ts) carry their event, on their own queues.
 *
 * @example
 * const outbox = new InProcessOutbox();
 * outbox.start({ handle: (job) => triggers.send(job.id), failed: (job, reason) => triggers.failed(job.id, reason) });
 * await outbox.add({ id, channel: "telegram", runAt, payload: { triggerId: id } });
 */
import { ChannelError, errorSummary } from "../engine/errors.ts";
import { backoffMs, type BackoffPolicy } from "../channels/retry.ts";
import type { TriggerOutbox } from "./trigger-service.ts";

/** A trigger job's payload (the default payload of the port). */
export type TriggerPayload = Parameters<TriggerOutbox["add"]>[0]["payload"];

/** What `add` takes: the job id (the dedupe key), the channel (its queue), when to run it and its payload. */
export interface OutboxEntry<P = TriggerPayload> {
  id: string;
  channel: string;
  runAt?: number;
  payload: P;
}

/** One job as the handlers see it; `attempt` counts from 1. */
export interface OutboxJob<P = TriggerPayload> {
  id: string;
  channel: string;
  runAt: number;
  payload: P;
  attempt: number;
}

export interface OutboxHandlers<P = TriggerPayload> {
  handle(job: OutboxJob<P>): Promise<void>;
  /** The outbox gave up on the job (a permanent failure, or the attempts ran out). */
  failed(job: OutboxJob<P>, reason: string): Promise<void>;
}

export interface OutboxCounts {
  waiting: number;
  delayed: number;
  active: number;
  dead: number;
}

/** A job the outbox gave up on; never its payload's variables (personal data). */
export interface DeadTrigger {
  id: string;
  channel: string;
  attempts: number;
  reason: string;
  deadAt: number | null;
}

export interface Outbox<P = TriggerPayload> {
  /** Adds a job unless one with its id is waiting, delayed, running, recently done or dead. */
  add(entry: OutboxEntry<P>): Promise<{ added: boolean }>;
  /** Starts running due jobs through `handlers` (once). */
  start(handlers: OutboxHandlers<P>): void;
  counts(): Promise<OutboxCounts>;
  /** The dead letter, newest first. */
  deadLetters(limit: number): Promise<DeadTrigger[]>;
  /** Runs a dead job again from its first attempt; false when there is none with that id. */
  retryDead(id: string): Promise<boolean>;
  /** Takes no more jobs, waits for the running ones; idempotent. */
  close(): Promise<void>;
}

export interface OutboxSettings extends Pick<BackoffPolicy, "baseMs" | "capMs"> {
  /** Attempts per job, the first included. */
  attempts: number;
  /** Jobs run at once per channel in this process (the channel's pacing decides the rate). */
  concurrency: number;
}

/** Eight attempts from 2 s doubling to a 10-minute cap: a messenger away for half an hour is survived. */
export const DEFAULT_OUTBOX: OutboxSettings = { attempts: 8, baseMs: 2_000, capMs: 600_000, concurrency: 8 };

/**
 * How an outbox names its jobs in logs and errors: the trigger outbox's defaults, or another
 * user's (the webhooks: `{ noun: "webhook", failure: "a webhook could not be delivered" }`).
 */
export interface OutboxWording {
  /** The log field holding the job id, and the word in "the … outbox is closed". */
  noun: string;
  /** The start of the retry warning: "<failure>; retrying". */
  failure: string;
}

export const TRIGGER_WORDING: OutboxWording = { noun: "trigger", failure: "a triggered survey could not be sent" };

/** Thrown by `add` after `close()`. */
export class OutboxClosedError extends Error {
  constructor(noun = "trigger") {
    super(`the ${noun} outbox is closed and takes no more ${noun}s`);
    this.name = "OutboxClosedError";
  }
}

/** What to do after attempt `attempt` failed with `err`: retry after `delayMs`, or give up saying why. */
export function afterFailure(err: unknown, attempt: number, settings: OutboxSettings, random: () => number = Math.random): { retry: true; delayMs: number } | { retry: false; reason: string } {
  const reason = errorSummary(err).message;
  if (err instanceof ChannelError && !err.retryable) return { retry: false, reason };
  if (attempt >= settings.attempts) return { retry: false, reason: `gave up after ${attempt} attempts: ${reason}` };
  const retryAfter = err instanceof ChannelError ? err.retryAfterMs : undefined;
  return { retry: true, delayMs: backoffMs(attempt, settings, random, retryAfter) };
}
