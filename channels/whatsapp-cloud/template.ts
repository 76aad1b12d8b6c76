/**
 * WhatsApp message templates: what botflow sends instead of the interactive question when the
 * 24-hour customer-service window is closed (service-window.ts). A template is approved in
 * WhatsApp Manager with its body and buttons fixed; botflow fills its body parameters and gives
 * each quick-reply button the payload of the question's button at the same position, so a tap
 * comes back (a `button` message) as the same `choice` an interactive reply would be.
 *
 * A template spec, from the trigger's `options.template` or WHATSAPP_CLOUD_TEMPLATE*:
 *
 *   { "name": "csat_request", "language": "en_US", "parameters": ["{{name}}", "{{question}}"] }
 *
 * - `name`: the template's name in WhatsApp Manager (lowercase letters, digits, `_`);
 * - `language`: the language code it was approved in (`en`, `en_US`, `pt_BR`);
 * - `parameters` (optional): the body's `{{1}}`, `{{2}}`… in order as a list, or, for a template
 *   with named parameters, `{ "customer": "{{name}}" }`. Each value is text in which `{{variable}}`
 *   is replaced by the trigger's variable and `{{question}}` by the question's text.
 *
 * The template must have one quick-reply button per button of the question, in the same order
 * (the csat scenario: 1, 2, 3, 4, 5, Skip); WhatsApp allows at most 10.
 */
import type { OutButton, VarValue } from "../../engine/types.ts";
import type { GraphMessage } from "./graph-client.ts";
import { replyId } from "./render.ts";

export interface TemplateSpec {
  name: string;
  language: string;
  /** Positional ({{1}}…) as a list, named as an object; values may hold `{{variable}}`. */
  parameters: readonly string[] | Readonly<Record<string, string>>;
}

/** Quick-reply buttons a template may have. */
export const MAX_TEMPLATE_QUICK_REPLIES = 10;
/** Body parameters botflow fills at most (WhatsApp's body is 1024 characters in all). */
const MAX_PARAMETERS = 20;
const MAX_PARAMETER_LENGTH = 1024;

const NAME = /^[a-z0-9_]{1,512}$/;
const LANGUAGE = /^[a-z]{2,3}(_[A-Za-z]{2,4})?$/;
const PARAMETER_NAME = /^[a-z0-9_]{1,64}$/;
const KEYS = new Set(["name", "language", "parameters"]);

export type TemplateParse = { ok: true; template: TemplateSpec } | { ok: false; reason: string };

/**
 * A template spec from untrusted JSON; the reason names the field (`field` is where it came from,
 * `options.template` or WHATSAPP_CLOUD_TEMPLATE_PARAMETERS) and says what a valid one looks like.
 */
export function parseTemplate(value: unknown, field: string): TemplateParse {
  const bad = (reason: string): TemplateParse => ({ ok: false, reason });
  if (!isObject(value)) return bad(`${field} must be an object like {"name": "csat_request", "language": "en_US", "parameters": ["{{question}}"]}`);
  const unknown = Object.keys(value).filter((k) => !KEYS.has(k));
  if (unknown.length > 0) return bad(`${field} has unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; it takes name, language and parameters`);
  if (typeof value.name !== "string" || !NAME.test(value.name)) return bad(`${field}.name must be the template's name in WhatsApp Manager (lowercase letters, digits and _, e.g. csat_request)`);
  if (typeof value.language !== "string" || !LANGUAGE.test(value.language)) return bad(`${field}.language must be the language code the template was approved in (e.g. en, en_US, pt_BR)`);
  const parameters = parseParameters(value.parameters, `${field}.parameters`);
  if (typeof parameters === "string") return bad(parameters);
  return { ok: true, template: { name: value.name, language: value.language, parameters } };
}

