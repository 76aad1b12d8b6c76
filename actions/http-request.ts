/**
 * `http__request`: calls one of your systems and keeps fields of its JSON answer as variables.
 *
 * ```yaml
 * lookup:
 *   type: action
 *   action: http__request
 *   config:
 *     method: GET
 *     url: https://api.example.com/orders/{{order_id}}
 *     headers: { Authorization: "Bearer {{env.CRM_TOKEN}}" }
 *     timeout: 5s
 *     save: { order_status: $.order.status, first_item: $.items[0].name }
 *     save_status: http_status
 *   next: tell_status
 *   on_error: lookup_failed
 * ```
 *
 * What a scenario may reach is the operator's call, not the scenario's: only hosts in
 * BOTFLOW_HTTP_ALLOW_HOSTS (a literal host is checked when the scenario loads, a templated one
 * before each call), only secrets named in BOTFLOW_HTTP_ENV. Secrets never reach a log line or
 * an error message: messages quote the url as written (`{{env.CRM_TOKEN}}`), never as sent.
 *
 * Fails (so `on_error` runs) on a timeout, a network error, a status outside 2xx (redirects are
 * not followed: the next hop would escape the allowlist), and an answer `save` cannot read.
 * Idempotent methods are retried on 5xx and network errors, through the shared retry helper,
 * within the one `timeout`; POST and PATCH are sent once.
 */
import type { ActionConfigProblem } from "../engine/catalog.ts";
import { durationMs } from "../engine/duration.ts";
import { ActionError } from "../engine/errors.ts";
import { silentLogger, type ActionContext, type Logger } from "../engine/ports.ts";
import { VAR_NAME_PATTERN } from "../engine/schema/scenario-schema.ts";
import { MAX_START_VARIABLE_LENGTH } from "../engine/start-variables.ts";
import type { VarValue } from "../engine/types.ts";
import { hostAllowed, hostRefusal, literalOrigin } from "./host-allowlist.ts";
import { isTemplated, MissingSecretError, renderBody, renderText, secretRefs, type SecretEnv } from "./http-template.ts";
import { JSON_PATH_PATTERN, pathPrefix, readJsonPath } from "./json-path.ts";
import type { ActionDefinition } from "./registry.ts";

export const HTTP_REQUEST = "http__request";
/** When the config sets no timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Longest timeout a scenario may set: the call holds the conversation's lock (30 s by default) while it runs. */
export const MAX_TIMEOUT_MS = 25_000;
/** Largest answer read; a bigger one fails the action rather than fill memory. */
export const MAX_RESPONSE_BYTES = 1_048_576;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;
type Method = (typeof METHODS)[number];
/** Methods that may be sent again after a 5xx or a network error (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<Method> = new Set<Method>(["GET", "HEAD", "PUT", "DELETE"]);
/** Attempts in all for an idempotent method: a small count, inside the one timeout. */
const IDEMPOTENT_ATTEMPTS = 3;
const HEADER_NAME = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

export const HTTP_REQUEST_CONFIG_SCHEMA = {
  type: "object",
  properties: {
    method: { enum: [...METHODS], description: "HTTP method (default GET). GET, HEAD, PUT and DELETE are retried on 5xx and network errors; POST and PATCH are sent once." },
    url: { type: "string", minLength: 1, maxLength: 2048, description: "http(s) URL; {{variable}} values are percent-encoded, {{env.NAME}} inserts an allowed secret. The host must be in BOTFLOW_HTTP_ALLOW_HOSTS." },
    headers: {
      type: "object",
      propertyNames: { pattern: HEADER_NAME },
      additionalProperties: { type: "string", maxLength: 8192 },
      description: "Request headers; values are templates ({{variable}}, {{env.NAME}}).",
    },
    body: { description: "JSON body (not with GET or HEAD). A string that is one {{variable}} alone sends the value as it is (a number stays a number); other strings are templates." },
    timeout: {
      anyOf: [{ type: "integer", minimum: 1 }, { type: "string", pattern: "^[0-9]+(ms|s|m)$" }],
      description: "Longest the whole call may take, retries included: seconds, or 500ms, 5s (default 10s, at most 25s).",
    },
    save: {
      type: "object",
      propertyNames: { pattern: VAR_NAME_PATTERN },
      additionalProperties: { type: "string", pattern: JSON_PATH_PATTERN },
      description: "Variables to set from the JSON answer: name → path ($.order.status, $.items[0].name).",
    },
    save_status: { type: "string", pattern: VAR_NAME_PATTERN, description: "A variable that receives the HTTP status (also when it is not 2xx)." },
  },
  required: ["url"],
  additionalProperties: false,
} as const;

