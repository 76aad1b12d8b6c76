/**
 * The `{{…}}` templates of http__request's url, headers and body: `{{name}}` is a saved variable
 * (engine/text.ts `substitute`, so the same names resolve as in every text), `{{env.NAME}}` a
 * secret from the environment, only for the names the configuration allows (BOTFLOW_HTTP_ENV).
 * Nothing is evaluated.
 *
 * @example
 * renderText("Bearer {{env.CRM_TOKEN}}", vars, { CRM_TOKEN: "s3cr3t" }); // "Bearer s3cr3t"
 * renderText("/orders/{{order_id}}", { order_id: "A 1/2" }, {}, encodeURIComponent); // "/orders/A%201%2F2"
 */
import { substitute } from "../engine/text.ts";
import type { VarValue } from "../engine/types.ts";

/** `{{env.NAME}}`, with NAME captured. */
const ENV_REF = /\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;
const ENV_REFS = new RegExp(ENV_REF.source, "g");
/** A string that is one `{{name}}` or `{{env.NAME}}` alone. */
const WHOLE = /^\{\{\s*(env\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** The secrets a template may read: allowlisted name → value (undefined when the environment does not set it). */
export type SecretEnv = Readonly<Record<string, string | undefined>>;

/** A template named a secret that is not allowed or not set; the message names it, never a value. */
export class MissingSecretError extends Error {
  constructor(
    readonly secret: string,
    readonly allowed: boolean,
  ) {
    super(
      allowed
        ? `{{env.${secret}}}: ${secret} is allowed in BOTFLOW_HTTP_ENV but not set in the environment; set it`
        : `{{env.${secret}}}: ${secret} is not allowed; add it to BOTFLOW_HTTP_ENV to let scenarios send it`,
    );
  }
}

/**
 * `text` with variables and secrets filled in. `encode` is applied to every inserted variable
 * value (the URL passes encodeURIComponent, so a typed "../admin?x=1" stays one path segment);
 * secrets are inserted as they are. Unknown variables become empty, as in every text; a secret
 * outside `env` throws (the loader refuses such names, this is the backstop).
 */
export function renderText(text: string, vars: Readonly<Record<string, VarValue>>, env: SecretEnv, encode?: (value: string) => string): string {
  if (!text.includes("{{")) return text;
  // Split on the secrets first, so a secret's value is never read as a template itself.
  const parts = text.split(ENV_REFS);
  const shown = encode ? encodedVars(vars, encode) : vars;
  let out = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    out += i % 2 === 0 ? substitute(part, shown) : secret(env, part);
  }
  return out;
}

/**
 * A JSON body with its strings rendered. A string that is one `{{name}}` alone becomes the
 * variable as it is (a number stays a number; null when unset); other strings are templates.
 */
export function renderBody(value: unknown, vars: Readonly<Record<string, VarValue>>, env: SecretEnv): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (!whole) return renderText(value, vars, env);
    const name = whole[2] as string;
    if (whole[1] !== undefined) return secret(env, name);
    return Object.hasOwn(vars, name) ? vars[name] : null;
  }
  if (Array.isArray(value)) return value.map((v) => renderBody(v, vars, env));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: renderBody(v, vars, env), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** Every `{{env.NAME}}` in a config value, with where it stands (path inside the value). */
export function secretRefs(value: unknown, path: (string | number)[] = []): { name: string; path: (string | number)[] }[] {
  if (typeof value === "string") return [...value.matchAll(ENV_REFS)].map((m) => ({ name: m[1] as string, path }));
  if (Array.isArray(value)) return value.flatMap((v, i) => secretRefs(v, [...path, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => secretRefs(v, [...path, k]));
  return [];
}

/** Whether `text` has a `{{…}}` in it. */
export function isTemplated(text: string): boolean {
  return text.includes("{{");
}

function secret(env: SecretEnv, name: string): string {
  const allowed = Object.hasOwn(env, name);
  const value = allowed ? env[name] : undefined;
  if (value === undefined) throw new MissingSecretError(name, allowed);
  return value;
}

function encodedVars(vars: Readonly<Record<string, VarValue>>, encode: (value: string) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) Object.defineProperty(out, k, { value: encode(String(v)), enumerable: true, writable: true, configurable: true });
  return out;
}
