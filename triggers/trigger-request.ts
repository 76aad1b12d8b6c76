/**
 * What a caller asks of the trigger API (`POST /api/dialogues`, `botflow trigger`): checked field
 * by field, so a bad request is answered 400 naming the field and nothing is recorded.
 *
 * @example
 * const r = parseTriggerRequest({ channel: "telegram", to: "42", scenario: "csat", variables: { agent: "olena" }, key: "T-1234", delay: "24h" });
 * if (!r.ok) reply.code(400).send({ error: "bad_request", field: r.field, message: r.message });
 */
import { isScenarioId, SCENARIO_ID_RULE } from "../engine/schema/scenario-schema.ts";
import { isVariableName, MAX_START_VARIABLE_LENGTH, MAX_START_VARIABLES } from "../engine/start-variables.ts";
import type { VarValue } from "../engine/types.ts";
import { parseDuration, parseSurveyRules, type SurveyRules } from "../engine/survey-rules.ts";

/** At most this many variables per trigger, each value at most MAX_VALUE_LENGTH characters: the runtime's own bounds. */
export const MAX_VARIABLES = MAX_START_VARIABLES;
export const MAX_VALUE_LENGTH = MAX_START_VARIABLE_LENGTH;
/** An idempotency key, a recipient: short strings. */
export const MAX_KEY_LENGTH = 200;
export const MAX_RECIPIENT_LENGTH = 256;
/** A trigger may be scheduled at most a year ahead. */
export const MAX_DELAY_MS = 366 * 86_400_000;

const LOCALE = /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}$/;
const KNOWN_FIELDS = new Set(["channel", "to", "scenario", "variables", "locale", "key", "delay", "at", "policy", "options"]);

/** A checked trigger request. */
export interface TriggerRequest {
  channel: string;
  to: string;
  scenario: string;
  variables: Record<string, VarValue>;
  locale?: string;
  /** The idempotency key: one dialogue per key, ever. */
  key?: string;
  /** Wait this long before sending (from `delay`), or send at `at` (epoch ms); neither: now. */
  delayMs?: number;
  at?: number;
  /** The call's overrides of the scenario's survey rules. */
  policy: SurveyRules;
  /** The channel's own options (a WhatsApp Cloud template); the channel checks them. */
  options?: Record<string, unknown>;
}

export type ParsedTrigger = { ok: true; request: TriggerRequest } | { ok: false; field: string; message: string };

/** Checks a JSON body; `now` bounds an absolute `at`. */
export function parseTriggerRequest(body: unknown, now: number): ParsedTrigger {
  if (!isRecord(body)) return bad("body", "send a JSON object such as {\"channel\": \"telegram\", \"to\": \"42\", \"scenario\": \"csat\"}");
  for (const field of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(field)) return bad(field, `unknown field "${field}": use ${[...KNOWN_FIELDS].join(", ")}`);
  }
  const { channel, to, scenario, variables, locale, key, delay, at, policy, options } = body;
  if (typeof channel !== "string" || channel === "") return bad("channel", "name the channel to send on (telegram, teams, whatsapp-cloud, whatsapp, webchat)");
  if (typeof to !== "string" && typeof to !== "number") return bad("to", "give the recipient: a chat id, a wa_id, a Teams conversation id or a web chat visitor id");
  const recipient = String(to).trim();
  if (recipient === "" || recipient.length > MAX_RECIPIENT_LENGTH) return bad("to", `the recipient must be 1 to ${MAX_RECIPIENT_LENGTH} characters`);
  if (typeof scenario !== "string" || !isScenarioId(scenario)) return bad("scenario", `give the scenario id to run (${SCENARIO_ID_RULE})`);

  const vars = parseVariables(variables);
  if (!vars.ok) return vars;
  const request: TriggerRequest = { channel, to: recipient, scenario, variables: vars.variables, policy: {} };

  if (locale !== undefined) {
    if (typeof locale !== "string" || !LOCALE.test(locale)) return bad("locale", "give a language tag such as en, uk or pt-BR");
    request.locale = locale;
  }
  if (key !== undefined) {
    if (typeof key !== "string" || key === "" || key.length > MAX_KEY_LENGTH) return bad("key", `the idempotency key must be a string of 1 to ${MAX_KEY_LENGTH} characters (a ticket id)`);
    request.key = key;
  }
  if (delay !== undefined && at !== undefined) return bad("delay", "give either delay or at, not both");
  if (delay !== undefined) {
    const ms = parseDuration(delay);
    if (ms === undefined || ms > MAX_DELAY_MS) return bad("delay", "give a delay such as 90s, 30m, 24h or 7d (seconds as a number), at most 366 days");
    request.delayMs = ms;
  }
  if (at !== undefined) {
    const t = typeof at === "string" ? Date.parse(at) : Number.NaN;
    if (!Number.isFinite(t) || !/T/.test(String(at))) return bad("at", "give an ISO time with its offset, such as 2026-12-03T09:00:00+02:00");
    if (t > now + MAX_DELAY_MS) return bad("at", "a trigger may be scheduled at most 366 days ahead");
    request.at = t;
  }
  if (policy !== undefined) {
    const rules = parseSurveyRules(policy, "policy");
    if (!rules.ok) return rules;
    request.policy = rules.rules;
  }
  if (options !== undefined) {
    if (!isRecord(options)) return bad("options", "channel options must be an object, such as {\"template\": {\"name\": \"csat\", \"language\": \"en\"}}");
    if (JSON.stringify(options).length > 8192) return bad("options", "channel options are limited to 8 KB");
    request.options = options;
  }
  return { ok: true, request };
}

function parseVariables(value: unknown): { ok: true; variables: Record<string, VarValue> } | { ok: false; field: string; message: string } {
  if (value === undefined) return { ok: true, variables: {} };
  if (!isRecord(value)) return bad("variables", "variables must be an object of names to strings or numbers");
  const entries = Object.entries(value);
  if (entries.length > MAX_VARIABLES) return bad("variables", `at most ${MAX_VARIABLES} variables`);
  const variables: Record<string, VarValue> = {};
  for (const [name, v] of entries) {
    const field = `variables.${name}`;
    if (!isVariableName(name)) return bad(field, "a variable name is letters, digits and _, starting with a letter or _, at most 64 characters");
    if (typeof v === "number") {
      if (!Number.isFinite(v)) return bad(field, "a number must be finite");
      variables[name] = v;
    } else if (typeof v === "string") {
      if (v.length > MAX_VALUE_LENGTH) return bad(field, `a value is at most ${MAX_VALUE_LENGTH} characters`);
      variables[name] = v;
    } else if (typeof v === "boolean") {
      variables[name] = String(v);
    } else {
      return bad(field, "a value must be a string, a number or a boolean");
    }
  }
  return { ok: true, variables };
}

function bad(field: string, message: string): { ok: false; field: string; message: string } {
  return { ok: false, field, message };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
