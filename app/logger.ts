/**
 * The process's structured logger: pino JSON lines on stdout. Conversation ids go in, tokens,
 * passwords, cookies and user text never do (they are redacted should a caller slip).
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import type { LogLevel } from "./config.ts";

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

/** A pino logger at `level`, writing to `destination` (stdout by default). */
export function createLogger(level: LogLevel, destination?: DestinationStream): AppLogger {
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
    destination,
  );
}