function parseParameters(value: unknown, field: string): TemplateSpec["parameters"] | string {
  if (value === undefined) return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [`${field}[${i}]`, v] as const) : isObject(value) ? Object.entries(value).map(([k, v]) => [`${field}.${k}`, v] as const) : undefined;
  if (!entries) return `${field} must be a list of texts for the body's {{1}}, {{2}}… or an object of named parameters, e.g. ["{{name}}", "{{question}}"]`;
  if (entries.length > MAX_PARAMETERS) return `${field} has ${entries.length} parameters; at most ${MAX_PARAMETERS}`;
  if (isObject(value)) {
    const badName = Object.keys(value).find((k) => !PARAMETER_NAME.test(k));
    if (badName !== undefined) return `${field}: ${JSON.stringify(badName.slice(0, 40))} is not a template parameter name (lowercase letters, digits and _)`;
  }
  for (const [where, v] of entries) {
    if (typeof v !== "string" || v.trim() === "") return `${where} must be a non-empty text (literal, or with {{variable}} / {{question}})`;
    if (v.length > MAX_PARAMETER_LENGTH) return `${where} is longer than ${MAX_PARAMETER_LENGTH} characters`;
  }
  return Array.isArray(value) ? (value as string[]) : (value as Record<string, string>);
}

/** What fills a template: the question (its text and buttons) and the trigger's variables. */
export interface TemplateFill {
  /** The question's text (`{{question}}`). */
  question: string;
  promptId?: string;
  buttons: readonly OutButton[];
  variables: Readonly<Record<string, VarValue>>;
}

export type TemplateRender = { ok: true; message: GraphMessage } | { ok: false; reason: string };

const VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The Graph API `template` message for `to`, or why it cannot be filled (a variable missing, too many buttons). */
export function renderTemplate(to: string, spec: TemplateSpec, fill: TemplateFill): TemplateRender {
  if (fill.buttons.length > MAX_TEMPLATE_QUICK_REPLIES) {
    return { ok: false, reason: `the question has ${fill.buttons.length} buttons and a template has at most ${MAX_TEMPLATE_QUICK_REPLIES} quick replies: shorten the question's buttons` };
  }
  const vars: Record<string, VarValue> = { ...fill.variables, question: fill.question };
  const named = !Array.isArray(spec.parameters);
  const entries = named ? Object.entries(spec.parameters) : (spec.parameters as readonly string[]).map((v, i) => [String(i + 1), v] as const);
  const parameters: Record<string, string>[] = [];
  for (const [key, raw] of entries) {
    const missing = [...raw.matchAll(VAR)].map((m) => m[1] as string).filter((n) => !Object.hasOwn(vars, n));
    if (missing.length > 0) {
      return { ok: false, reason: `template ${spec.name} parameter ${named ? key : `{{${key}}}`} uses ${missing.map((n) => `{{${n}}}`).join(", ")}, which the trigger's variables do not have: pass ${missing.length > 1 ? "them" : "it"} in the trigger's variables` };
    }
    const text = parameterText(raw.replace(VAR, (_, n: string) => String(vars[n])));
    if (text === "") return { ok: false, reason: `template ${spec.name} parameter ${named ? key : `{{${key}}}`} is empty once filled; WhatsApp refuses empty parameters` };
    parameters.push(named ? { type: "text", parameter_name: key, text } : { type: "text", text });
  }
  const components: Record<string, unknown>[] = [];
  if (parameters.length > 0) components.push({ type: "body", parameters });
  const promptId = fill.promptId;
  if (promptId !== undefined) {
    fill.buttons.forEach((b, position) => {
      components.push({ type: "button", sub_type: "quick_reply", index: String(position), parameters: [{ type: "payload", payload: replyId(promptId, b.index) }] });
    });
  }
  return {
    ok: true,
    message: {
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to,
      type: "template",
      template: { name: spec.name, language: { code: spec.language }, ...(components.length > 0 ? { components } : {}) },
    },
  };
}

/** WhatsApp refuses parameters with new lines, tabs or more than 4 spaces in a row (132018). */
function parameterText(s: string): string {
  const flat = s.replace(/[\r\n\t]+/g, " ").replace(/ {2,}/g, " ").trim();
  const chars = [...flat];
  return chars.length <= MAX_PARAMETER_LENGTH ? flat : `${chars.slice(0, MAX_PARAMETER_LENGTH - 1).join("")}…`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
