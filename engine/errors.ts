/**
 * botflow's error hierarchy: one class per failure domain, each with a stable `code` from a
 * closed set ({@link ErrorCode}), so callers match failures by class or code, never by message.
 * Messages say what failed, where, and how to fix it.
 */

/**
 * Every code a BotflowError can carry. Adding one is a deliberate change: whoever matches codes
 * (the webhook status contract, the worker's retry decision) sees the new case at compile time.
 */
export type ErrorCode =
  | "SCENARIO_INVALID"
  | "CHANNEL_FAILED"
  | "ACTION_FAILED"
  | "CONFIG_INVALID"
  | "CONVERSATION_BUSY"
  | "LOCK_LOST"
  | "STORE_UNAVAILABLE"
  | "SURVEY_EVENT_MALFORMED"
  | "SURVEY_QUEUE_CLOSED"
  | "STATS_QUERY_INVALID";

export class BotflowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found in a scenario file, with its position (1-based line and column). */
export interface ScenarioProblem {
  file: string;
  line: number;
  col: number;
  severity: "error" | "warning";
  message: string;
  blockId?: string;
}

/** Formats a problem as `file:line:col: error|warning: message`. */
export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.severity}: ${p.message}`;
}

/** A scenario that cannot be loaded; `problems` lists every error and warning found. */
export class ScenarioError extends BotflowError {
  constructor(readonly problems: ScenarioProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    super("SCENARIO_INVALID", errors.map(formatProblem).join("\n") || "invalid scenario");
  }
}

/** What a channel says of a failed operation besides its message. */
export interface ChannelErrorOptions {
  /** The messenger's HTTP status (or error code), when it answered. */
  status?: number;
  /** Whether trying the same call again later may succeed (429, 5xx, network); default false. */
  retryable?: boolean;
  /** How long the messenger asked to wait before trying again (429 `retry_after`, Retry-After). */
  retryAfterMs?: number;
  /**
   * Why the recipient cannot be reached at all, when that is what the messenger said (the user
   * blocked the bot, the chat does not exist, WhatsApp's 24-hour window is closed and no template
   * is configured). Set only with `retryable: false`: a trigger records it as the failure reason.
   */
  recipient?: RecipientProblem;
  cause?: unknown;
}

/** Why a proactive first message could not reach its recipient (ChannelErrorOptions.recipient). */
export type RecipientProblem = "blocked" | "unknown_recipient" | "window_closed" | "not_allowed";

/**
 * A channel operation failed (send, edit, answer, webhook).
 *
 * @example
 * throw new ChannelError("whatsapp-cloud", "send", "the Graph API answered 503", { status: 503, retryable: true });
 */
export class ChannelError extends BotflowError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly recipient: RecipientProblem | undefined;

  constructor(
    readonly channel: string,
    readonly operation: string,
    message: string,
    options: ChannelErrorOptions = {},
  ) {
    super("CHANNEL_FAILED", `${channel} ${operation}: ${message}`, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.recipient = options.recipient;
  }
}

/** An action failed while a conversation ran it. */
export class ActionError extends BotflowError {
  /** Variables to save although the action failed (http__request's status on a 404), so `on_error` can branch on them. */
  readonly vars: Readonly<Record<string, string | number>> | undefined;

  constructor(
    readonly action: string,
    message: string,
    readonly retryable = true,
    options?: { cause?: unknown; vars?: Readonly<Record<string, string | number>> },
  ) {
    super("ACTION_FAILED", `action ${action}: ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.vars = options?.vars;
  }
}

/** Configuration that cannot start the process. */
export class ConfigError extends BotflowError {
  constructor(message: string) {
    super("CONFIG_INVALID", message);
  }
}

/** The conversation stayed locked by another event longer than the runtime waits; deliver again later. */
export class ConversationBusyError extends BotflowError {
  constructor(key: string) {
    super("CONVERSATION_BUSY", `conversation ${key} stayed locked; retry the delivery`);
  }
}

/** The lock on a conversation expired and someone else took it before this step was saved; the event is processed again. */
export class LockLostError extends BotflowError {
  constructor(key: string) {
    super("LOCK_LOST", `lost the lock on conversation ${key} before saving; the event will be processed again`);
  }
}

