/**
 * The web process's configuration: the only module that reads the environment, and only the
 * `env` object it is given. Everything is checked before anything starts, and every problem
 * is reported at once, so a typo or a bad value stops the process with a plain message
 * instead of half-starting.
 *
 * @example
 * const config = loadConfig(process.env, { cwd: process.cwd() });
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../engine/errors.ts";
import { durationMs } from "../engine/scenario.ts";
import { DEFAULT_SURVEY_QUEUE } from "../stats/queue/survey-queue-settings.ts";
import type { ConfigFile } from "./config-file.ts";
import { CHANNEL_MODULES, scenarioVariable } from "../channels/index.ts";
import { isScenarioId, SCENARIO_ID_RULE } from "../engine/schema/scenario-schema.ts";
import { readWebhookSettings, WEBHOOK_VARIABLES, type WebhookSettings } from "../webhooks/webhook-settings.ts";
import { ACTION_VARIABLES, allowedSecretNames, readActionSettings, type ActionSettings } from "./action-settings.ts";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
/** `auto`: readable lines when stdout is a terminal, JSON lines otherwise (app/logger.ts). */
export type LogFormat = "auto" | "json" | "pretty";
const LOG_FORMATS: readonly LogFormat[] = ["auto", "json", "pretty"];

export interface AppConfig {
  /** `production` with REDIS_URL and DATABASE_URL; otherwise the embedded default. */
  mode: "embedded" | "production";
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
  /** Absolute; the embedded statistics store (PGlite) lives here. */
  dataDir: string;
  /** Absolute; every *.yaml in it is loaded at start. */
  scenariosDir: string;
  /** The scenario a new conversation starts. */
  scenarioId: string;
  /** Per channel: the scenario a new conversation on that channel starts instead (BOTFLOW_<CHANNEL>_SCENARIO). */
  channelScenarios: Record<string, string>;
  redisUrl?: string;
  databaseUrl?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** NODE_ENV is `production`. */
  production: boolean;
  /** Reload a scenario file when it changes (development). */
  watchScenarios: boolean;
  /** How often due no-answer timeouts are fired. */
  sweepIntervalMs: number;
  /** BOTFLOW_RETENTION_COMMENTS: comments and identifiers of surveys older than this are cleared (app/comment-retention.ts); unset: kept. */
  retentionCommentsMs?: number;
  /** How long a graceful shutdown may take before the process gives up and exits non-zero. */
  shutdownTimeoutMs: number;
  /** Longest a webhook call may take before it is answered 503 with Retry-After (BOTFLOW_WEBHOOK_DEADLINE). */
  webhookDeadlineMs: number;
  /** BullMQ queue name and Redis key prefix (production); workers must use the same. */
  queueName: string;
  queuePrefix: string;
  /** Key prefix of conversation state in Redis (production). */
  statePrefix: string;
  /** Schema of the statistics tables; undefined: the store's default. */
  dbSchema?: string;
  /** Guards the dashboard, the statistics API and /metrics when set. Secret: never log it. */
  token?: string;
  /**
   * The settings of each enabled channel, by channel name (channels/index.ts; each module reads
   * and types its own). A channel that is not here is off. Holds secrets: never log it.
   */
  channels: Readonly<Record<string, unknown>>;
  /** Outgoing webhooks on ratings (webhooks/webhook-settings.ts); absent when no URL is set. Holds the secret: never log it. */
  webhooks?: WebhookSettings;
  /** http__request's allowlists and the custom action modules (app/action-settings.ts). Holds secrets: never log it. */
  actions: ActionSettings;
  /** Problems that do not stop the start (a variable that looks like a typo of a known one). */
  warnings: string[];
}

/** Command-line flags of `botflow serve`; they win over the environment. */
export interface ConfigOverrides {
  port?: string;
  host?: string;
  dataDir?: string;
  scenariosDir?: string;
  scenario?: string;
}

