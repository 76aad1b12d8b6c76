/**
 * The JSON body of an outgoing webhook, built from a stored survey: what a helpdesk needs to
 * reopen a ticket on a bad rating. `id` is stable (`<survey id>.<type>`): every delivery and
 * redelivery of one event carries the same id, so a receiver dedupes on it (at-least-once).
 * The comment is personal data: it is in the body, never in a log.
 *
 * @example
 * {
 *   "id": "s-42.survey.low_score", "type": "survey.low_score", "occurredAt": "2026-01-01T10:00:05.000Z",
 *   "surveyId": "s-42", "scenario": "csat", "scenarioVersion": "3f2a…", "channel": "telegram", "bot": "",
 *   "score": 1, "scale": { "min": 1, "max": 5 }, "comment": "nobody answered", "reason": null,
 *   "dimensions": { "agent": "olena", "ticket": "T-1009" }, "triggerId": "t-7", "dialogueStartedAt": "2026-01-01T09:58:00.000Z"
 * }
 */
import type { SurveyContext, SurveyEvent } from "../stats/events.ts";
import { isLowScore, type LowScoreRule } from "./low-score.ts";

export type WebhookEventType = "survey.completed" | "survey.declined" | "survey.low_score";

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = ["survey.completed", "survey.declined", "survey.low_score"];

export interface WebhookEvent {
  /** `<surveyId>.<type>`: the same for every delivery of this event. */
  id: string;
  type: WebhookEventType;
  /** When the survey was completed or declined (ISO 8601, UTC). */
  occurredAt: string;
  surveyId: string;
  scenario: string;
  scenarioVersion: string;
  channel: string;
  /** "" when the channel has a single bot. */
  bot: string;
  /** The rating; null for a comment without one, and for a declined survey. */
  score: number | null;
  /** The keyboard's values, min and max; null when not known (yet: see webhookEventsFor). */
  scale: { min: number; max: number } | null;
  /** The client's comment ("" for a rating without one); null when declined. Personal data. */
  comment: string | null;
  /** survey.declined: skipped, timeout or invalid; otherwise null. */
  reason: string | null;
  /** The dialogue's start variables (a trigger's agent, team, ticket); {} when it had none. */
  dimensions: SurveyContext;
  /** The trigger API call that started the dialogue; null when the user did. */
  triggerId: string | null;
  dialogueStartedAt: string;
}

/** What the store holds of a survey after its event committed (webhooks/survey-outcomes.ts). */
export interface SurveyOutcome {
  completed: boolean;
  denied: boolean;
  deniedReason: string | null;
  score: number | null;
  scale: { min: number; max: number } | null;
  comment: string | null;
  /** Epoch ms. */
  completedAt: number | null;
  declinedAt: number | null;
}

/** The event id for a survey and type. */
export function webhookEventId(surveyId: string, type: WebhookEventType): string {
  return `${surveyId}.${type}`;
}

/**
 * The webhook events a stored survey event leads to, given the survey's record after the commit:
 * - `completed` (or `offered` / `answered` of a survey already completed: workers store a
 *   survey's events in any order, and those bring the scale): survey.completed, and
 *   survey.low_score when the rule finds the score low. A completion stored before any event
 *   with the scale is sent with `scale: null`; its low_score follows when the scale is stored;
 * - `declined`: survey.declined.
 * Other kinds lead to none. Ids are stable, so the same survey twice gives the same events.
 */
export function webhookEventsFor(event: SurveyEvent, outcome: SurveyOutcome, rule: LowScoreRule): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  const base = {
    surveyId: event.surveyId,
    scenario: event.scenarioId,
    scenarioVersion: event.scenarioVersion,
    channel: event.channel,
    bot: event.botId,
    scale: outcome.scale,
    dimensions: event.context ?? {},
    triggerId: event.triggerId ?? null,
    dialogueStartedAt: iso(event.dialogueStartedAt),
  };
  if ((event.kind === "completed" || event.kind === "answered" || event.kind === "offered") && outcome.completed) {
    const done = { ...base, occurredAt: iso(outcome.completedAt ?? event.at), score: outcome.score, comment: outcome.comment ?? "", reason: null };
    out.push({ id: webhookEventId(event.surveyId, "survey.completed"), type: "survey.completed", ...done });
    if (isLowScore(outcome.score, outcome.scale, rule)) out.push({ id: webhookEventId(event.surveyId, "survey.low_score"), type: "survey.low_score", ...done });
  }
  if (event.kind === "declined" && outcome.denied) {
    out.push({
      id: webhookEventId(event.surveyId, "survey.declined"),
      type: "survey.declined",
      ...base,
      occurredAt: iso(outcome.declinedAt ?? event.at),
      score: null,
      comment: null,
      reason: outcome.deniedReason ?? event.reason ?? "skipped",
    });
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
