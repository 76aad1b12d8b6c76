/**
 * Checks a job's payload before the worker stores it. Jobs cross process and version
 * boundaries (an old web process, a hand-made replay), so the worker trusts nothing:
 * a payload that is not a survey event can never succeed and goes to the dead letter
 * without retries.
 */
import { BotflowError } from "../../engine/errors.ts";
import { isVariableName, MAX_START_VARIABLE_LENGTH, MAX_START_VARIABLES } from "../../engine/start-variables.ts";
import { cleanSurveyEvent } from "../clean-survey-event.ts";
import { MAX_DIMENSION_VALUE, MAX_LIST_ITEMS } from "../../engine/survey-dimensions.ts";
import { METRIC_NAME, METRIC_SCALES, SURVEY_EVENT_KINDS, type MetricAnswer, type MetricScale, type SurveyContext, type SurveyDimensions, type SurveyEvent, type SurveyEventKindOrMetric } from "../events.ts";

/** Dimensions one event may carry (a scenario declares at most 20). */
const MAX_DIMENSIONS = 20;

/** A job payload that is not a survey event; retrying cannot fix it. */
export class MalformedSurveyEventError extends BotflowError {
  constructor(readonly problem: string) {
    super("SURVEY_EVENT_MALFORMED", `survey event rejected: ${problem}; it was moved to the dead-letter queue (fix the producer, then replay it)`);
  }
}

/** Ids become parts of BullMQ job ids and database keys: keep them short and printable. */
/** A survey or trigger id on an event: 1–200 of A-Z a-z 0-9 _ . @ + - (the stats API's `trigger` filter takes the same). */
export const EVENT_ID = /^[\w.@+-]{1,200}$/;
const KINDS: ReadonlySet<string> = new Set([...SURVEY_EVENT_KINDS, "metric"]);