export interface LoadConfigOptions {
  /** Relative paths (BOTFLOW_DATA_DIR, BOTFLOW_SCENARIOS_DIR) resolve against it. */
  cwd: string;
  overrides?: ConfigOverrides;
  /** Variables from a configuration file; the environment wins over them. */
  file?: ConfigFile;
}

/** Every variable the web process reads, with what it means (for the README and error messages). */
export const CONFIG_VARIABLES: Readonly<Record<string, string>> = {
  PORT: "port to listen on (default 3000; 0 picks a free one)",
  HOST: "address to bind (default 127.0.0.1; 0.0.0.0 to accept outside connections)",
  NODE_ENV: "`production` turns off the scenario file watch",
  REDIS_URL: "redis:// URL; with DATABASE_URL switches to production mode (Redis state, BullMQ queue)",
  DATABASE_URL: "postgres:// URL; with REDIS_URL switches to production mode (PostgreSQL statistics)",
  BOTFLOW_DATA_DIR: "folder of the embedded statistics store (default ./data)",
  BOTFLOW_SCENARIOS_DIR: "folder of scenario files to load (default the bundled scenarios/)",
  BOTFLOW_SCENARIO: "scenario id a new conversation starts (default csat)",
  BOTFLOW_LOG_LEVEL: `log level: ${LOG_LEVELS.join(", ")} (default info; each HTTP request is a debug line)`,
  BOTFLOW_LOG_FORMAT: "log lines: auto (readable on a terminal, JSON otherwise), json or pretty (default auto)",
  BOTFLOW_WATCH: "reload scenario files when they change: true or false (default true unless NODE_ENV=production)",
  BOTFLOW_SWEEP_INTERVAL: "how often no-answer timeouts are checked, e.g. 5s (default 5s)",
  BOTFLOW_RETENTION_COMMENTS: "clear comment texts and user identifiers of surveys and triggers older than this, e.g. 180d; figures stay (default: keep)",
  BOTFLOW_WEBHOOK_DEADLINE: "longest a webhook call may take before it is answered 503 with Retry-After so the messenger delivers again, e.g. 5s (default 5s; keep it below the messenger's own timeout)",
  BOTFLOW_SHUTDOWN_TIMEOUT: "longest graceful shutdown before exiting non-zero, e.g. 10s (default 10s)",
  BOTFLOW_QUEUE: `survey queue name in production (default ${DEFAULT_SURVEY_QUEUE.name}); botflow worker must use the same`,
  BOTFLOW_QUEUE_PREFIX: `Redis key prefix of the survey queue (default ${DEFAULT_SURVEY_QUEUE.prefix}); botflow worker must use the same`,
  BOTFLOW_STATE_PREFIX: "Redis key prefix of conversation state (default botflow:)",
  BOTFLOW_DB_SCHEMA: "PostgreSQL schema of the statistics tables (default botflow_stats); botflow worker must use the same",
  BOTFLOW_DEBUG: "set to print stack traces of unexpected CLI errors",
  BOTFLOW_CONFIG: "a file of NAME=value lines with these variables (the environment wins); like --config",
  BOTFLOW_TOKEN: "access token for the dashboard, the statistics API and /metrics (Bearer header or the dashboard login); at least 16 characters; unset: open",
  ...WEBHOOK_VARIABLES,
  ...ACTION_VARIABLES,
  ...Object.fromEntries(
    CHANNEL_MODULES.flatMap((m) => [
      [scenarioVariable(m.name), `${m.title}: scenario id a new ${m.title} conversation starts (default BOTFLOW_SCENARIO)`],
      ...Object.entries(m.variables),
    ]),
  ),
};

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_SCENARIOS_DIR = path.join(PACKAGE_ROOT, "scenarios");

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and checks the configuration; throws ConfigError listing every problem. */
export function loadConfig(env: Env, options: LoadConfigOptions): AppConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const o = options.overrides ?? {};
  const file = options.file;
  const get = (name: string): string | undefined => {
    const v = env[name] !== undefined && env[name]?.trim() !== "" ? env[name] : file?.vars[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  // The secrets http__request may send are variables of their own (CRM_TOKEN), in the environment or the file.
  const secretNames = allowedSecretNames(get);
  checkNames(env, problems, warnings, secretNames);
  if (file) {
    for (const name of Object.keys(file.vars)) {
      if ((name in CONFIG_VARIABLES && name !== "BOTFLOW_CONFIG") || secretNames.includes(name)) continue;
      const guess = closest(name, Object.keys(CONFIG_VARIABLES));
      problems.push(`${file.name}:${file.lines[name]}: ${name === "BOTFLOW_CONFIG" ? "BOTFLOW_CONFIG cannot name another file from inside one" : `unknown variable ${name}${guess ? `: did you mean ${guess}?` : ""}`}`);
    }
  }

  const port = parsePort(o.port ?? get("PORT"), o.port !== undefined ? "--port" : "PORT", problems);
  const host = o.host ?? get("HOST") ?? "127.0.0.1";
  if (/\s/.test(host)) problems.push(`HOST "${host}" contains spaces: use an address such as 127.0.0.1 or 0.0.0.0`);

  const { redisUrl, databaseUrl } = readServiceUrls(get, problems);
  if ((redisUrl === undefined) !== (databaseUrl === undefined)) {
    const [set, unset] = redisUrl !== undefined ? ["REDIS_URL", "DATABASE_URL"] : ["DATABASE_URL", "REDIS_URL"];
    problems.push(
      `${set} is set but ${unset} is not: production mode needs both (Redis for conversation state and the queue, ` +
        `PostgreSQL for statistics). Set ${unset}, or unset ${set} to run the embedded default.`,
    );
  }

  const nodeEnv = get("NODE_ENV");
  const production = nodeEnv === "production";
  const logLevel = readLogLevel(get, problems);
  const logFormat = readLogFormat(get, problems);

  const watchRaw = get("BOTFLOW_WATCH");
  let watchScenarios = !production;
  if (watchRaw !== undefined) {
    if (/^(1|true|yes|on)$/i.test(watchRaw)) watchScenarios = true;
    else if (/^(0|false|no|off)$/i.test(watchRaw)) watchScenarios = false;
    else problems.push(`BOTFLOW_WATCH "${watchRaw}" is not a boolean: use true or false`);
  }

  const scenarioId = o.scenario ?? get("BOTFLOW_SCENARIO") ?? "csat";
  if (!isScenarioId(scenarioId)) {
    problems.push(`${o.scenario !== undefined ? "--scenario" : "BOTFLOW_SCENARIO"} "${scenarioId.slice(0, 80)}" is not a scenario id (${SCENARIO_ID_RULE})`);
  }

  const { name: queueName, prefix: queuePrefix } = readQueueSettings(get, problems);
  const statePrefix = get("BOTFLOW_STATE_PREFIX") ?? "botflow:";
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(statePrefix)) problems.push(`BOTFLOW_STATE_PREFIX "${statePrefix}" is not a key prefix: letters, digits, _ . : and -`);
  const dbSchema = readDbSchema(get, problems);

  const token = get("BOTFLOW_TOKEN");
  if (token !== undefined && token.length < 16) problems.push("BOTFLOW_TOKEN is shorter than 16 characters: use a long random one, e.g. the output of `openssl rand -hex 24`");

  const dataDir = path.resolve(options.cwd, o.dataDir ?? get("BOTFLOW_DATA_DIR") ?? "data");
  const webhooks = readWebhookSettings(get, problems);
  const actions = readActionSettings(get, problems, { cwd: options.cwd, ...actionsFileDir(env, options), requireSecrets: true, reserved: Object.keys(CONFIG_VARIABLES) });
  const channels: Record<string, unknown> = {};
  const channelScenarios: Record<string, string> = {};
  for (const m of CHANNEL_MODULES) {
    const settings = m.parseConfig(get, problems, { cwd: options.cwd, dataDir });
    if (settings !== undefined) channels[m.name] = settings;
    const name = scenarioVariable(m.name);
    const id = get(name);
    if (id === undefined) continue;
    if (isScenarioId(id)) channelScenarios[m.name] = id;
    else problems.push(`${name} "${id.slice(0, 80)}" is not a scenario id (${SCENARIO_ID_RULE})`);
  }

  const config: AppConfig = {
    mode: redisUrl !== undefined && databaseUrl !== undefined ? "production" : "embedded",
    host,
    port: port ?? 3000,
    dataDir,
    scenariosDir: path.resolve(options.cwd, o.scenariosDir ?? get("BOTFLOW_SCENARIOS_DIR") ?? DEFAULT_SCENARIOS_DIR),
    scenarioId,
    channelScenarios,
    ...setOnly({ redisUrl, databaseUrl, dbSchema, token }),
    logLevel,
    logFormat,
    production,
    watchScenarios,
    sweepIntervalMs: parseDuration("BOTFLOW_SWEEP_INTERVAL", get("BOTFLOW_SWEEP_INTERVAL"), 5_000, problems),
    ...(get("BOTFLOW_RETENTION_COMMENTS") !== undefined ? { retentionCommentsMs: parseDuration("BOTFLOW_RETENTION_COMMENTS", get("BOTFLOW_RETENTION_COMMENTS"), 0, problems) } : {}),
    shutdownTimeoutMs: parseDuration("BOTFLOW_SHUTDOWN_TIMEOUT", get("BOTFLOW_SHUTDOWN_TIMEOUT"), 10_000, problems),
    webhookDeadlineMs: parseDuration("BOTFLOW_WEBHOOK_DEADLINE", get("BOTFLOW_WEBHOOK_DEADLINE"), 5_000, problems),
    queueName,
    queuePrefix,
    statePrefix,
    channels,
    ...(webhooks ? { webhooks } : {}),
    actions,
    warnings,
  };
  if (problems.length > 0) {
    throw new ConfigError(`botflow serve cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  return config;
}

/**
 * The action settings alone, for the CLI commands that load scenarios (`validate`, `run`, `chat`,
 * `test`): the same variables and rules as `botflow serve`, except that an allowed secret may be
 * unset (checking a scenario needs only its name). Throws ConfigError listing every problem.
 *
 * @example
 * const settings = loadActionSettings(io.env, { cwd: io.cwd });
 */
export function loadActionSettings(env: Env, options: { cwd: string; file?: ConfigFile }): ActionSettings {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name] !== undefined && env[name]?.trim() !== "" ? env[name] : options.file?.vars[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const settings = readActionSettings(get, problems, { cwd: options.cwd, ...actionsFileDir(env, options), requireSecrets: false, reserved: Object.keys(CONFIG_VARIABLES) });
  if (problems.length > 0) throw new ConfigError(`the action settings are invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return settings;
}

/** The configuration file's folder when BOTFLOW_ACTIONS comes from the file (the environment wins over it). */
function actionsFileDir(env: Env, options: { cwd: string; file?: ConfigFile }): { fileDir?: string } {
  const fromEnv = env.BOTFLOW_ACTIONS !== undefined && env.BOTFLOW_ACTIONS.trim() !== "";
  if (fromEnv || options.file?.vars.BOTFLOW_ACTIONS === undefined) return {};
  return { fileDir: path.dirname(path.resolve(options.cwd, options.file.name)) };
}

/** What `botflow worker` reads (WORKER_VARIABLES), checked by the same rules as the web process's. */
export interface WorkerConfig {
  redisUrl?: string;
  databaseUrl?: string;
  queue: { name: string; prefix: string };
  dbSchema?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** The worker delivers the webhooks of the events it stores; absent when no URL is set. Holds the secret. */
  webhooks?: WebhookSettings;
}

/** Flags of `botflow worker` that win over the environment. */
export interface WorkerOverrides {
  queue?: string;
  prefix?: string;
  schema?: string;
}

/**
 * Reads `botflow worker`'s settings; throws ConfigError listing every problem. Which URLs are
 * required depends on what the worker is asked to do, so the command says so itself.
 *
 * @example
 * const config = loadWorkerConfig(io.env, { queue: flags.queue });
 */
export function loadWorkerConfig(env: Env, overrides: WorkerOverrides = {}): WorkerConfig {
  const problems: string[] = [];
  const get = envGetter(env);
  const { redisUrl, databaseUrl } = readServiceUrls(get, problems);
  const queue = readQueueSettings((n) => (n === "BOTFLOW_QUEUE" ? (overrides.queue ?? get(n)) : n === "BOTFLOW_QUEUE_PREFIX" ? (overrides.prefix ?? get(n)) : get(n)), problems);
  const dbSchema = readDbSchema((n) => overrides.schema ?? get(n), problems);
  const logLevel = readLogLevel(get, problems);
  const logFormat = readLogFormat(get, problems);
  const webhooks = readWebhookSettings(get, problems);
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return {
    ...(redisUrl !== undefined ? { redisUrl } : {}),
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    queue,
    ...(dbSchema !== undefined ? { dbSchema } : {}),
    logLevel,
    logFormat,
    ...(webhooks ? { webhooks } : {}),
  };
}

/** Where `botflow stats` / `botflow export` read statistics: PostgreSQL (DATABASE_URL) or the embedded folder. */
export interface StoreConfig {
  databaseUrl?: string;
  dbSchema?: string;
  /** Absolute BOTFLOW_DATA_DIR (or --data-dir). */
  dataDir: string;
}

/** Reads the statistics store's settings by the web process's rules; throws ConfigError listing every problem. */
export function loadStoreConfig(env: Env, options: { cwd: string; dataDir?: string; schema?: string }): StoreConfig {
  const problems: string[] = [];
  const get = envGetter(env);
  const databaseUrl = get("DATABASE_URL");
  if (databaseUrl !== undefined) checkUrl("DATABASE_URL", "PostgreSQL", databaseUrl, ["postgres:", "postgresql:"], "postgres://user@127.0.0.1:5432/botflow", problems);
  const dbSchema = readDbSchema((n) => options.schema ?? get(n), problems);
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  const dataDir = path.resolve(options.cwd, options.dataDir ?? get("BOTFLOW_DATA_DIR") ?? "data");
  return { ...(databaseUrl !== undefined ? { databaseUrl } : {}), ...(dbSchema !== undefined ? { dbSchema } : {}), dataDir };
}

/** The entries of `o` that are set: optional settings stay absent rather than `undefined`. */
function setOnly<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

function envGetter(env: Env): (name: string) => string | undefined {
  return (name) => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
}

function readServiceUrls(get: (name: string) => string | undefined, problems: string[]): { redisUrl?: string; databaseUrl?: string } {
  const redisUrl = get("REDIS_URL");
  const databaseUrl = get("DATABASE_URL");
  if (redisUrl !== undefined) checkUrl("REDIS_URL", "Redis", redisUrl, ["redis:", "rediss:"], "redis://127.0.0.1:6379", problems);
  if (databaseUrl !== undefined) checkUrl("DATABASE_URL", "PostgreSQL", databaseUrl, ["postgres:", "postgresql:"], "postgres://user@127.0.0.1:5432/botflow", problems);
  return { ...(redisUrl !== undefined ? { redisUrl } : {}), ...(databaseUrl !== undefined ? { databaseUrl } : {}) };
}

function readLogLevel(get: (name: string) => string | undefined, problems: string[]): LogLevel {
  const raw = (get("BOTFLOW_LOG_LEVEL") ?? "info").toLowerCase();
  const level = LOG_LEVELS.find((l) => l === raw);
  if (level === undefined) problems.push(`BOTFLOW_LOG_LEVEL "${raw}" is not a log level: use one of ${LOG_LEVELS.join(", ")}`);
  return level ?? "info";
}

function readLogFormat(get: (name: string) => string | undefined, problems: string[]): LogFormat {
  const raw = (get("BOTFLOW_LOG_FORMAT") ?? "auto").toLowerCase();
  const format = LOG_FORMATS.find((f) => f === raw);
  if (format === undefined) problems.push(`BOTFLOW_LOG_FORMAT "${raw}" is not a log format: use one of ${LOG_FORMATS.join(", ")}`);
  return format ?? "auto";
}

function readQueueSettings(get: (name: string) => string | undefined, problems: string[]): { name: string; prefix: string } {
  const name = get("BOTFLOW_QUEUE") ?? DEFAULT_SURVEY_QUEUE.name;
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) problems.push(`BOTFLOW_QUEUE "${name}" is not a queue name: letters, digits, _ . and -`);
  const prefix = get("BOTFLOW_QUEUE_PREFIX") ?? DEFAULT_SURVEY_QUEUE.prefix;
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(prefix)) problems.push(`BOTFLOW_QUEUE_PREFIX "${prefix}" is not a key prefix: letters, digits, _ . : and -`);
  return { name, prefix };
}

