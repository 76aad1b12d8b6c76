/**
 * `statistic__set`: with `{type: quality}` it queues the dialogue's quality_answer (numeric
 * rating) and quality_comment (free text) as a completed survey. The reference product's
 * display rules: a rating without a comment is recorded with an empty comment; a comment
 * without a rating as a comment only; neither, nothing but the "offered" flag. The event carries
 * the dialogue's start context (a trigger's agent, team, ticket) and trigger id when it has them.
 *
 * With `{type: metric, name: nps, scale: nps_0_10}` it records a further question's answer (the
 * variable `variable`, default the metric's name) apart from the CSAT rating: an NPS 0–10, a CES
 * 1–7, a yes/no (1/0), a second 1–5. An unanswered metric records nothing; a value off its scale
 * (a keyboard with other values) fails the action, so the scenario's `on_error` path runs and the
 * mistake shows in the log rather than in the figures.
 */
import type { ActionContext } from "../engine/ports.ts";
import { ActionError } from "../engine/errors.ts";
import { METRIC_NAME, METRIC_SCALES, QUALITY_ANSWER, QUALITY_COMMENT, toScore, type MetricScale, type SurveyQueue } from "../stats/events.ts";
import { recordSurveyEvent } from "../stats/queue/survey-event-batch.ts";
import { surveyEventBase } from "../stats/survey-tracker.ts";
import type { ActionDefinition } from "./registry.ts";

export const STATISTIC_SET_CONFIG_SCHEMA = {
  type: "object",
  properties: {
    type: { enum: ["quality", "metric"], description: "What to record: quality = the CSAT survey (quality_answer, quality_comment); metric = a further question (NPS, CES, yes/no)." },
    name: { type: "string", pattern: METRIC_NAME.source, description: "metric: its name in the figures (nps, ces, resolved)." },
    scale: { enum: Object.keys(METRIC_SCALES), description: "metric: nps_0_10, ces_1_7, yes_no (1 yes, 0 no) or csat_1_5." },
    variable: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]{0,63}$", description: "metric: the variable holding the answer (default the metric's name)." },
  },
  required: ["type"],
  additionalProperties: false,
  if: { properties: { type: { const: "metric" } } },
  then: { required: ["name", "scale"] },
  else: { propertyNames: { const: "type" } },
} as const;

interface MetricConfig {
  type: "metric";
  name: string;
  scale: MetricScale;
  variable?: string;
}

export function statisticSetAction(queue: SurveyQueue): ActionDefinition {
  return {
    name: "statistic__set",
    description: "Queues the dialogue's CSAT survey (quality_answer, quality_comment) for statistics.",
    configSchema: STATISTIC_SET_CONFIG_SCHEMA,
    async run(config, ctx: ActionContext) {
      const c = config as { type: "quality" } | MetricConfig;
      if (c.type === "metric") return recordMetric(queue, c, ctx);
      const score = toScore(ctx.vars[QUALITY_ANSWER]);
      const rawComment = ctx.vars[QUALITY_COMMENT];
      const comment = rawComment === undefined ? undefined : String(rawComment);
      if (score === undefined && (comment === undefined || comment === "")) return; // neither: the offered flag says it all
      // Object.assign, not `{ ...base, kind }`: adding keys to a spread copy takes V8's slow path
      // (about 1 µs on Node 20; see bench/engine-throughput.ts). Same keys in the same order.
      const rest = score !== undefined ? { kind: "completed" as const, score, comment: comment ?? "" } : { kind: "completed" as const, comment: comment ?? "" };
      const event = Object.assign(surveyEventBase(ctx), rest);
      if (ctx.cleanedVars?.includes(QUALITY_COMMENT) && comment) event.commentSanitized = true;
      await recordSurveyEvent(queue, event, ctx.batch);
    },
  };
}

async function recordMetric(queue: SurveyQueue, c: MetricConfig, ctx: ActionContext): Promise<void> {
  const variable = c.variable ?? c.name;
  const value = toScore(ctx.vars[variable]);
  if (value === undefined) return; // not answered
  const scale = METRIC_SCALES[c.scale];
  if (value < scale.min || value > scale.max || (scale.integer && !Number.isInteger(value))) {
    throw new ActionError("statistic__set", `metric ${c.name}: ${variable} = ${value} is not on the ${c.scale} scale (whole numbers ${scale.min}–${scale.max}); give the question's buttons those values`, false);
  }
  await recordSurveyEvent(queue, Object.assign(surveyEventBase(ctx), { kind: "metric" as const, metric: { name: c.name, scale: c.scale, value } }), ctx.batch);
}