/** Returns the payload as a SurveyEvent, or throws MalformedSurveyEventError saying which field is wrong. */
export function parseSurveyEvent(data: unknown): SurveyEvent {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new MalformedSurveyEventError("payload is not an object");
  const d = data as Record<string, unknown>;
  const kind = d.kind;
  if (typeof kind !== "string" || !KINDS.has(kind)) throw new MalformedSurveyEventError(`unknown kind ${JSON.stringify(kind)}`);
  if (typeof d.surveyId !== "string" || !EVENT_ID.test(d.surveyId)) throw new MalformedSurveyEventError("surveyId must be 1–200 characters of [A-Za-z0-9_.@+-]");
  const text = (key: string, max = 500): string => {
    const v = d[key];
    if (typeof v !== "string" || v.length > max) throw new MalformedSurveyEventError(`${key} must be a string of at most ${max} characters`);
    return v;
  };
  const time = (key: string): number => {
    const v = d[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new MalformedSurveyEventError(`${key} must be epoch milliseconds`);
    return v;
  };
  const event: SurveyEvent = {
    kind: kind as SurveyEventKindOrMetric,
    surveyId: d.surveyId,
    scenarioId: text("scenarioId", 200),
    scenarioVersion: text("scenarioVersion", 200),
    channel: text("channel", 100),
    botId: text("botId", 200),
    conversationId: text("conversationId"),
    dialogueStartedAt: time("dialogueStartedAt"),
    at: time("at"),
  };
  if (d.score !== undefined) {
    if (typeof d.score !== "number" || !Number.isFinite(d.score)) throw new MalformedSurveyEventError("score must be a finite number");
    event.score = d.score;
  }
  if (d.scale !== undefined) {
    const s = d.scale as { min?: unknown; max?: unknown } | null;
    if (typeof s !== "object" || s === null || typeof s.min !== "number" || typeof s.max !== "number" || !(s.min <= s.max)) {
      throw new MalformedSurveyEventError("scale must be { min, max } with min <= max");
    }
    event.scale = { min: s.min, max: s.max };
  }
  if (d.comment !== undefined) {
    if (typeof d.comment !== "string") throw new MalformedSurveyEventError("comment must be a string");
    event.comment = d.comment;
  }
  if (d.commentSanitized !== undefined) {
    if (typeof d.commentSanitized !== "boolean") throw new MalformedSurveyEventError("commentSanitized must be a boolean");
    if (d.commentSanitized) event.commentSanitized = true;
  }
  if (d.reason !== undefined) event.reason = text("reason", 50);
  if (d.context !== undefined) {
    const context = parseContext(d.context);
    if (context) event.context = context;
  }
  if (d.triggerId !== undefined) {
    if (typeof d.triggerId !== "string" || !EVENT_ID.test(d.triggerId)) throw new MalformedSurveyEventError("triggerId must be 1–200 characters of [A-Za-z0-9_.@+-]");
    event.triggerId = d.triggerId;
  }
  if (d.dimensions !== undefined) {
    const dims = parseDimensions(d.dimensions, d.rolledUp);
    if (dims) {
      event.dimensions = dims.values;
      event.rolledUp = dims.rolledUp;
    }
  } else if (d.rolledUp !== undefined) throw new MalformedSurveyEventError("rolledUp needs dimensions");
  if (d.metric !== undefined || kind === "metric") {
    if (kind !== "metric") throw new MalformedSurveyEventError("only a metric event carries a metric");
    event.metric = parseMetric(d.metric);
  }
  if (kind === "answered" && event.score === undefined) throw new MalformedSurveyEventError("an answered event needs a score");
  // Text the database cannot hold is cleaned, not refused: this is also what recovers jobs that
  // were dead-lettered for it before botflow cleaned text where it enters (replay-dead).
  return cleanSurveyEvent(event);
}

/**
 * The start context as the trigger API bounds it (engine/start-variables.ts): a plain object of at
 * most MAX_START_VARIABLES variable names, each a string of at most MAX_START_VARIABLE_LENGTH, a
 * finite number or a boolean. Undefined when empty. Problems name the key, never its value.
 */
function parseContext(raw: unknown): SurveyContext | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MalformedSurveyEventError("context must be an object of start variables");
  const proto: unknown = Object.getPrototypeOf(raw);
  if (proto !== Object.prototype && proto !== null) throw new MalformedSurveyEventError("context must be a plain object of start variables");
  const names = Object.keys(raw);
  if (names.length > MAX_START_VARIABLES) throw new MalformedSurveyEventError(`context has ${names.length} keys; at most ${MAX_START_VARIABLES} are allowed`);
  if (names.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const name of names) {
    if (!isVariableName(name)) throw new MalformedSurveyEventError(`context key ${JSON.stringify(name.slice(0, 64))} is not a variable name ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)`);
    const v: unknown = (raw as Record<string, unknown>)[name];
    if (!isContextValue(v)) {
      throw new MalformedSurveyEventError(
        `context.${name} must be a string of at most ${MAX_START_VARIABLE_LENGTH} characters, a finite number or a boolean (got ${describe(v)})`,
      );
    }
    // "__proto__" is a variable name like any other: an own key, never the prototype.
    if (name === "__proto__") Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
    else out[name] = v;
  }
  return out;
}

/**
 * Dimensions as the engine freezes them (engine/survey-dimensions.ts): at most MAX_DIMENSIONS
 * variable names, each a string of at most MAX_DIMENSION_VALUE characters or a list of at most
 * MAX_LIST_ITEMS such strings; `rolledUp` a list of their names. Problems name the key, never its value.
 */