function readDbSchema(get: (name: string) => string | undefined, problems: string[]): string | undefined {
  const schema = get("BOTFLOW_DB_SCHEMA");
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    problems.push(`BOTFLOW_DB_SCHEMA "${schema}" is not a schema name: lower-case letters, digits and _, not starting with a digit`);
  }
  return schema;
}

/** The configuration file to read: `--config`, else BOTFLOW_CONFIG; undefined for none. */
export function configFileName(env: Env, flag: string | undefined): string | undefined {
  const name = flag ?? env.BOTFLOW_CONFIG?.trim();
  return name === undefined || name === "" ? undefined : name;
}

/** A URL with its password replaced, for messages and logs. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "<unparseable URL>";
  }
}

function checkNames(env: Env, problems: string[], warnings: string[], secretNames: readonly string[]): void {
  const known = Object.keys(CONFIG_VARIABLES);
  for (const name of Object.keys(env)) {
    if (name in CONFIG_VARIABLES || secretNames.includes(name)) continue;
    const guess = closest(name, known);
    if (name.startsWith("BOTFLOW_")) {
      const hint = guess ? `did you mean ${guess}?` : `known ones: ${known.filter((k) => k.startsWith("BOTFLOW_")).join(", ")}`;
      problems.push(`unknown variable ${name}: ${hint}`);
    } else if (guess && !guess.startsWith("BOTFLOW_") && distance(name, guess) <= 2 && name.length >= 6) {
      // Other programs' variables share the environment, so a near miss is only a warning.
      warnings.push(`variable ${name} is not read by botflow; did you mean ${guess}?`);
    }
  }
}

function parsePort(raw: string | undefined, name: string, problems: string[]): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isInteger(n) || n > 65535) {
    problems.push(`${name} "${raw}" is not a port: use a whole number from 0 to 65535 (0 picks a free port)`);
    return undefined;
  }
  return n;
}

function checkUrl(name: string, what: string, raw: string, protocols: readonly string[], example: string, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name} is not a URL: use a ${what} URL such as ${example}`);
    return;
  }
  if (!protocols.includes(url.protocol)) {
    problems.push(`${name} ${redactUrl(raw)} is not a ${what} URL: start it with ${protocols.map((p) => `${p}//`).join(" or ")}, e.g. ${example}`);
  }
}

function parseDuration(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  try {
    const ms = /^[0-9]+$/.test(raw) ? durationMs(Number(raw)) : durationMs(raw);
    if (ms <= 0) throw new Error("zero");
    return ms;
  } catch {
    problems.push(`${name} "${raw}" is not a duration: use seconds or a string such as 500ms, 5s, 1m`);
    return fallback;
  }
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 4)) ? best : undefined;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}
