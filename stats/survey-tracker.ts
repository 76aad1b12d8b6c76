/**
 * Turns the runtime's track events into survey events: a rating keyboard is one whose
 * `save_to` is quality_answer, a comment prompt one whose `save_to` is quality_comment.
 */
import type { ActionContext, Tracker } from "../engine/ports.ts";
import type { TrackEvent } from "../engine/types.ts";
import { QUALITY_ANSWER, QUALITY_COMMENT, toScore, type SurveyEvent, type SurveyQueue } from "./events.ts";

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

  async track(event: TrackEvent, ctx: Omit<ActionContext, "blockId">): Promise<void> {
    const e = toSurveyEvent(event, ctx);
    if (e) await this.queue.add(e);
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
      return undefined;
    default:
      return undefined;
  }
}