export interface HttpRequestConfig {
  method?: Method;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeout?: number | string;
  save?: Record<string, string>;
  save_status?: string;
}

/**
 * The shared retry helper's shape (channels/retry.ts `retry`), passed in by the composition root:
 * actions/ does not import channels/.
 */
export type Retry = <T>(
  fn: (attempt: number) => Promise<T>,
  options: { attempts: number; baseMs: number; capMs: number; retryable: (err: unknown) => boolean; stopped: () => boolean },
) => Promise<T>;

export interface HttpRequestDeps {
  /** BOTFLOW_HTTP_ALLOW_HOSTS: host patterns (host-allowlist.ts); empty allows nothing. */
  allowHosts: readonly string[];
  /** BOTFLOW_HTTP_ENV: every allowed secret name, with its value (undefined when unset). */
  env: SecretEnv;
  /** channels/retry.ts `retry`. */
  retry: Retry;
  /** The HTTP client; default Node's fetch (undici). `botflow test` passes one that answers its mocks. */
  fetch?: typeof fetch;
  logger?: Logger;
}

/** A failed attempt worth another: the far side answered 5xx, or the network failed before it answered. */
class TransientFailure extends Error {
  constructor(
    readonly status: number | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The `http__request` action over `deps`. */
export function httpRequestAction(deps: HttpRequestDeps): ActionDefinition {
  const log = deps.logger ?? silentLogger;
  return {
    name: HTTP_REQUEST,
    description: "Calls an allowed HTTP endpoint (templated url, headers and JSON body) and saves fields of its JSON answer as variables.",
    configSchema: HTTP_REQUEST_CONFIG_SCHEMA,
    checkConfig: (config) => checkHttpConfig(config as unknown as HttpRequestConfig, deps),
    savesVariables: (config) => {
      const c = config as unknown as HttpRequestConfig;
      return [...Object.keys(c.save ?? {}), ...(c.save_status !== undefined ? [c.save_status] : [])];
    },
    async run(config, ctx) {
      const c = config as unknown as HttpRequestConfig;
      const method = c.method ?? "GET";
      const secrets = Object.values(deps.env).filter((v): v is string => v !== undefined && v.length >= 3);
      const fail = (message: string, status?: number): ActionError =>
        new ActionError(HTTP_REQUEST, redactSecrets(`${method} ${c.url}: ${message}`, secrets), false, status !== undefined && c.save_status !== undefined ? { vars: { [c.save_status]: status } } : undefined);

      const request = buildRequest(c, method, ctx, deps, fail);
      const timeoutMs = c.timeout === undefined ? DEFAULT_TIMEOUT_MS : durationMs(c.timeout);
      const signal = AbortSignal.timeout(timeoutMs);
      const doFetch = deps.fetch ?? fetch;
      const started = performance.now();
      let response: Response;
      try {
        response = await deps.retry(
          async (attempt) => {
            let r: Response;
            try {
              r = await doFetch(request.url, { ...request.init, signal });
            } catch (err) {
              if (signal.aborted) throw err;
              throw new TransientFailure(undefined, `the request failed (${networkReason(err)})`);
            }
            if (r.status >= 500 && attempt < IDEMPOTENT_ATTEMPTS && IDEMPOTENT.has(method)) {
              await r.body?.cancel().catch(() => {});
              throw new TransientFailure(r.status, `answered ${r.status}`);
            }
            return r;
          },
          {
            attempts: IDEMPOTENT.has(method) ? IDEMPOTENT_ATTEMPTS : 1,
            baseMs: 200,
            capMs: 1_000,
            retryable: (err) => err instanceof TransientFailure && !signal.aborted,
            stopped: () => signal.aborted,
          },
        );
      } catch (err) {
        if (signal.aborted) throw fail(`no answer within ${formatMs(timeoutMs)} (timeout); raise timeout or make the endpoint faster`);
        if (err instanceof TransientFailure) throw fail(err.reason, err.status);
        throw fail(`the request failed (${networkReason(err)})`);
      }
      const ms = Math.round(performance.now() - started);
      // The url as written: its {{env.…}} and {{variables}} unexpanded, so no secret and no user data.
      log.debug({ action: HTTP_REQUEST, block: ctx.blockId, method, url: c.url, status: response.status, ms }, "http__request answered");
      const vars: Record<string, VarValue> = {};
      if (c.save_status !== undefined) vars[c.save_status] = response.status;

      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel().catch(() => {});
        const why = response.status >= 300 && response.status < 400 ? "; redirects are not followed: call the final URL" : "";
        throw fail(`answered ${response.status}, not 2xx${why}`, response.status);
      }
      const save = Object.entries(c.save ?? {});
      if (save.length === 0 || method === "HEAD") {
        await response.body?.cancel().catch(() => {});
        return { vars };
      }
      let text: string;
      try {
        text = await readLimited(response, MAX_RESPONSE_BYTES);
      } catch (err) {
        if (signal.aborted) throw fail(`the answer did not arrive within ${formatMs(timeoutMs)} (timeout)`, response.status);
        throw fail(err instanceof Error ? err.message : "the answer could not be read", response.status);
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw fail(`answered ${response.status} but not with JSON, so save cannot read it (content-type ${JSON.stringify(response.headers.get("content-type") ?? "none")})`, response.status);
      }
      for (const [name, path] of save) {
        const found = readJsonPath(body, path);
        if (!found.found) throw fail(`the answer has no ${pathPrefix(path, found.failedAt)}, so save.${name} (${path}) cannot be set`, response.status);
        const value = toVariable(found.value);
        if (typeof value === "object") throw fail(`save.${name}: ${path} is ${value.problem}; map a text, number or true/false value`, response.status);
        vars[name] = value;
      }
      return { vars };
    },
  };
}

/** The URL and fetch options, rendered; refuses a host outside the allowlist and a secret that is not allowed or not set. */
function buildRequest(
  c: HttpRequestConfig,
  method: Method,
  ctx: ActionContext,
  deps: HttpRequestDeps,
  fail: (message: string) => ActionError,
): { url: string; init: RequestInit } {
  try {
    const rendered = renderText(c.url, ctx.vars, deps.env, encodeURIComponent);
    let url: URL;
    try {
      url = new URL(rendered);
    } catch {
      throw fail("the url is not a valid URL once its variables are filled in");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw fail("the url is not http(s) once its variables are filled in");
    if (url.username !== "" || url.password !== "") throw fail("the url carries a user or password once its variables are filled in; send credentials in a header");
    if (!hostAllowed(url.hostname, deps.allowHosts)) throw fail(hostRefusal(url.hostname, deps.allowHosts));
    const headers = new Headers();
    for (const [name, template] of Object.entries(c.headers ?? {})) {
      const value = renderText(template, ctx.vars, deps.env);
      // Refused here, not by fetch: its message would quote the value, which may hold a secret.
      if (/[\r\n\0]/.test(value)) throw fail(`header ${name}: a variable put a line break into it`);
      headers.set(name, value);
    }
    const init: RequestInit = { method, headers, redirect: "manual" };
    if (c.body !== undefined) {
      init.body = JSON.stringify(renderBody(c.body, ctx.vars, deps.env));
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    if (!headers.has("accept")) headers.set("accept", "application/json");
    return { url: url.toString(), init };
  } catch (err) {
    if (err instanceof MissingSecretError) throw fail(err.message);
    throw err;
  }
}

/** The checks a JSON Schema cannot make: the literal host, the secrets' names, the timeout's bounds, a body on GET. */
export function checkHttpConfig(c: HttpRequestConfig, deps: Pick<HttpRequestDeps, "allowHosts" | "env">): ActionConfigProblem[] {
  const problems: ActionConfigProblem[] = [];
  const origin = literalOrigin(c.url);
  if ("problem" in origin) problems.push({ path: ["url"], message: origin.problem });
  else if ("host" in origin && !hostAllowed(origin.host, deps.allowHosts)) problems.push({ path: ["url"], message: hostRefusal(origin.host, deps.allowHosts) });
  const allowed = Object.keys(deps.env);
  for (const [key, value] of [["url", c.url], ["headers", c.headers], ["body", c.body]] as const) {
    for (const ref of secretRefs(value, [key])) {
      if (allowed.includes(ref.name)) continue;
      const list = allowed.length > 0 ? `allowed: ${allowed.join(", ")}` : "none is allowed";
      problems.push({ path: ref.path, message: `{{env.${ref.name}}} is not an allowed secret (BOTFLOW_HTTP_ENV; ${list}); add ${ref.name} there to let scenarios send it` });
    }
  }
  if (c.timeout !== undefined) {
    const ms = durationMs(c.timeout);
    if (ms > MAX_TIMEOUT_MS) problems.push({ path: ["timeout"], message: `timeout ${String(c.timeout)} is longer than ${formatMs(MAX_TIMEOUT_MS)}: the call holds the conversation while it runs; use at most 25s` });
  }
  const method = c.method ?? "GET";
  if (c.body !== undefined && (method === "GET" || method === "HEAD")) problems.push({ path: ["body"], message: `a ${method} request has no body; use method: POST (or PUT, PATCH), or put the values in the url` });
  if (c.save !== undefined && method === "HEAD") problems.push({ path: ["save"], message: "a HEAD answer has no body to save from; use GET, or keep only save_status" });
  for (const [name, template] of Object.entries(c.headers ?? {})) {
    if (isTemplated(name)) problems.push({ path: ["headers", name], message: "a header name cannot be a template" });
    if (/[\r\n\0]/.test(template)) problems.push({ path: ["headers", name], message: `header ${name}: a value cannot hold a line break` });
  }
  return problems;
}

/** A response value as a variable: strings and numbers as they are, true/false as text; anything else says why not. */
function toVariable(value: unknown): VarValue | { problem: string } {
  if (typeof value === "string") return value.length <= MAX_START_VARIABLE_LENGTH ? value : { problem: `${value.length} characters long (a variable holds at most ${MAX_START_VARIABLE_LENGTH})` };
  if (typeof value === "number") return Number.isFinite(value) ? value : { problem: "not a finite number" };
  if (typeof value === "boolean") return String(value);
  if (value === null) return { problem: "null" };
  return { problem: Array.isArray(value) ? "a list" : "an object" };
}

/** Reads the body as UTF-8, refusing one over `max` bytes without reading it all. */
async function readLimited(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`the answer is ${declared} bytes; at most ${max} are read`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`the answer is over ${max} bytes; at most ${max} are read`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** What went wrong on the network, by code (ECONNREFUSED, ENOTFOUND), never the error's own text: it may quote the request. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: unknown } | null)?.cause ?? err;
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? code : "network error";
}

/** Every secret value replaced, whatever quoted it. */
function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    out = out.split(s).join("[redacted]");
    const encoded = encodeURIComponent(s);
    if (encoded !== s) out = out.split(encoded).join("[redacted]");
  }
  return out;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
