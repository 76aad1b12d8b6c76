/**
 * botflow's error hierarchy: one class per failure domain, each with a stable `code`.
 * Messages say what failed, where, and how to fix it.
 */
export class BotflowError extends Error {
  constructor(
    readonly code: string,
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

/** A channel operation failed (send, edit, answer, webhook). */
export class ChannelError extends BotflowError {
  constructor(
    readonly channel: string,
    readonly operation: string,
    message: string,
    readonly status?: number,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super("CHANNEL_FAILED", `${channel} ${operation}: ${message}`, options);
  }
}

/** An action failed while a conversation ran it. */
export class ActionError extends BotflowError {
  constructor(
    readonly action: string,
    message: string,
    readonly retryable = true,
    options?: { cause?: unknown },
  ) {
    super("ACTION_FAILED", `action ${action}: ${message}`, options);
  }
}

/** Configuration that cannot start the process. */
export class ConfigError extends BotflowError {
  constructor(message: string) {
    super("CONFIG_INVALID", message);
  }
}
