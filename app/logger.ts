/**
 * The process's structured logger: pino JSON lines on stdout, or readable lines when a person
 * watches a terminal (`BOTFLOW_LOG_FORMAT=auto`, the default). Conversation ids go in; tokens,
 * passwords, cookies and user text never do (they are redacted should a caller slip, before
 * either format is written).
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import type { LogFormat, LogLevel } from "./config.ts";

export type AppLogger = PinoLogger;

const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "token",
  "*.token",
  "password",
  "*.password",
  "comment",
  "*.comment",
  "text",
  "*.text",
];

export interface LoggerOptions {
  /** `json` (the default) or `pretty`; resolve `auto` with `logFormatFor`. */
  format?: Exclude<LogFormat, "auto">;
  /** Colour the level in pretty lines (default: when the destination is a terminal). */
  color?: boolean;
}

/**
 * A pino logger at `level`, writing to `destination` (stdout by default).
 *
 * @example
 * const logger = createLogger("info", process.stdout, { format: logFormatFor(config.logFormat, process.stdout) });
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, o: LoggerOptions = {}): AppLogger {
  return pino(
    {
      level,
      base: { service: "botflow" },
      redact: { paths: REDACT, censor: "[redacted]" },
      serializers: {
        // Query strings can carry tokens (webhook secrets); only the path is logged.
        req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, path: req.url?.split("?")[0], id: req.id }),
      },
    },
    o.format === "pretty" ? prettyDestination(destination ?? process.stdout, o.color ?? isTerminal(destination ?? process.stdout)) : destination,
  );
}

/** What `auto` means for `out`: readable lines on a terminal, JSON lines anywhere else (files, pipes, containers). */
export function logFormatFor(setting: LogFormat, out: unknown): Exclude<LogFormat, "auto"> {
  if (setting !== "auto") return setting;
  return isTerminal(out) ? "pretty" : "json";
}

function isTerminal(out: unknown): boolean {
  return (out as { isTTY?: unknown } | undefined)?.isTTY === true;
}

const LEVELS: Record<number, [string, string]> = {
  10: ["TRACE", "\x1b[90m"],
  20: ["DEBUG", "\x1b[90m"],
  30: ["INFO ", "\x1b[32m"],
  40: ["WARN ", "\x1b[33m"],
  50: ["ERROR", "\x1b[31m"],
  60: ["FATAL", "\x1b[41m\x1b[97m"],
};
/** Fields every line has, or that the line's head shows already. */
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname", "service"]);

/**
 * One line per entry, `12:03:04.567 INFO  botflow serve is listening url=http://… mode=embedded`,
 * from the JSON pino wrote (redaction already applied). A line that is not JSON passes as it is.
 */
export function prettyDestination(out: DestinationStream, color: boolean): DestinationStream {
  return {
    write(line: string) {
      out.write(`${prettyLine(line, color)}\n`);
    },
  };
}

/** The readable form of one pino JSON line (without its newline). */
export function prettyLine(line: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const [name, tint] = LEVELS[Number(entry.level)] ?? [String(entry.level).toUpperCase().padEnd(5), ""];
  const time = typeof entry.time === "number" ? new Date(entry.time).toISOString().slice(11, 23) : "";
  const fields = Object.entries(entry)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const level = color && tint ? `${tint}${name}\x1b[0m` : name;
  const msg = typeof entry.msg === "string" ? entry.msg : "";
  return [time, level, msg, ...fields].filter((p) => p !== "").join(" ");
}

function fieldValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as { message?: unknown }).message === "string") {
    // An error summary: its message (and code) are what a reader needs on one line.
    // errorSummary's name, else pino's err serializer's type ("Object" for a plain summary says nothing).
    const e = v as { message: string; name?: unknown; type?: unknown; code?: unknown; status?: unknown };
    const name = [e.name, e.type].find((n): n is string => typeof n === "string" && n !== "Object" && n !== "Error");
    const extra = [e.code, e.status].filter((x) => typeof x === "string" || typeof x === "number").join(", ");
    return JSON.stringify(`${name ? `${name}: ` : ""}${e.message}${extra ? ` (${extra})` : ""}`);
  }
  return JSON.stringify(v) ?? String(v);
}
