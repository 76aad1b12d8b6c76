/**
 * The `botflow serve` process around the composed app: configuration check, start, the URLs
 * to open, signals (SIGTERM/SIGINT graceful shutdown, SIGHUP scenario reload), the policy for
 * errors nothing caught (app/process-errors.ts: an unhandled rejection is logged and serving
 * goes on; an uncaught exception is logged, then the graceful shutdown and exit 1) and the exit code.
 */
import { createServer } from "node:net";
import { BotflowError, errorSummary } from "../engine/errors.ts";
import { composeApp, type App } from "./compose.ts";
import path from "node:path";
import { readConfigFile } from "./config-file.ts";
import { configFileName, loadConfig, type ConfigOverrides } from "./config.ts";
import { recordServerUrl } from "./data-dir-lock.ts";
import { createLogger, logFormatFor } from "./logger.ts";
import { installProcessErrorPolicy } from "./process-errors.ts";

/**
 * The process-level things serve needs: signals, the errors nothing caught
 * (`unhandledRejection`, `uncaughtException`), and a last-resort exit for a shutdown that
 * leaves handles open.
 */
export interface ProcessHost {
  on(event: NodeJS.Signals | "unhandledRejection" | "uncaughtException", listener: (err?: unknown) => void): unknown;
  off(event: NodeJS.Signals | "unhandledRejection" | "uncaughtException", listener: (err?: unknown) => void): unknown;
  exit(code: number): void;
}

export interface ServeOptions {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  overrides?: ConfigOverrides;
  /** `--config FILE`; else BOTFLOW_CONFIG names the file, if any. */
  configFile?: string;
  /** JSON logs. */
  stdout: NodeJS.WritableStream;
  /** The human lines: what to open, why it could not start. */
  stderr: NodeJS.WritableStream;
  host: ProcessHost;
  /** Called once listening (tests use it to learn the port). */
  onListening?: (app: App, url: string) => void;
}

/** Starts serving; resolves to the exit code once shut down (0 clean, 1 failed to start or to stop in time). */
export async function serveProcess(o: ServeOptions): Promise<number> {
  let app: App;
  let exitAfterMs = 10_000;
  // A signal while starting (opening PGlite can take seconds) must not kill the process halfway
  // through creating the data folder: it is noted, and the start is undone cleanly below.
  let stopDuringStart = false;
  const early = () => void (stopDuringStart = true);
  // An uncaught exception: the shutdown below, ending in exit code 1 (app/process-errors.ts).
  let crashed = false;
  let stopServing: (() => void) | undefined;
  let uninstallErrors: (() => void) | undefined;
  for (const s of ["SIGTERM", "SIGINT"] as const) o.host.on(s, early);
  const endStart = () => {
    for (const s of ["SIGTERM", "SIGINT"] as const) o.host.off(s, early);
  };
  try {
    const fileName = configFileName(o.env, o.configFile);
    const file = fileName ? await readConfigFile(path.resolve(o.cwd, fileName), fileName) : undefined;
    const config = loadConfig(o.env, { cwd: o.cwd, ...(o.overrides ? { overrides: o.overrides } : {}), ...(file ? { file } : {}) });
    exitAfterMs = config.shutdownTimeoutMs;
    // Fail fast on a taken port, before the seconds it can take to open the statistics store.
    if (config.port !== 0 && (await portInUse(config.host, config.port))) {
      o.stderr.write(`botflow serve cannot start: ${portMessage(config.host, config.port)}\n`);
      endStart();
      return 1;
    }
    const logger = createLogger(config.logLevel, o.stdout, { format: logFormatFor(config.logFormat, o.stdout) });
    uninstallErrors = installProcessErrorPolicy({
      source: o.host,
      logger,
      role: "serve",
      onFatal: () => {
        crashed = true;
        if (stopServing) stopServing();
        else stopDuringStart = true;
      },
    });
    app = await composeApp(config, { logger });
  } catch (err) {
    uninstallErrors?.();
    endStart();
    o.stderr.write(`${startError(err)}\n`);
    return 1;
  }
  if (stopDuringStart) {
    endStart();
    await app.close();
    uninstallErrors?.();
    return crashed ? 1 : 0;
  }
  let urls;
  try {
    urls = await app.listen();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = code === "EADDRINUSE" ? portMessage(app.config.host, app.config.port) : startError(err);
    o.stderr.write(`botflow serve cannot start: ${message}\n`);
    await app.close().catch(() => {});
    uninstallErrors?.();
    endStart();
    return 1;
  }
  // botflow stats / export on this folder read through this server from now on (cli/stats-source.ts).
  if (app.config.mode === "embedded") await recordServerUrl(app.config.dataDir, urls.url).catch((err: unknown) => app.logger.warn({ err: errorSummary(err) }, "could not record the server's address in the data folder's lock"));
  o.stderr.write(
    `\nbotflow is running (${app.config.mode === "embedded" ? "embedded default" : "production"}; scenario ${app.config.scenarioId}).\n` +
      `  web chat:  ${urls.chatUrl}\n` +
      `  dashboard: ${urls.dashboardUrl}${app.config.token ? "  (log in with BOTFLOW_TOKEN)" : ""}\n` +
      `  health:    ${urls.url}/healthz  ${urls.url}/readyz  ${urls.url}/metrics\n` +
      `Stop with Ctrl-C.\n\n`,
  );
  o.onListening?.(app, urls.url);

  return new Promise<number>((resolve) => {
    const log = app.logger;
    let stopping = false;
    const finish = (clean: number) => {
      const code = crashed ? 1 : clean;
      for (const s of ["SIGTERM", "SIGINT"] as const) o.host.off(s, stop);
      o.host.off("SIGHUP", reload);
      uninstallErrors?.();
      resolve(code);
      // Anything still holding the event loop open after a shutdown is a leak: do not hang on it.
      setTimeout(() => o.host.exit(code), 3_000).unref();
    };
    const stop = () => {
      if (stopping) {
        log.warn({}, "second signal: exiting without waiting");
        return finish(1);
      }
      stopping = true;
      const timer = setTimeout(() => {
        log.error({ timeoutMs: exitAfterMs }, "shutdown took too long; exiting with work possibly unfinished");
        finish(1);
      }, exitAfterMs);
      app.close().then(
        () => {
          clearTimeout(timer);
          finish(0);
        },
        (err: unknown) => {
          clearTimeout(timer);
          log.error({ err }, "shutdown failed");
          finish(1);
        },
      );
    };
    const reload = () => {
      log.info({}, "SIGHUP: reloading scenarios");
      app.reloadScenarios().catch((err: unknown) => log.error({ err }, "scenario reload failed"));
    };
    for (const s of ["SIGTERM", "SIGINT"] as const) o.host.on(s, stop);
    o.host.on("SIGHUP", reload);
    stopServing = stop;
    endStart();
    if (stopDuringStart) stop();
  });
}

function portMessage(host: string, port: number): string {
  return `port ${port} on ${host} is in use: stop the other process or set PORT`;
}

function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

function startError(err: unknown): string {
  if (err instanceof BotflowError) return err.message;
  return `botflow serve cannot start: ${err instanceof Error ? err.message : String(err)}`;
}
