/**
 * `botflow serve`: the web process (`npm start`). With no configuration it runs the embedded
 * default on 127.0.0.1:3000 and prints the URLs to open; see app/config.ts for the variables.
 */
import { parseCommandArgs } from "../args.ts";
import type { CliIo } from "../io.ts";

export const summary = "Run the web process: web chat, webhooks, health endpoints (npm start)";

const USAGE = `usage: botflow serve [--config FILE] [--port N] [--host ADDR] [--data-dir DIR] [--scenarios DIR] [--scenario ID]

Runs the web process. Options override the environment:
  --config FILE     BOTFLOW_CONFIG, a file of NAME=value lines (the environment wins over it)
  --port N          PORT (default 3000; 0 picks a free port)
  --host ADDR       HOST (default 127.0.0.1)
  --data-dir DIR    BOTFLOW_DATA_DIR, the embedded statistics store (default ./data)
  --scenarios DIR   BOTFLOW_SCENARIOS_DIR (default the bundled scenarios/)
  --scenario ID     BOTFLOW_SCENARIO, what a new conversation starts (default csat)
With REDIS_URL and DATABASE_URL set it runs in production mode. Logs go to stdout: readable
lines on a terminal, else JSON lines (BOTFLOW_LOG_FORMAT=auto|json|pretty); each HTTP request is
a debug line (BOTFLOW_LOG_LEVEL=debug). The URLs to open and start-up errors go to stderr. SIGTERM/SIGINT shut down gracefully,
SIGHUP reloads the scenarios. An unhandled promise rejection is logged and serving goes on; an
uncaught exception is logged, then the same shutdown, exit 1. Exit 0 after a clean shutdown,
1 when it cannot start or stop.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args,
      options: {
        config: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "data-dir": { type: "string" },
        scenarios: { type: "string" },
        scenario: { type: "string" },
      },
      allowPositionals: false,
    },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  // Loaded only now: the web process's modules (fastify, the channels' SDKs) are what --help does not need.
  const { serveProcess } = await import("../../app/serve-process.ts");
  return serveProcess({
    env: io.env,
    cwd: io.cwd,
    ...(v.config !== undefined ? { configFile: v.config } : {}),
    overrides: {
      ...(v.port !== undefined ? { port: v.port } : {}),
      ...(v.host !== undefined ? { host: v.host } : {}),
      ...(v["data-dir"] !== undefined ? { dataDir: v["data-dir"] } : {}),
      ...(v.scenarios !== undefined ? { scenariosDir: v.scenarios } : {}),
      ...(v.scenario !== undefined ? { scenario: v.scenario } : {}),
    },
    stdout: io.stdout,
    stderr: io.stderr,
    // Signals are the one thing of the process serve needs beyond CliIo.
    host: { on: (s, l) => process.on(s, l), off: (s, l) => process.off(s, l), exit: (code) => process.exit(code) },
  });
}
