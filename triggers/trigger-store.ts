/**
 * The TriggerStore port: every trigger the API accepted or refused, with what became of it. It
 * lives beside the statistics (the `trigger` table, stats/store/migrations.ts), so a triggered
 * survey's state joins its survey row, and it is as durable as they are: PostgreSQL in
 * production, PGlite in the embedded data folder. One implementation (SqlTriggerStore) runs on
 * both drivers and passes test/triggers/trigger-store.test.ts against each.
 *
 * Deliberately left out: sending (the outbox does it) and deciding (engine/survey-rules.ts); the store
 * only records, and enforces the one rule that must hold across processes: one trigger per key.
 *
 * @example
 * const { created, record } = await store.insert(newTrigger);
 * if (!created) return reply.code(200).send(view(record)); // the same key was triggered before
 */
import type { ConversationRef, VarValue } from "../engine/types.ts";

/** What a trigger is now, as `GET /api/dialogues/{id}` says it. */
export type TriggerState = "scheduled" | "sent" | "answered" | "completed" | "declined" | "expired" | "failed" | "skipped";

/** What the store itself records; answered / completed / declined come from the survey row. */
export type StoredTriggerStatus = "scheduled" | "sent" | "expired" | "failed" | "skipped";

export interface NewTrigger {
  id: string;
  key?: string;
  channel: string;
  /** The recipient as the caller named it. */
  recipient: string;
  scenarioId: string;
  variables: Record<string, VarValue>;
  locale?: string;
  options?: Record<string, unknown>;
  status: "scheduled" | "skipped";
  /** The rule behind a skip (`cooldown`, `sample`). */
  reason?: string;
  /** When it is (or was to be) sent. */
  runAt: number;
  /** How long after sending an unanswered survey expires (0 or absent: never). */
  expireAfterMs?: number;
  createdAt: number;
  /**
   * The cooldown rule: a scheduled trigger is recorded as skipped (reason `cooldown`) instead when
   * its recipient on its channel was sent, or is scheduled, a survey created at or after this time.
   */
  cooldownSince?: number;
}

export interface TriggerRecord extends Omit<NewTrigger, "status" | "cooldownSince"> {
  status: StoredTriggerStatus;
  /** The state people see, with the survey's progress folded in. */
  state: TriggerState;
  sentAt?: number;
  expiresAt?: number;
  /** The survey (dialogue) it started, once sent. */
  surveyId?: string;
  ref?: ConversationRef;
  updatedAt: number;
}

export interface SentTrigger {
  /** Unknown only when the dialogue had started before a crash and this is its redelivery. */
  surveyId?: string;
  ref: ConversationRef;
  sentAt: number;
  expiresAt?: number;
}

export interface TriggerStore {
  /**
   * Records `t` unless a trigger with its key exists (then returns that one, `created: false`),
   * applying `t.cooldownSince` (the record says whether it was skipped). Both hold across
   * processes: of triggers with one key only one is recorded, and of triggers for one recipient
   * accepted at once under a cooldown only one is scheduled, whatever their keys.
   */
  insert(t: NewTrigger): Promise<{ created: boolean; record: TriggerRecord }>;
  get(id: string): Promise<TriggerRecord | undefined>;
  byKey(key: string): Promise<TriggerRecord | undefined>;
  /** Scheduled → sent. False when it was no longer scheduled (another process sent it, or it was cancelled). */
  markSent(id: string, sent: SentTrigger): Promise<boolean>;
  /** Scheduled → failed, with why (`blocked`, `unknown_recipient`, `delivery_failed: …`). */
  markFailed(id: string, reason: string, at: number): Promise<boolean>;
  /** Sent and still unanswered → expired. */
  markExpired(id: string, at: number): Promise<boolean>;
  /** Forgets a trigger that was never handed to the outbox (its enqueue failed): nothing half-started stays. */
  remove(id: string): Promise<void>;
  /** Scheduled triggers due at or before `before`, oldest first: the outbox gets them again after a restart. */
  scheduled(before: number, limit: number): Promise<TriggerRecord[]>;
  /** Sent triggers whose expiry passed at `now` and whose survey was not answered. */
  expiring(now: number, limit: number): Promise<TriggerRecord[]>;
}
