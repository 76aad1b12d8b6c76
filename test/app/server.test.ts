import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { composeApp } from "../../app/compose.ts";
import { DEFAULT_SCENARIOS_DIR, loadConfig } from "../../app/config.ts";
import { createLogger } from "../../app/logger.ts";
import { ConfigError } from "../../engine/errors.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { SurveyStore } from "../../stats/store/survey-store.ts";
import { useSharedStore, startTestApp as startWith, type TestApp } from "./app-harness.ts";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const startTestApp = (env: Record<string, string> = {}) => startWith(env, { surveyStore: store });

/** The shared store, with a switch that makes every call fail as a lost connection does. */
function switchableStore(inner: SurveyStore): SurveyStore & { down: boolean } {
  const s = {
    down: false,
    check() {
      if (s.down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
    },
    migrate: async () => (s.check(), inner.migrate()),
    apply: async (events: Parameters<SurveyStore["apply"]>[0]) => (s.check(), inner.apply(events)),
    figures: async (q: Parameters<SurveyStore["figures"]>[0]) => (s.check(), inner.figures(q)),
    groupedFigures: async (q: Parameters<SurveyStore["groupedFigures"]>[0]) => (s.check(), inner.groupedFigures(q)),
    listDialogues: async (q: Parameters<SurveyStore["listDialogues"]>[0]) => (s.check(), inner.listDialogues(q)),
    close: async () => {},
  };
  return s;
}

describe("the web server (fastify.inject)", () => {
  it("answers /healthz while the process is up", async () => {
    t = await startTestApp();
    const res = await t.app.server.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("is ready while the statistics store answers, says what is down with a 503, and recovers", async () => {
    const flaky = switchableStore(store);
    t = await startWith({}, { surveyStore: flaky });
    const ok = await t.app.server.inject({ method: "GET", url: "/readyz" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ready: true, checks: [{ name: "statistics-store", ok: true }] });

    flaky.down = true;
    const down = await t.app.server.inject({ method: "GET", url: "/readyz" });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ ready: false, checks: [{ name: "statistics-store", ok: false, error: "connect ECONNREFUSED 127.0.0.1:5432" }] });
    expect((await t.app.server.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);

    flaky.down = false;
    expect((await t.app.server.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("serves the chat page, its script and stylesheet with a strict content security policy", async () => {
    t = await startTestApp();
    const page = await t.app.server.inject({ method: "GET", url: "/chat" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.body).toContain('<script src="/chat/chat.js" defer></script>');
    expect(page.body).toContain('name="viewport"');
    expect(page.body).toMatch(/<main[^>]*role="log"[^>]*aria-live="polite"/);
    expect(page.body).toMatch(/<label for="text"/);
    const js = await t.app.server.inject({ method: "GET", url: "/chat/chat.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.body).toContain('"/chat/ws"');
    const css = await t.app.server.inject({ method: "GET", url: "/chat/chat.css" });
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
  });

  it("sends a visitor of / to the web chat and answers 404 for unknown paths", async () => {
    t = await startTestApp();
    const home = await t.app.server.inject({ method: "GET", url: "/" });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe("/chat");
    expect((await t.app.server.inject({ method: "GET", url: "/nope" })).statusCode).toBe(404);
  });

  it("reports not ready once shutdown begins", async () => {
    t = await startTestApp();
    await t.app.listen();
    const closing = t.app.close();
    const report = await t.app.readiness();
    expect(report).toEqual({ ready: false, checks: [{ name: "process", ok: false, error: "shutting down" }] });
    await closing;
  });

  it("reloads a scenario file that changes while running in development (BOTFLOW_WATCH)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-watch-"));
    try {
      const file = path.join(dir, "csat.yaml");
      await writeFile(file, await readFile(path.join(DEFAULT_SCENARIOS_DIR, "csat.yaml"), "utf8"));
      t = await startWith({ BOTFLOW_SCENARIOS_DIR: dir, BOTFLOW_WATCH: "true" }, { surveyStore: store });
      await t.app.listen();
      const before = t.app.scenarios.get("csat")?.version;
      await writeFile(file, (await readFile(file, "utf8")).replace("Thank you for your feedback!", "Thanks, watched!"));
      await expect.poll(() => t?.app.scenarios.get("csat")?.version, { timeout: 5_000 }).not.toBe(before);
      expect(t.app.scenarios.get("csat")?.def.blocks.thanks).toMatchObject({ text: { en: "Thanks, watched!" } });
    } finally {
      await t?.dispose();
      t = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("logs one JSON line per request at debug with the path but not the query string", async () => {
    t = await startTestApp();
    await t.app.server.inject({ method: "GET", url: "/chat?token=s3cret" });
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "request" && l.path === "/chat");
    expect(line).toMatchObject({ method: "GET", path: "/chat", status: 200, level: 20 });
    expect(t.logs.join("\n")).not.toContain("s3cret");
  });
});

describe("composeApp refuses to half-start", () => {
  async function startError(env: Record<string, string>, files: Record<string, string> = {}): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-compose-"));
    try {
      for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
      const config = loadConfig({ BOTFLOW_WATCH: "false", BOTFLOW_DATA_DIR: path.join(dir, "data"), ...env }, { cwd: dir });
      await composeApp(config, { logger: createLogger("silent") });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    throw new Error("composeApp started");
  }

  it("when the scenario a conversation starts is not loaded", async () => {
    const message = await startError({ BOTFLOW_SCENARIO: "nps" });
    expect(message).toBe('BOTFLOW_SCENARIO "nps" is not a loaded scenario: use one of csat, csat_branching, csat_emoji, support');
  });

  it("when the web chat's scenario is not loaded", async () => {
    expect(await startError({ BOTFLOW_WEBCHAT_SCENARIO: "nps" })).toBe('BOTFLOW_WEBCHAT_SCENARIO "nps" is not a loaded scenario: use one of csat, csat_branching, csat_emoji, support');
  });

  it("when the scenario folder does not exist", async () => {
    expect(await startError({ BOTFLOW_SCENARIOS_DIR: "missing" })).toMatch(/^scenario folder .*missing does not exist: set BOTFLOW_SCENARIOS_DIR/);
  });

  it("when the scenario folder has no scenario", async () => {
    expect(await startError({ BOTFLOW_SCENARIOS_DIR: "." }, { "notes.txt": "hi" })).toMatch(/^no scenario files \(\*\.yaml\) in /);
  });

  it("when a scenario does not load, with file:line:col", async () => {
    const broken = "id: broken\nstart: a\nblocks:\n  a:\n    type: message\n    text: hi\n    next: nowhere\n";
    const message = await startError({ BOTFLOW_SCENARIOS_DIR: ".", BOTFLOW_SCENARIO: "broken" }, { "broken.yaml": broken });
    expect(message).toMatch(/^scenarios in .* do not load; fix them/);
    expect(message).toMatch(/broken\.yaml:7:\d+: error: .*nowhere/);
  });

  it("when Redis and PostgreSQL are configured but unreachable, naming both", async () => {
    const message = await startError({ REDIS_URL: "redis://127.0.0.1:1", DATABASE_URL: "postgres://postgres:pw@127.0.0.1:1/test" });
    expect(message).toContain("Redis at redis://127.0.0.1:1 is not reachable");
    expect(message).toContain("start Redis or fix REDIS_URL");
    expect(message).toContain("PostgreSQL at postgres://postgres:***@127.0.0.1:1/test is not reachable");
    expect(message).not.toContain(":pw@");
  });
});
