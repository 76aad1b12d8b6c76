/**
 * `botflow worker` and `botflow stats` read their settings through app/config.ts, with the web
 * process's validators: the same value is refused the same way by every process.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, loadStoreConfig, loadWorkerConfig } from "../../app/config.ts";

const message = (fn: () => unknown): string => {
  try {
    fn();
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("worker and statistics settings", () => {
  it("reads the queue, schema and log level like serve, flags winning over the environment", () => {
    expect(loadWorkerConfig({ REDIS_URL: "redis://127.0.0.1:6379", BOTFLOW_QUEUE: "surveys-eu", BOTFLOW_DB_SCHEMA: "stats_eu", BOTFLOW_LOG_LEVEL: "WARN", BOTFLOW_LOG_FORMAT: "JSON" }, { prefix: "eu:" })).toEqual({
      redisUrl: "redis://127.0.0.1:6379",
      queue: { name: "surveys-eu", prefix: "eu:" },
      dbSchema: "stats_eu",
      logLevel: "warn",
      logFormat: "json",
    });
  });

  it("refuses what serve refuses, with the same words, never quoting a password", () => {
    const bad = { REDIS_URL: "http://:hunter2@127.0.0.1", DATABASE_URL: "postgres://u@h/db", BOTFLOW_QUEUE: "no spaces", BOTFLOW_DB_SCHEMA: "Bad-Schema", BOTFLOW_LOG_LEVEL: "loud", BOTFLOW_LOG_FORMAT: "fancy" };
    const worker = message(() => loadWorkerConfig(bad));
    const serve = message(() => loadConfig(bad, { cwd: tmpdir() }));
    for (const problem of ['BOTFLOW_QUEUE "no spaces" is not a queue name', 'BOTFLOW_DB_SCHEMA "Bad-Schema" is not a schema name', 'BOTFLOW_LOG_LEVEL "loud" is not a log level', 'BOTFLOW_LOG_FORMAT "fancy" is not a log format: use one of auto, json, pretty', "REDIS_URL http://:***@127.0.0.1"]) {
      expect(worker).toContain(problem);
      expect(serve).toContain(problem);
    }
    expect(worker + serve).not.toContain("hunter2");
  });

  it("finds the statistics store for botflow stats: DATABASE_URL checked, the data folder resolved", () => {
    expect(loadStoreConfig({ BOTFLOW_DATA_DIR: "stats-data" }, { cwd: "/srv/botflow" })).toEqual({ dataDir: path.resolve("/srv/botflow", "stats-data") });
    expect(loadStoreConfig({ DATABASE_URL: "postgres://u@h/db" }, { cwd: "/srv", schema: "s1", dataDir: "d" })).toEqual({ databaseUrl: "postgres://u@h/db", dbSchema: "s1", dataDir: "/srv/d" });
    expect(message(() => loadStoreConfig({ DATABASE_URL: "mysql://u@h/db" }, { cwd: "/srv" }))).toContain("DATABASE_URL mysql://u@h/db is not a PostgreSQL URL");
  });
});