/** A store (conversation state, channel storage) could not be reached; the work can be tried again later. */
export class StoreUnavailableError extends BotflowError {
  constructor(store: string, options?: { cause?: unknown }) {
    super("STORE_UNAVAILABLE", `${store} is not reachable; try again later`, options);
  }
}

/** Codes that mean "not now": the same input is expected to succeed once the conversation or the store is free. */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["CONVERSATION_BUSY", "LOCK_LOST", "STORE_UNAVAILABLE"]);

/** The error a wrapper stands for: grammY's BotError wraps what the middleware threw. */
export function innerError(err: unknown): unknown {
  return err instanceof Error && err.name === "BotError" ? (err as Error & { error?: unknown }).error : err;
}

/**
 * Whether `err` says botflow's own infrastructure is "not now" (a busy conversation, a lost lock,
 * a store away): never a reason to give up on the input, however often it happens.
 */
export function isOwnInfrastructureBusy(err: unknown): boolean {
  const inner = innerError(err);
  return inner instanceof BotflowError && RETRY_LATER.has(inner.code);
}

/**
 * Whether `err` says "try again later" (busy conversation, lost lock, store away, the messenger's
 * API away or throttling): webhooks answer 503 with Retry-After, clients retry. Matched by class
 * and code, never by message.
 */
export function isRetryLater(err: unknown): boolean {
  if (isOwnInfrastructureBusy(err)) return true;
  const inner = innerError(err);
  // The messenger itself is away or throttling (429, 5xx, network) after the channel's own retries.
  return inner instanceof ChannelError && (inner.status === 503 || inner.retryable);
}

const TOKEN_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/[0-9]{5,20}:[A-Za-z0-9_-]{20,}/g, "[redacted]"], // a Telegram bot token (also inside a /bot<token>/ URL)
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"], // an Authorization header value
  [/(\/\/[^/\s:@]*:)[^/\s@]+@/g, "$1[redacted]@"], // a URL's password
  [/\b(access_token|token|secret|password|sig|signature)=[^&\s"']+/gi, "$1=[redacted]"],
];

/** Longest message a log line carries: enough to act on, too short to hold a whole payload. */
const MAX_MESSAGE = 300;

/** What a log line says of an error. */
export interface ErrorSummary {
  name: string;
  message: string;
  code?: string;
  status?: number;
  method?: string;
}

/**
 * What a log line says of an error: its name, code, status and a bounded message with anything
 * that looks like a token or password cut out; never the stack, the cause, a request or a payload.
 * Values the user typed (`vars`: a comment) are cut out of the message too, since a driver error
 * may quote the row it refused.
 *
 * @example
 * log.error({ err: errorSummary(err) }, "the update could not be processed");
 */
export function errorSummary(err: unknown, vars?: Readonly<Record<string, unknown>>): ErrorSummary {
  // grammY's BotError wraps what the middleware threw: the inner error is the one worth naming.
  const inner = innerError(err) ?? err;
  if (!(inner instanceof Error)) return { name: "Error", message: redact(String(inner), vars) };
  const e = inner as Error & { code?: unknown; status?: unknown; statusCode?: unknown; error_code?: unknown; method?: unknown; description?: unknown };
  // grammY's GrammyError: Telegram's own description is the useful part, the method says which call.
  const message = typeof e.description === "string" ? e.description : e.message;
  const status = [e.status, e.statusCode, e.error_code].find((s): s is number => typeof s === "number");
  return {
    name: e.name,
    message: redact(message, vars),
    ...(typeof e.code === "string" || typeof e.code === "number" ? { code: String(e.code) } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(typeof e.method === "string" ? { method: e.method } : {}),
  };
}

function redact(message: string, vars: Readonly<Record<string, unknown>> | undefined): string {
  let out = message;
  for (const [pattern, replacement] of TOKEN_PATTERNS) out = out.replace(pattern, replacement);
  if (vars) {
    for (const v of Object.values(vars)) {
      // Short values (ratings, "ok") are not personal and would blank out ordinary words.
      if (typeof v === "string" && v.trim().length >= 3 && out.includes(v.trim())) out = out.split(v.trim()).join("[redacted]");
    }
  }
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE - 1)}…` : out;
}
