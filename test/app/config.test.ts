import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCENARIOS_DIR, loadConfig } from "../../app/config.ts";
import { parseConfigFile } from "../../app/config-file.ts";
import { ConfigError } from "../../engine/errors.ts";

const cwd = "/srv/botflow";

function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env, { cwd });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("loadConfig accepted a bad configuration");
}

describe("loadConfig", () => {
  it("runs the embedded default with no configuration at all", () => {
    const c = loadConfig({}, { cwd });
    expect(c).toMatchObject({
      mode: "embedded",
      host: "127.0.0.1",
      port: 3000,
      dataDir: path.join(cwd, "data"),
      scenariosDir: DEFAULT_SCENARIOS_DIR,
      scenarioId: "csat",
      logLevel: "info",
      production: false,
      watchScenarios: true,
      sweepIntervalMs: 5000,
      shutdownTimeoutMs: 10000,
      warnings: [],
    });
    expect(c.redisUrl).toBeUndefined();
  });

  it("reads every variable it documents", () => {
    const c = loadConfig(
      {
        PORT: "0",
        HOST: "0.0.0.0",
        NODE_ENV: "production",
        BOTFLOW_DATA_DIR: "var/stats",
        BOTFLOW_SCENARIOS_DIR: "/etc/botflow/scenarios",
        BOTFLOW_SCENARIO: "csat_emoji",
        BOTFLOW_LOG_LEVEL: "WARN",
        BOTFLOW_SWEEP_INTERVAL: "500ms",
        BOTFLOW_SHUTDOWN_TIMEOUT: "30",
        REDIS_URL: "redis://127.0.0.1:6379",
        DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
      },
      { cwd },
    );
    expect(c).toMatchObject({
      mode: "production",
      port: 0,
      host: "0.0.0.0",
      production: true,
      watchScenarios: false,
      dataDir: path.join(cwd, "var/stats"),
      scenariosDir: "/etc/botflow/scenarios",
      scenarioId: "csat_emoji",
      logLevel: "warn",
      sweepIntervalMs: 500,
      shutdownTimeoutMs: 30000,
      redisUrl: "redis://127.0.0.1:6379",
      databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
    });
  });

  it("lets command-line flags win over the environment", () => {
    const c = loadConfig({ PORT: "4000", BOTFLOW_SCENARIO: "csat" }, { cwd, overrides: { port: "5000", host: "::1", dataDir: "d", scenariosDir: "s", scenario: "csat_emoji" } });
    expect(c).toMatchObject({ port: 5000, host: "::1", dataDir: path.join(cwd, "d"), scenariosDir: path.join(cwd, "s"), scenarioId: "csat_emoji" });
  });

  it("names an unknown BOTFLOW_ variable and guesses what was meant", () => {
    expect(problemOf({ BOTFLOW_SCENARO: "csat" })).toContain("unknown variable BOTFLOW_SCENARO: did you mean BOTFLOW_SCENARIO?");
    expect(problemOf({ BOTFLOW_DATADIR: "x" })).toContain("did you mean BOTFLOW_DATA_DIR?");
    expect(problemOf({ BOTFLOW_COMPLETELY_ELSE: "x" })).toMatch(/unknown variable BOTFLOW_COMPLETELY_ELSE: known ones: BOTFLOW_DATA_DIR, .*BOTFLOW_SCENARIO/);
  });

  it("only warns about a near miss of a variable without the BOTFLOW_ prefix", () => {
    const c = loadConfig({ REDIS_ULR: "redis://x", HOSTNAME: "box", PATH: "/bin" }, { cwd });
    expect(c.warnings).toEqual(["variable REDIS_ULR is not read by botflow; did you mean REDIS_URL?"]);
  });

  it.each([["abc"], ["70000"], ["-1"], ["80.5"]])("rejects PORT=%s with how to fix it", (port) => {
    expect(problemOf({ PORT: port })).toContain(`PORT "${port}" is not a port: use a whole number from 0 to 65535`);
  });

  it("names the flag, not the variable, when --port is bad", () => {
    expect(() => loadConfig({}, { cwd, overrides: { port: "http" } })).toThrow('--port "http" is not a port');
  });

  it("reports every problem at once", () => {
    const message = problemOf({ PORT: "x", BOTFLOW_LOG_LEVEL: "loud", BOTFLOW_WATCH: "maybe", BOTFLOW_SWEEP_INTERVAL: "soon", BOTFLOW_SCENARIO: "no spaces please" });
    expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(5);
    expect(message).toContain('BOTFLOW_LOG_LEVEL "loud" is not a log level');
    expect(message).toContain('BOTFLOW_WATCH "maybe" is not a boolean');
    expect(message).toContain('BOTFLOW_SWEEP_INTERVAL "soon" is not a duration');
    expect(message).toContain('BOTFLOW_SCENARIO "no spaces please" is not a scenario id');
  });

  it("needs REDIS_URL and DATABASE_URL together for production", () => {
    expect(problemOf({ REDIS_URL: "redis://127.0.0.1:6379" })).toContain("REDIS_URL is set but DATABASE_URL is not");
    expect(problemOf({ DATABASE_URL: "postgres://127.0.0.1/x" })).toContain("DATABASE_URL is set but REDIS_URL is not");
  });

  it("checks the URLs' protocols without printing their passwords", () => {
    const message = problemOf({ REDIS_URL: "http://user:hunter2@cache:6379", DATABASE_URL: "mysql://root:s3cret@db/x" });
    expect(message).toContain("REDIS_URL http://user:***@cache:6379/ is not a Redis URL: start it with redis:// or rediss://");
    expect(message).toContain("DATABASE_URL mysql://root:***@db/x is not a PostgreSQL URL: start it with postgres:// or postgresql://");
    expect(message).not.toMatch(/hunter2|s3cret/);
    expect(problemOf({ REDIS_URL: "not a url", DATABASE_URL: "postgres://db/x" })).toContain("REDIS_URL is not a URL");
  });

  it("shares the queue and schema variables with botflow worker, and checks them", () => {
    expect(loadConfig({}, { cwd })).toMatchObject({ queueName: "botflow-surveys", queuePrefix: "bull", statePrefix: "botflow:" });
    const c = loadConfig({ BOTFLOW_QUEUE: "surveys-eu", BOTFLOW_QUEUE_PREFIX: "eu", BOTFLOW_STATE_PREFIX: "eu:state:", BOTFLOW_DB_SCHEMA: "stats_eu", BOTFLOW_DEBUG: "1" }, { cwd });
    expect(c).toMatchObject({ queueName: "surveys-eu", queuePrefix: "eu", statePrefix: "eu:state:", dbSchema: "stats_eu" });
    const message = problemOf({ BOTFLOW_QUEUE: "a b", BOTFLOW_STATE_PREFIX: "{s1}", BOTFLOW_DB_SCHEMA: "Drop Table" });
    expect(message).toContain('BOTFLOW_QUEUE "a b" is not a queue name');
    expect(message).toContain('BOTFLOW_STATE_PREFIX "{s1}" is not a key prefix');
    expect(message).toContain('BOTFLOW_DB_SCHEMA "Drop Table" is not a schema name');
  });

  it("takes a BOTFLOW_TOKEN of 16 characters or more, and never echoes a short one", () => {
    expect(loadConfig({ BOTFLOW_TOKEN: "0123456789abcdef" }, { cwd }).token).toBe("0123456789abcdef");
    const message = problemOf({ BOTFLOW_TOKEN: "hunter2" });
    expect(message).toContain("BOTFLOW_TOKEN is shorter than 16 characters");
    expect(message).not.toContain("hunter2");
  });

  it("reads a configuration file of NAME=value lines; the environment wins over it", () => {
    const file = parseConfigFile(
      ['# botflow.env', "export PORT=8080", 'BOTFLOW_SCENARIO="csat_emoji"', "HOST = 0.0.0.0   # every interface", "", "BOTFLOW_LOG_LEVEL='debug'"].join("\n"),
      "botflow.env",
    );
    expect(file.vars).toEqual({ PORT: "8080", BOTFLOW_SCENARIO: "csat_emoji", HOST: "0.0.0.0", BOTFLOW_LOG_LEVEL: "debug" });
    const c = loadConfig({ PORT: "9090", BOTFLOW_LOG_LEVEL: "" }, { cwd, file });
    expect(c).toMatchObject({ port: 9090, host: "0.0.0.0", scenarioId: "csat_emoji", logLevel: "debug" });
  });

  it("names the file and line of a bad configuration file entry", () => {
    expect(() => parseConfigFile("PORT=1\nthis is not it\nPORT=2\n", "prod.env")).toThrow(/prod\.env:2: not a NAME=value line\n.*prod\.env:3: PORT is set twice \(first on line 1\)/);
    const file = parseConfigFile("\nBOTFLOW_SCENARO=csat\nPROT=80\nBOTFLOW_CONFIG=other.env\n", "prod.env");
    const message = (() => {
      try {
        loadConfig({}, { cwd, file });
      } catch (err) {
        return (err as Error).message;
      }
      return "";
    })();
    expect(message).toContain("prod.env:2: unknown variable BOTFLOW_SCENARO: did you mean BOTFLOW_SCENARIO?");
    expect(message).toContain("prod.env:3: unknown variable PROT: did you mean PORT?");
    expect(message).toContain("prod.env:4: BOTFLOW_CONFIG cannot name another file from inside one");
  });

  it("treats blank variables as unset", () => {
    expect(loadConfig({ PORT: "", BOTFLOW_SCENARIO: "  " }, { cwd })).toMatchObject({ port: 3000, scenarioId: "csat" });
  });
});
