/**
 * The pure fold behind `SurveyStore.apply`: a survey's stored state is the set of events
 * applied to it (at most one per kind: the first one wins), and every derived column is a
 * function of that set. So the order in which events arrive never changes the result, and
 * an event applied twice is recognised by its kind already being in the set.
 *
 * The reference product's display rules are applied here:
 * - a rating without a comment is recorded with an empty comment;
 * - a comment without a rating is recorded as a comment only (no score);
 * - neither: nothing but the offered flag.
 */
import { SURVEY_EVENT_KINDS, type SurveyEvent, type SurveyEventKind } from "../events.ts";
import type { RollupCounters } from "../figures.ts";

/** What the store keeps of one event (the survey's dimensions live in their own columns). */
export interface StoredEvent {
  at: number;
  score?: number;
  scale?: { min: number; max: number };
  comment?: string;
  /** The comment had to be cleaned to be stored (SurveyEvent.commentSanitized). */
  sanitized?: true;
  reason?: string;
  /**
   * The comment was removed by retention or erasure (stats/store/erase-surveys.ts). It still
   * counts as a comment in the rollups, so a later event re-deriving the row moves nothing.
   */
  erased?: true;
}

export type StoredEvents = Partial<Record<SurveyEventKind, StoredEvent>>;

/** The derived columns of one survey row. */
export interface SurveyDerived {
  offered: boolean;
  /** A rating was given (answered, or completed with a score). */
  accepted: boolean;
  /** The rating was declined (skip, timeout, invalid) and never given. */
  denied: boolean;
  deniedReason: string | null;
  /** statistic__set recorded the survey: this is what "surveys" counts. */
  completed: boolean;
  score: number | null;
  /** "min-max" of the rating keyboard, "" when no event said. */
  scale: string;
  comment: string | null;
  /** The comment shown is not byte for byte what the client sent: it had to be cleaned to be stored. */
  commentSanitized: boolean;
  /** A comment was given but its text was erased (retention or a person's erasure): `comment` is null. */
  commentErased: boolean;
  offeredAt: number | null;
  answeredAt: number | null;
  declinedAt: number | null;
  completedAt: number | null;
}

/**
 * What one survey adds to the rollups. Every survey adds exactly one rollup row per
 * grouping, so moving it between (scale, score) keys is a -1 on the old key and +1 on the new.
 */
export interface Contribution extends RollupCounters {
  /** Scale of the rating counted in the figures; "" when the survey is not rated. */
  scale: string;
  /** The rating counted in the figures (completed with a score); null otherwise. */
  score: number | null;
}

/** Keeps what the fold needs of an event: no ids (they are columns), no unknown fields. */
export function storedEvent(e: SurveyEvent): StoredEvent {
  const s: StoredEvent = { at: e.at };
  if (typeof e.score === "number" && Number.isFinite(e.score)) s.score = e.score;
  if (e.scale && Number.isFinite(e.scale.min) && Number.isFinite(e.scale.max)) s.scale = { min: e.scale.min, max: e.scale.max };
  if (typeof e.comment === "string") s.comment = e.comment;
  if (e.commentSanitized === true && typeof e.comment === "string") s.sanitized = true;
  if (typeof e.reason === "string") s.reason = e.reason;
  return s;
}

/**
 * Adds events to a survey's event set. Kinds already present are left alone (first wins),
 * which is what makes re-applying an event a no-op. Returns the new set, or undefined when
 * nothing changed.
 */
export function mergeEvents(current: StoredEvents, events: readonly SurveyEvent[]): StoredEvents | undefined {
  let next: StoredEvents | undefined;
  for (const e of events) {
    // A further metric's answer is recorded apart (survey_metric), never in the survey's fold.
    if (e.kind === "metric" || (next ?? current)[e.kind] !== undefined) continue;
    next ??= { ...current };
    next[e.kind] = storedEvent(e);
  }
  return next;
}

function scaleKey(scale: { min: number; max: number } | undefined): string {
  return scale ? `${scale.min}-${scale.max}` : "";
}

/** Derives the survey's columns from its event set; independent of arrival order. */
export function deriveSurvey(ev: StoredEvents): SurveyDerived {
  const completed = ev.completed;
  const score = completed?.score ?? ev.answered?.score ?? null;
  const accepted = ev.answered !== undefined || completed?.score !== undefined;
  const denied = ev.declined !== undefined && !accepted;
  const offered = ev.offered !== undefined || accepted || ev.declined !== undefined;
  let comment: string | null;
  let commentSanitized = false;
  let commentErased = false;
  if (completed) {
    commentErased = completed.erased === true;
    comment = commentErased ? null : (completed.comment ?? (score !== null ? "" : null));
    commentSanitized = completed.comment !== undefined && completed.sanitized === true;
  } else if (ev.commented?.erased === true) {
    commentErased = true;
    comment = null;
  } else if (ev.commented?.comment !== undefined && ev.commented.comment !== "") {
    comment = ev.commented.comment;
    commentSanitized = ev.commented.sanitized === true;
  } else comment = score !== null ? "" : null;
  return {
    offered,
    accepted,
    denied,
    deniedReason: denied ? (ev.declined?.reason ?? "skipped") : null,
    completed: completed !== undefined,
    score,
    // The keyboard that was offered defines the scale; later events only fill a gap.
    scale: scaleKey(ev.offered?.scale ?? ev.answered?.scale ?? completed?.scale),
    comment,
    commentSanitized,
    commentErased,
    offeredAt: ev.offered?.at ?? null,
    answeredAt: ev.answered?.at ?? (completed?.score !== undefined ? completed.at : null),
    declinedAt: ev.declined?.at ?? null,
    completedAt: completed?.at ?? null,
  };
}

/** The rollup contribution of a survey row; all zeros for a row that has no event yet. */
export function contributionOf(ev: StoredEvents): Contribution {
  if (SURVEY_EVENT_KINDS.every((k) => ev[k] === undefined)) {
    return { scale: "", score: null, dialogues: 0, offered: 0, answered: 0, declined: 0, surveys: 0, commented: 0 };
  }
  const d = deriveSurvey(ev);
  const rated = d.completed && d.score !== null;
  return {
    scale: rated ? d.scale : "",
    score: rated ? d.score : null,
    dialogues: 1,
    offered: d.offered ? 1 : 0,
    answered: d.accepted ? 1 : 0,
    declined: d.denied ? 1 : 0,
    surveys: d.completed ? 1 : 0,
    commented: d.completed && ((d.comment !== null && d.comment !== "") || d.commentErased) ? 1 : 0,
  };
}
