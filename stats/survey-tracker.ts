/**
 * Turns the runtime's track events into survey events: a rating keyboard is one whose
 * `save_to` is quality_answer, a comment prompt one whose `save_to` is quality_comment.
 */
import type { ActionContext, Tracker } from "../engine/ports.ts";
import type { TrackEvent } from "../engine/types.ts";
import { QUALITY_ANSWER, QUALITY_COMMENT, toScore, type SurveyEvent, type SurveyQueue } from "./events.ts";

export function surveyEventBase(ctx: Omit<ActionContext, "blockId">): Omit<SurveyEvent, "kind"> {
  return {
    surveyId: ctx.surveyId,
    scenarioId: ctx.scenarioId,
    scenarioVersion: ctx.scenarioVersion,
    channel: ctx.ref.channel,
    botId: ctx.ref.botId ?? "",
    conversationId: ctx.ref.conversationId,
    dialogueStartedAt: ctx.dialogueStartedAt,
    at: ctx.at,
  };
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
    case "prompt_offered":
      return event.saveTo === QUALITY_ANSWER ? { ...base, kind: "offered", ...(event.scale ? { scale: event.scale } : {}) } : undefined;
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
