/**
 * The outgoing webhooks' settings, read by app/config.ts (the only module reading the
 * environment) for the web process and for `botflow worker`:
 *
 * - BOTFLOW_WEBHOOK_URL: one http(s) URL or a comma-separated list; an entry `<scenario id>=<url>`
 *   receives only that scenario's surveys.
 * - BOTFLOW_WEBHOOK_SECRET: the HMAC-SHA256 key (webhooks/sign.ts), at least 16 characters;
 *   required with a URL. Never logged.
 * - BOTFLOW_WEBHOOK_LOW_SCORE: what `survey.low_score` means (webhooks/low-score.ts; default 25%).
 *
 * A URL may hold a token of its own (a path or query secret), so logs and errors name an endpoint
 * by its origin only (`endpointName`).
 */
import { createHash } from "node:crypto";
import { isScenarioId, SCENARIO_ID_RULE } from "../engine/schema/scenario-schema.ts";
import { DEFAULT_LOW_SCORE, parseLowScoreRule, type LowScoreRule } from "./low-score.ts";

export interface WebhookEndpoint {
  url: string;
  /** Only this scenario's surveys; absent: every scenario's. */
  scenario?: string;
}

export interface WebhookSettings {
  endpoints: readonly WebhookEndpoint[];
  /** Secret: never log it. */
  secret: string;
  lowScore: LowScoreRule;
}

/** The variables, with help text (app/config.ts lists them in CONFIG_VARIABLES). */
export const WEBHOOK_VARIABLES: Readonly<Record<string, string>> = {
  BOTFLOW_WEBHOOK_URL:
    "outgoing webhooks on ratings (survey.completed, survey.declined, survey.low_score): an http(s) URL or a comma-separated list; an entry <scenario id>=<url> gets only that scenario's surveys",
  BOTFLOW_WEBHOOK_SECRET: "HMAC-SHA256 key that signs each webhook (X-Botflow-Signature), at least 16 characters; required with BOTFLOW_WEBHOOK_URL",
  BOTFLOW_WEBHOOK_LOW_SCORE: "what survey.low_score means: a share of the keyboard's scale such as 25% (default: 1–2 on 1–5, 👎 on 👍/👎) or a fixed score such as 2",
};

/** Reads the settings through `get`; undefined when no URL is set. Problems are pushed, never thrown. */
export function readWebhookSettings(get: (name: string) => string | undefined, problems: string[]): WebhookSettings | undefined {
  const rawUrls = get("BOTFLOW_WEBHOOK_URL");
  const secret = get("BOTFLOW_WEBHOOK_SECRET");
  const rawRule = get("BOTFLOW_WEBHOOK_LOW_SCORE");
  let lowScore = DEFAULT_LOW_SCORE;
  if (rawRule !== undefined) {
    try {
      lowScore = parseLowScoreRule(rawRule);
    } catch (err) {
      problems.push(`BOTFLOW_WEBHOOK_LOW_SCORE ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (rawUrls === undefined) {
    if (secret !== undefined) problems.push("BOTFLOW_WEBHOOK_SECRET is set but BOTFLOW_WEBHOOK_URL is not: set the receiver's URL, or unset the secret");
    return undefined;
  }
  const endpoints: WebhookEndpoint[] = [];
  rawUrls.split(",").forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === "") return;
    const scoped = /^([^=/:]+)=(.+)$/.exec(entry);
    const scenario = scoped?.[1]?.trim();
    const url = (scoped?.[2] ?? entry).trim();
    if (scenario !== undefined && !isScenarioId(scenario)) {
      problems.push(`BOTFLOW_WEBHOOK_URL entry ${i + 1}: "${scenario.slice(0, 80)}" before = is not a scenario id (${SCENARIO_ID_RULE})`);
      return;
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`BOTFLOW_WEBHOOK_URL entry ${i + 1} is not a URL: use https://host/path, or <scenario id>=https://host/path`);
      return;
    }
    if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
      problems.push(`BOTFLOW_WEBHOOK_URL entry ${i + 1} (${parsed.protocol}//…) is not an http(s) URL: start it with https://`);
      return;
    }
    endpoints.push({ url, ...(scenario !== undefined ? { scenario } : {}) });
  });
  if (endpoints.length === 0 && !problems.some((p) => p.startsWith("BOTFLOW_WEBHOOK_URL"))) problems.push("BOTFLOW_WEBHOOK_URL names no URL: give one, or a comma-separated list");
  if (secret === undefined) problems.push("BOTFLOW_WEBHOOK_URL is set but BOTFLOW_WEBHOOK_SECRET is not: receivers verify each webhook with it; use a long random one, e.g. the output of `openssl rand -hex 32`");
  else if (secret.length < 16) problems.push("BOTFLOW_WEBHOOK_SECRET is shorter than 16 characters: use a long random one, e.g. the output of `openssl rand -hex 32`");
  return { endpoints, secret: secret ?? "", lowScore };
}

/** A short stable key of an endpoint (part of its delivery job ids): the URL's hash, never the URL. */
export function endpointKey(url: string): string {
  return createHash("sha256").update(url).digest("hex").slice(0, 12);
}

/** How logs and errors name an endpoint: its origin, never its path or query (they may hold a token). */
export function endpointName(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "<unparseable URL>";
  }
}