function parseDimensions(raw: unknown, rolled: unknown): { values: SurveyDimensions; rolledUp: string[] } | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || (Object.getPrototypeOf(raw) !== Object.prototype && Object.getPrototypeOf(raw) !== null)) {
    throw new MalformedSurveyEventError("dimensions must be a plain object of variable names");
  }
  const names = Object.keys(raw);
  if (names.length > MAX_DIMENSIONS) throw new MalformedSurveyEventError(`dimensions has ${names.length} keys; at most ${MAX_DIMENSIONS} are allowed`);
  const values: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  const item = (v: unknown) => typeof v === "string" && v !== "" && v.length <= MAX_DIMENSION_VALUE;
  for (const name of names) {
    if (!isVariableName(name)) throw new MalformedSurveyEventError(`dimensions key ${JSON.stringify(name.slice(0, 64))} is not a variable name`);
    const v: unknown = (raw as Record<string, unknown>)[name];
    if (Array.isArray(v) ? v.length === 0 || v.length > MAX_LIST_ITEMS || !v.every(item) : !item(v)) {
      throw new MalformedSurveyEventError(`dimensions.${name} must be a non-empty string of at most ${MAX_DIMENSION_VALUE} characters, or a list of 1–${MAX_LIST_ITEMS} of them (got ${describe(v)})`);
    }
    values[name] = Array.isArray(v) ? [...(v as string[])] : (v as string);
  }
  const rolledUp = rolled === undefined ? [] : rolled;
  if (!Array.isArray(rolledUp) || !rolledUp.every((n) => typeof n === "string" && Object.hasOwn(values, n))) {
    throw new MalformedSurveyEventError("rolledUp must list names of the event's dimensions");
  }
  if (names.length === 0) return undefined;
  return { values: { ...values }, rolledUp: [...new Set(rolledUp as string[])] };
}

/** A metric answer: a known scale, a metric name, a value on the scale (whole numbers). */
function parseMetric(raw: unknown): MetricAnswer {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MalformedSurveyEventError("metric must be { name, scale, value }");
  const m = raw as Record<string, unknown>;
  if (typeof m.name !== "string" || !METRIC_NAME.test(m.name)) throw new MalformedSurveyEventError("metric.name must be 1–40 of a-z 0-9 _, starting with a letter");
  if (typeof m.scale !== "string" || !Object.hasOwn(METRIC_SCALES, m.scale)) throw new MalformedSurveyEventError(`metric.scale must be one of ${Object.keys(METRIC_SCALES).join(", ")}`);
  const scale = METRIC_SCALES[m.scale as MetricScale];
  const v = m.value;
  if (typeof v !== "number" || !Number.isFinite(v) || v < scale.min || v > scale.max || (scale.integer && !Number.isInteger(v))) {
    throw new MalformedSurveyEventError(`metric.value must be a whole number from ${scale.min} to ${scale.max} on the ${m.scale} scale`);
  }
  return { name: m.name, scale: m.scale as MetricScale, value: v };
}

function isContextValue(v: unknown): v is string | number | boolean {
  return typeof v === "string" ? v.length <= MAX_START_VARIABLE_LENGTH : typeof v === "number" ? Number.isFinite(v) : typeof v === "boolean";
}

/** What a refused context value is, without the value (it may be personal data). */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `a string of ${v.length} characters`;
  if (typeof v === "number") return String(v);
  return typeof v === "object" ? "an object" : typeof v;
}

/** Events one batch job may carry at most (a producer's group commit stays well below it). */
export const MAX_BATCH_EVENTS = 1_000;

/** What a job carries, read: the events that parse, and the problem of each that does not (by position). */
export interface SurveyJobPayload {
  events: SurveyEvent[];
  malformed: { index: number; raw: unknown; problem: string }[];
}

/**
 * Reads a job's payload in either shape a queue may hold: one event (every job before batches,
 * and a batch of one) or `{ events: [...] }` (the events of one or more updates). A payload that
 * is neither throws MalformedSurveyEventError; a batch with some malformed events reports them
 * apart, so the others are still stored.
 */
export function parseSurveyJob(data: unknown): SurveyJobPayload {
  const list = typeof data === "object" && data !== null && !Array.isArray(data) ? (data as { events?: unknown }).events : undefined;
  if (list === undefined) return { events: [parseSurveyEvent(data)], malformed: [] };
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_EVENTS) throw new MalformedSurveyEventError(`events must be a list of 1–${MAX_BATCH_EVENTS} survey events`);
  const out: SurveyJobPayload = { events: [], malformed: [] };
  list.forEach((raw: unknown, index) => {
    try {
      out.events.push(parseSurveyEvent(raw));
    } catch (err) {
      if (!(err instanceof MalformedSurveyEventError)) throw err;
      out.malformed.push({ index, raw, problem: err.problem });
    }
  });
  return out;
}
