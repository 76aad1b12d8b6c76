/**
 * Survey rules: when a triggered survey is sent, skipped or delayed: a scenario's defaults
 * (`survey_rules:` in its YAML, checked at load) merged with each call's `policy` (the call wins
 * field by field, `mergeRules`). Pure: the loader and the trigger API share it.
 * Every decision is recorded with its rule, so the figures can say why a survey was not sent.
 *
 * - once per `key` (always: the trigger store's unique key);
 * - `cooldown: 7d` — at most one survey per recipient in that period (skipped: `cooldown`);
 * - `sample: 0.3` — 30 % of triggers are sent, chosen by a hash of the key (or id) and `seed`,
 *   so the same ticket always gets the same answer (skipped: `sample`);
 * - `expire_after: 48h` — an unanswered survey closes as declined after that long;
 * - `quiet_hours: {from: "21:00", to: "08:00", timezone: "Europe/Kyiv"}` — a send that would fall
 *   inside is delayed to the end of the quiet hours in that zone (the recipient's zone when the
 *   call gives `policy.timezone`), never dropped.
 * `cooldown: 0`, `sample: 1`, `expire_after: 0` and `quiet_hours: null` say "off" (for when
 * scenario defaults exist to turn off).
 *
 * @example
 * const rules = parseSurveyRules(body.policy, "policy");
 * if (!isSampled(rules, key)) skip("sample");
 * const runAt = afterQuietHours(now + delay, rules.quietHours);
 */
import { createHash } from "node:crypto";
import { durationMs } from "./duration.ts";

export interface QuietHours {
  /** Minutes after local midnight the quiet hours start and end; `from > to` spans midnight. */
  from: number;
  to: number;
  timeZone: string;
}

export interface SurveyRules {
  cooldownMs?: number;
  /** Share of triggers sent, 0 to 1. */
  sample?: number;
  seed?: string;
  expireAfterMs?: number;
  /** null: turned off by the call. */
  quietHours?: QuietHours | null;
  /** The recipient's time zone (the call's `policy.timezone`): quiet hours are read in it. */
  timeZone?: string;
}

const RULE_FIELDS = new Set(["cooldown", "sample", "seed", "expire_after", "quiet_hours", "timezone"]);
const CLOCK = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

type Parsed = { ok: true; rules: SurveyRules } | { ok: false; field: string; message: string };

/** Reads rules as YAML or JSON give them (`cooldown: 7d`); `at` prefixes the field in messages. */
export function parseSurveyRules(value: unknown, at: string): Parsed {
  const bad = (field: string, message: string): Parsed => ({ ok: false, field: `${at}.${field}`, message });
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, field: at, message: "survey rules are an object such as {cooldown: 7d, sample: 0.3}" };
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!RULE_FIELDS.has(k)) return bad(k, `unknown rule "${k}": use ${[...RULE_FIELDS].join(", ")}`);
  const rules: SurveyRules = {};
  if (v.cooldown !== undefined) {
    const ms = parseDuration(v.cooldown);
    if (ms === undefined) return bad("cooldown", "give a period such as 7d or 12h (0 turns it off)");
    rules.cooldownMs = ms;
  }
  if (v.sample !== undefined) {
    if (typeof v.sample !== "number" || !(v.sample >= 0 && v.sample <= 1)) return bad("sample", "give the share of triggers to send, from 0 to 1 (0.3 is 30 %)");
    rules.sample = v.sample;
  }
  if (v.seed !== undefined) {
    if (typeof v.seed !== "string" || v.seed.length > 100) return bad("seed", "the sampling seed is a string of at most 100 characters");
    rules.seed = v.seed;
  }
  if (v.expire_after !== undefined) {
    const ms = parseDuration(v.expire_after);
    if (ms === undefined) return bad("expire_after", "give a period such as 48h (0 turns it off)");
    rules.expireAfterMs = ms;
  }
  if (v.timezone !== undefined) {
    if (typeof v.timezone !== "string" || !isTimeZone(v.timezone)) return bad("timezone", "give an IANA time zone such as Europe/Kyiv");
    rules.timeZone = v.timezone;
  }
  if (v.quiet_hours === null) rules.quietHours = null;
  else if (v.quiet_hours !== undefined) {
    const q = v.quiet_hours as Record<string, unknown>;
    if (typeof q !== "object" || Array.isArray(q)) return bad("quiet_hours", 'give {from: "21:00", to: "08:00", timezone: "Europe/Kyiv"}, or null to turn them off');
    const from = typeof q.from === "string" ? CLOCK.exec(q.from) : null;
    const to = typeof q.to === "string" ? CLOCK.exec(q.to) : null;
    if (!from) return bad("quiet_hours.from", "give a local time as HH:MM, such as 21:00");
    if (!to) return bad("quiet_hours.to", "give a local time as HH:MM, such as 08:00");
    const zone = q.timezone ?? "UTC";
    if (typeof zone !== "string" || !isTimeZone(zone)) return bad("quiet_hours.timezone", "give an IANA time zone such as Europe/Kyiv");
    const minutes = (m: RegExpExecArray) => Number(m[1]) * 60 + Number(m[2]);
    if (minutes(from) === minutes(to)) return bad("quiet_hours", "from and to are the same time: there are no quiet hours");
    rules.quietHours = { from: minutes(from), to: minutes(to), timeZone: zone };
  }
  return { ok: true, rules };
}

/** The scenario's defaults with the call's rules over them, field by field (a call's null quiet hours turn the defaults off). */
export function mergeRules(defaults: SurveyRules | undefined, call: SurveyRules): SurveyRules {
  return defaults ? { ...defaults, ...call } : call;
}

/** Whether the trigger identified by `id` (its key, else its id) is in the sample. */
export function isSampled(rules: SurveyRules, id: string): boolean {
  const rate = rules.sample ?? 1;
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  const h = createHash("sha256").update(`${rules.seed ?? ""}\u0000${id}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < rate;
}

/** `at`, or the end of the quiet hours when `at` falls inside them (in the recipient's zone when given). */
export function afterQuietHours(at: number, rules: SurveyRules): number {
  const q = rules.quietHours;
  if (!q) return at;
  const zone = rules.timeZone ?? q.timeZone;
  const local = localMinute(at, zone);
  if (!inside(local.minute, q)) return at;
  let t = at + ((q.to - local.minute + 1440) % 1440) * 60_000 - local.msIntoMinute;
  // A daylight-saving change inside the wait moves the local end by an hour: land on it again.
  for (let i = 0; i < 3; i++) {
    const off = ((q.to - localMinute(t, zone).minute + 720 + 1440) % 1440) - 720;
    if (off === 0) break;
    t += off * 60_000;
  }
  return t;
}

/** Parses `90s`, `30m`, `24h`, `7d` or seconds as a number; undefined when it is not one. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== "string") return undefined;
  try {
    return durationMs(value);
  } catch {
    return undefined;
  }
}

function inside(minute: number, q: QuietHours): boolean {
  return q.from < q.to ? minute >= q.from && minute < q.to : minute >= q.from || minute < q.to;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function localMinute(at: number, zone: string): { minute: number; msIntoMinute: number } {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formats.set(zone, f);
  }
  const parts = f.formatToParts(new Date(at));
  const hour = Number(parts.find((p) => p.type === "hour")?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === "minute")?.value ?? 0);
  return { minute: hour * 60 + minute, msIntoMinute: at % 60_000 };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
