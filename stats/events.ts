/**
 * Survey events: what the runtime tells the statistics pipeline. One survey per dialogue;
 * the worker folds these into one record per survey (offered / accepted / denied /
 * completed flags, score, scale, comment) and the rollups behind the figures.
 */
import { createHash } from "node:crypto";

/**
 * The variables a dialogue was started with (a trigger's `agent`, `team`, `ticket`), recorded
 * with its survey. Names are variable names; at most 50 of them (engine/start-variables.ts).
 */
export type SurveyContext = Readonly<Record<string, string | number | boolean>>;

export type SurveyEventKind = "dialogue_started" | "offered" | "answered" | "declined" | "commented" | "completed";

/** What a survey event is: one of the survey's own kinds (folded into its record), or a further metric's answer. */
export type SurveyEventKindOrMetric = SurveyEventKind | "metric";

/**
 * The scales a further metric is recorded on (`statistic__set {type: metric, name, scale}`), each
 * with its own formula in the figures (stats/metric-figures.ts):
 * - `nps_0_10`: Net Promoter Score, 0–10; promoters 9–10, passives 7–8, detractors 0–6;
 *   score = % promoters − % detractors (−100…100).
 * - `ces_1_7`: Customer Effort Score, 1–7; the average, and the share agreeing (5–7).
 * - `yes_no`: 1 yes, 0 no ("was your issue resolved?"); the share of yes.
 * - `csat_1_5`: a further 1–5 satisfaction question; the average and the share of 1–2 (CDSAT).
 */
export type MetricScale = "nps_0_10" | "ces_1_7" | "yes_no" | "csat_1_5";

export const METRIC_SCALES: Readonly<Record<MetricScale, { min: number; max: number; integer: boolean }>> = {
  nps_0_10: { min: 0, max: 10, integer: true },
  ces_1_7: { min: 1, max: 7, integer: true },
  yes_no: { min: 0, max: 1, integer: true },
  csat_1_5: { min: 1, max: 5, integer: true },
};

/** A metric name: lower-case letters, digits and _, at most 40, starting with a letter. */
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,39}$/;

/** A further metric's answer: one per survey and metric name (the first recorded wins). */
export interface MetricAnswer {
  name: string;
  scale: MetricScale;
  value: number;
}

export interface SurveyEvent {
  kind: SurveyEventKindOrMetric;
  surveyId: string;
  scenarioId: string;
  scenarioVersion: string;
  channel: string;
  /** "" when the channel has a single bot. */
  botId: string;
  conversationId: string;
  /** When the dialogue started (epoch ms). */
  dialogueStartedAt: number;
  /** When this event happened (epoch ms). */
  at: number;
  /** answered / completed: the numeric rating. */
  score?: number;
  /** offered / answered / completed: min and max of the keyboard's values. */
  scale?: { min: number; max: number };
  /** commented / completed: the client's comment. Personal data: never log it. */
  comment?: string;
  /**
   * commented / completed: the comment had to be cleaned to be stored (U+0000 removed, lone
   * surrogates replaced by U+FFFD; engine/text.ts `cleanText`), so it is not byte for byte what
   * the client sent.
   */
  commentSanitized?: boolean;
  /** declined: skipped, timeout, or invalid. */
  reason?: string;
  /**
   * Every kind: the dialogue's start variables (ActionContext.context); absent when it started
   * without any. Personal data may be in it (a name): never log the values.
   */
  context?: SurveyContext;
  /** Every kind: the trigger API call that started the dialogue; absent when the user did. */
  triggerId?: string;
  /**
   * offered: the scenario's survey dimensions (agent, team, tags, ticket) as they stood when the
   * rating was offered (engine/survey-dimensions.ts), frozen into the survey: the first stored wins.
   * `rolledUp` names those figures group by (their values are rolled up). Personal data may be in a
   * value: never log the values.
   */
  dimensions?: SurveyDimensions;
  rolledUp?: readonly string[];
  /** metric: the further metric answered (NPS, CES, yes/no), recorded apart from the CSAT rating. */
  metric?: MetricAnswer;
}

/** A survey's dimension values: a string, or the items of a list dimension (tags). */
export type SurveyDimensions = Readonly<Record<string, string | readonly string[]>>;

/** The queue job id: the same event queued twice is one job. */
export function surveyJobId(e: Pick<SurveyEvent, "surveyId" | "kind" | "metric">): string {
  // One job per metric of a survey: a survey may record several (NPS and CES).
  return e.kind === "metric" ? `${e.surveyId}.metric.${e.metric?.name ?? ""}` : `${e.surveyId}.${e.kind}`;
}

/**
 * The job id of a batch of events (the events of one inbound update, or of several updates
 * group-committed together): the same events in the same order are the same job, so a
 * redelivered update whose step produced them again adds nothing while the first job is kept.
 */
export function surveyBatchJobId(events: readonly Pick<SurveyEvent, "surveyId" | "kind" | "metric">[]): string {
  const h = createHash("sha256");
  for (const e of events) h.update(surveyJobId(e)).update("\n");
  return `batch.${h.digest("base64url").slice(0, 22)}`;
}

/**
 * Where survey events go: BullMQ in production, an in-process queue in the embedded default.
 * `add` resolves once the event is durably queued (or, in process, stored).
 */
export interface SurveyQueue {
  add(event: SurveyEvent): Promise<void>;
  /**
   * Queues the events of one inbound update as one unit (BullMQ: one job, or one shared with
   * updates queued at the same moment; in process: one transaction with them), resolving once
   * all are durable. Each event keeps its own idempotency, so a batch applied twice, or one whose
   * events were partly applied already, counts each event once. A queue without it gets one
   * `add` per event (test doubles).
   */
  addBatch?(events: readonly SurveyEvent[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A rating as recorded: numbers as they are, numeric strings (a rating typed into a
 * wait_for_response) converted; anything else (blank, words, Infinity) is no rating.
 */
export function toScore(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Every kind, for validation and for iterating in tests. */
export const SURVEY_EVENT_KINDS: readonly SurveyEventKind[] = ["dialogue_started", "offered", "answered", "declined", "commented", "completed"];

/** The variables the reference product's CSAT scenario saves. */
export const QUALITY_ANSWER = "quality_answer";
export const QUALITY_COMMENT = "quality_comment";
