/**
 * What `botflow serve` and `botflow worker` do with an error nothing else caught: never silence,
 * never a crash without a word.
 *
 * | event | policy | why |
 * |---|---|---|
 * | `unhandledRejection` | logged at error (errorSummary: name, redacted message, code; no stack, no payload) and the process keeps serving | a promise nobody awaited, typically a library's fire-and-forget handler (whatsapp-web.js's on a closed browser): the state the process serves from is untouched, and dying would drop every other conversation with it |
 * | `uncaughtException` | logged at fatal, then the same graceful shutdown as SIGTERM, and exit code 1 | a throw that unwound a synchronous stack part-way: Node's own advice is that the process state can no longer be trusted, so the supervisor (docker compose `restart:`, systemd `Restart=`, Kubernetes) starts a clean one |
 *
 * Without a listener Node 15+ turns an unhandled rejection into an uncaught exception and exits
 * at once with a stack trace on stderr (no log line, no shutdown); the listener here replaces that.
 */
import { errorSummary } from "../engine/errors.ts";

/** The process events the policy listens to (the real `process`, or a test's emitter). */
export interface ProcessErrorSource {
  on(event: "unhandledRejection" | "uncaughtException", listener: (err: unknown) => void): unknown;
  off(event: "unhandledRejection" | "uncaughtException", listener: (err: unknown) => void): unknown;
}

/** The logger lines the policy writes (pino's shape). */
export interface ProcessErrorLogger {
  error(obj: object, msg: string): void;
  fatal(obj: object, msg: string): void;
}

export interface ProcessErrorPolicyOptions {
  source: ProcessErrorSource;
  logger: ProcessErrorLogger;
  /** `serve` or `worker`, for the log line. */
  role: string;
  /** Called once, on the first uncaught exception: shut down and exit non-zero. */
  onFatal: () => void;
}

/**
 * Installs the policy; returns the function that removes it.
 *
 * @example
 * const uninstall = installProcessErrorPolicy({ source: process, logger, role: "serve", onFatal: () => stop(1) });
 */
export function installProcessErrorPolicy(o: ProcessErrorPolicyOptions): () => void {
  let fatal = false;
  const rejection = (reason: unknown): void => {
    o.logger.error(
      { err: errorSummary(reason), event: "unhandledRejection", role: o.role },
      "unhandled promise rejection: nothing awaited this promise (a bug here or in a library); botflow keeps serving",
    );
  };
  const exception = (err: unknown): void => {
    o.logger.fatal(
      { err: errorSummary(err), event: "uncaughtException", role: o.role },
      "uncaught exception: the process state can no longer be trusted; shutting down, exit code 1 (let the supervisor restart it)",
    );
    if (fatal) return;
    fatal = true;
    o.onFatal();
  };
  o.source.on("unhandledRejection", rejection);
  o.source.on("uncaughtException", exception);
  return () => {
    o.source.off("unhandledRejection", rejection);
    o.source.off("uncaughtException", exception);
  };
}
