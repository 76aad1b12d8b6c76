/**
 * Turns the runtime's track events into survey events: a rating keyboard is one whose
 * `save_to` is quality_answer, a comment prompt one whose `save_to` is quality_comment.
 */
import type { ActionContext, Tracker } from "../engine/ports.ts";
import { surveyId } from "../engine/runtime.ts";
import type { InterruptedDialogue, TrackEvent } from "../engine/types.ts";
import { QUALITY_ANSWER, QUALITY_COMMENT, toScore, type SurveyEvent, type SurveyQueue } from "./events.ts";
import { recordSurveyEvent, SurveyEventBatch } from "./queue/survey-event-batch.ts";

/**
 * The fields every survey event of the dialogue shares. Each event carries the start context and
 * the trigger id, so whichever of them creates the survey row records them (the store keeps the
 * first it gets), including surveys that never reach statistic__set (declined, unanswered).
 */
export function surveyEventBase(ctx: Omit<ActionContext, "blockId">): Omit<SurveyEvent, "kind"> {
  const base: Omit<SurveyEvent, "kind"> = {
    surveyId: ctx.surveyId,
    scenarioId: ctx.scenarioId,
    scenarioVersion: ctx.scenarioVersion,
    channel: ctx.ref.channel,
    botId: ctx.ref.botId ?? "",
    conversationId: ctx.ref.conversationId,
    dialogueStartedAt: ctx.dialogueStartedAt,
    at: ctx.at,
  };
  if (ctx.context !== undefined && hasKeys(ctx.context)) base.context = ctx.context;
  if (ctx.triggerId !== undefined) base.triggerId = ctx.triggerId;
  return base;
}

/** Whether `o` has an own enumerable key, without building the key array (this runs per event). */
function hasKeys(o: object): boolean {
  for (const k in o) if (Object.hasOwn(o, k)) return true;
  return false;
}

export class SurveyTracker implements Tracker {
  constructor(private readonly queue: SurveyQueue) {}

  /** Each inbound update's events go to the queue together, once its step is done (engine/runtime.ts). */
  open(): SurveyEventBatch {
    return new SurveyEventBatch(this.queue);
  }

  async track(event: TrackEvent, ctx: Omit<ActionContext, "blockId">): Promise<void> {
    const e = toSurveyEvent(event, ctx);
    if (e) await recordSurveyEvent(this.queue, e, ctx.batch);
  }
}

export function toSurveyEvent(event: TrackEvent, ctx: Omit<ActionContext, "blockId">): SurveyEvent | undefined {
  const base = surveyEventBase(ctx);
  switch (event.type) {
    case "dialogue_started":
      return { ...base, kind: "dialogue_started" };
    case "prompt_offered": {
      if (event.saveTo !== QUALITY_ANSWER) return undefined;
      const offered: SurveyEvent = { ...base, kind: "offered", ...(event.scale ? { scale: event.scale } : {}) };
      if (event.dimensions) {
        offered.dimensions = event.dimensions;
        offered.rolledUp = event.rolledUp ?? [];
      }
      return offered;
    }
    case "prompt_answered": {
      // A rating typed into a wait_for_response arrives as text ("4"); it is still a rating.
      const score = event.saveTo === QUALITY_ANSWER ? toScore(event.value) : undefined;
      if (score !== undefined) return { ...base, kind: "answered", score, ...(event.scale ? { scale: event.scale } : {}) };
      if (event.saveTo === QUALITY_COMMENT && event.value !== undefined && String(event.value) !== "") {
        return { ...base, kind: "commented", comment: String(event.value), ...(event.cleaned ? { commentSanitized: true } : {}) };
      }
      return undefined;
    }
    case "prompt_declined":
      return event.saveTo === QUALITY_ANSWER ? { ...base, kind: "declined", reason: event.reason ?? "skipped" } : undefined;
    case "dialogue_ended":
      return event.interrupted ? interruptedSurvey(event.interrupted, ctx) : undefined;
    default:
      return undefined;
  }
}

/**
 * A dialogue a start interrupted (a "Start over" or /start between the rating and the comment, a
 * new trigger, the scenario changed under it): the rating it was given is recorded as the survey,
 * with the comment typed so far — what statistic__set {type: quality} would have recorded, had
 * the scenario reached it. Otherwise the rating counts as answered in the response rate and is
 * missing from the ratings, and the two figures disagree. Nothing without a rating (a comment
 * alone is kept by its own "commented" event). When statistic__set did run, this is the same
 * survey's "completed" again: one job id, the first one kept (stats/events.ts surveyJobId).
 */
function interruptedSurvey(d: InterruptedDialogue, ctx: Omit<ActionContext, "blockId">): SurveyEvent | undefined {
  const score = toScore(d.vars[QUALITY_ANSWER]);
  if (score === undefined) return undefined;
  const dialogueCtx: Omit<ActionContext, "blockId"> = {
    ...ctx,
    scenarioId: d.scenarioId,
    scenarioVersion: d.scenarioVersion,
    surveyId: surveyId(ctx.ref, d),
    dialogueStartedAt: d.startedAt,
    vars: d.vars,
    context: d.context,
    triggerId: d.triggerId,
  };
  const raw = d.vars[QUALITY_COMMENT];
  const comment = raw === undefined ? "" : String(raw);
  const event: SurveyEvent = { ...surveyEventBase(dialogueCtx), kind: "completed", score, comment };
  if (comment !== "" && d.cleanedVars?.includes(QUALITY_COMMENT)) event.commentSanitized = true;
  return event;
}
