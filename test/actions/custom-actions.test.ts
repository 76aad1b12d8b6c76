/**
 * Custom actions (BOTFLOW_ACTIONS): the one loader refuses a bad module with a clear message,
 * and `botflow validate`, `run`, `chat` and `serve` all see the actions of the documented example
 * module (examples/actions/support-actions.js): its config checked with line:col, its run saving
 * variables and failing into on_error.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILT_IN_ACTION_NAMES } from "../../actions/index.ts";
import { loadCustomActions } from "../../actions/load-custom-actions.ts";
import { parseConfigFile } from "../../app/config-file.ts";
import { loadActionSettings, loadConfig } from "../../app/config.ts";
import { ConfigError } from "../../engine/errors.ts";
import { startTestApp, useSharedStore } from "../app/app-harness.ts";
import { ChatClient } from "../app/ws-client.ts";
import { ROOT, runCli } from "../cli/run-cli.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";

const EXAMPLE = path.join(ROOT, "examples/actions/support-actions.js");
const AFTER_HOURS = "examples/actions/after-hours.yaml";
const FIXTURES = path.join(ROOT, "test/actions/fixtures");
const ENV = { BOTFLOW_ACTIONS: "./examples/actions/support-actions.js" };

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-custom-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function loadError(modules: string[]): Promise<string> {
  const err = await loadCustomActions(modules, BUILT_IN_ACTION_NAMES).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
}

describe("loading custom action modules", () => {
  it("reads the example module's default export", async () => {
    const actions = await loadCustomActions([EXAMPLE], BUILT_IN_ACTION_NAMES);
    expect(actions.map((a) => a.name)).toEqual(["support__business_hours", "support__order_ref"]);
  });

  it("refuses every bad definition at once, saying what each lacks", async () => {
    const file = path.join(FIXTURES, "bad-actions.js");
    expect((await loadError([file])).split("\n")).toEqual([
      "custom actions (BOTFLOW_ACTIONS) cannot be loaded:",
      `  - ${file} (default export [0]): action "acme__no_run" needs run (a function of config and context)`,
      `  - ${file} (default export [1]): action "http__request" is a built-in action's name; give yours another, e.g. "myorg__http_request"`,
      expect.stringMatching(new RegExp(`^  - ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(default export \\[2\\]\\): action "acme__bad_schema": configSchema is not a valid JSON Schema \\(.+\\)$`)),
      `  - ${file} (default export [3]): the definition needs name (a string)`,
      `  - ${file} (default export [4]): action name "Acme Bad" must be lower-case letters, digits and _ starting with a letter (e.g. crm__create_ticket)`,
    ]);
  });

  it("refuses a missing file, a module that throws, one without a default export, and a name two modules define", async () => {
    const message = await loadError([path.join(FIXTURES, "nope.js"), path.join(FIXTURES, "throws.js"), path.join(FIXTURES, "named-only.js"), EXAMPLE, path.join(FIXTURES, "duplicate.js")]);
    expect(message).toContain(`${path.join(FIXTURES, "nope.js")}: no such file; check the path`);
    expect(message).toContain(`${path.join(FIXTURES, "throws.js")}: cannot load the module (the CRM client could not start)`);
    expect(message).toContain(`${path.join(FIXTURES, "named-only.js")}: exports no action; export default [ { name, description, configSchema, run } ] (see examples/actions/)`);
    expect(message).toContain(`${path.join(FIXTURES, "duplicate.js")} (default export [0]): action "support__order_ref" is also defined by ${EXAMPLE} (default export [1])`);
  });

  it("resolves BOTFLOW_ACTIONS against the working directory, or the configuration file's folder when it is set there", async () => {
    expect(loadActionSettings({ BOTFLOW_ACTIONS: "./a.js, lib/b.mjs" }, { cwd: "/srv/bot" }).modules).toEqual(["/srv/bot/a.js", "/srv/bot/lib/b.mjs"]);
    const file = parseConfigFile("BOTFLOW_ACTIONS=./actions/crm.js\n", "conf/botflow.env");
    expect(loadActionSettings({}, { cwd: "/srv/bot", file }).modules).toEqual(["/srv/bot/conf/actions/crm.js"]);
    expect(loadActionSettings({ BOTFLOW_ACTIONS: "./env.js" }, { cwd: "/srv/bot", file }).modules).toEqual(["/srv/bot/env.js"]);
    expect(loadConfig({}, { cwd: "/srv/bot", file }).actions.modules).toEqual(["/srv/bot/conf/actions/crm.js"]);
  });
});

describe("botflow validate with custom actions", () => {
  it("accepts the example scenario with the example module, and refuses its actions without it", async () => {
    const ok = await runCli(["validate", AFTER_HOURS], { env: ENV });
    expect(ok.stdout).toBe("1 file: 1 valid, 0 invalid (0 errors, 0 warnings)\n");
    expect(ok.code).toBe(0);
    const without = await runCli(["validate", AFTER_HOURS]);
    expect(without.code).toBe(1);
    expect(without.stdout).toContain(`${AFTER_HOURS}:13:13: error: block "hours": unknown action "support__business_hours"; known actions: statistic__set, http__request`);
  });

  it("reports an invalid config for a custom action with line and column: its JSON Schema and its own checks", async () => {
    const dir = await tempDir();
    const text = (await readFile(path.join(ROOT, AFTER_HOURS), "utf8"))
      .replace('config: { timezone: Europe/Kyiv, open: "09:00", close: "18:00", save_to: hours }', 'config: { timezone: Mars/Olympus, open: "09:00", close: "08:00", save_to: hours }')
      .replace("config: { from: typed_order, save_to: order_ref }", "config: { from: typed_order, save: order_ref }");
    await writeFile(path.join(dir, "after-hours.yaml"), text);
    const r = await runCli(["validate", "after-hours.yaml"], { cwd: dir, env: { BOTFLOW_ACTIONS: EXAMPLE } });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toEqual([
      'after-hours.yaml:14:25: error: block "hours" (support__business_hours): "Mars/Olympus" is not an IANA time zone; use one such as Europe/Kyiv',
      'after-hours.yaml:14:61: error: block "hours" (support__business_hours): close must be after open',
      'after-hours.yaml:31:5: error: block "normalise" (support__order_ref) config: missing required key "save_to"; add save_to: the variable that receives the reference',
      'after-hours.yaml:31:34: error: block "normalise" (support__order_ref) config: unknown key "save"; allowed keys: from, save_to',
      'after-hours.yaml:42:11: warning: block "thanks": {{order_ref}} names no saved variable and will show as empty; use a save_to variable',
      "1 file: 0 valid, 1 invalid (4 errors, 1 warning)",
    ]);
  });

  it("stops with the loader's message when a module is bad", async () => {
    const r = await runCli(["validate", AFTER_HOURS], { env: { BOTFLOW_ACTIONS: path.join(FIXTURES, "named-only.js") } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("custom actions (BOTFLOW_ACTIONS) cannot be loaded:");
    expect(r.stderr).toContain("named-only.js: exports no action");
  });
});

describe("botflow run and chat with custom actions", () => {
  it("run plays dialogues through them: variables saved, a failure takes on_error", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "d.json"), JSON.stringify([["#a-1234"], ["hello", "b 98 7"]]));
    const r = await runCli(["run", AFTER_HOURS, "--dialogues", path.join(dir, "d.json"), "--json"], { env: ENV });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as { messages: { text: string }[]; variables: Record<string, unknown>; ended: boolean }[];
    // The dialogues' clock starts at 2026-01-01 00:00 UTC, 02:00 in Kyiv: closed.
    expect(results[0]?.variables).toEqual({ hours: "closed", typed_order: "#a-1234", order_ref: "A1234" });
    expect(results[0]?.messages.at(-1)?.text).toBe("Thanks! We are looking into order A1234.");
    expect(results[1]?.messages.map((m) => m.text)).toContain("That does not look like an order reference; it is a letter and digits, e.g. A1234.");
    expect(results[1]?.variables.order_ref).toBe("B987");
    expect(results.every((x) => x.ended)).toBe(true);
  });

  it("chat talks through them", async () => {
    const r = await runCli(["chat", AFTER_HOURS], { env: ENV, stdin: "nope\n#c-4242\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("[support__order_ref failed: typed_order is not an order reference (a letter and 3–10 digits)]");
    expect(r.stdout).toContain("bot: Thanks! We are looking into order C4242.");
  });
});

describe("botflow serve with custom actions", () => {
  let store: PgliteSurveyStore;
  useSharedStore((s) => (store = s));
  const ORDER = `id: order_ref
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Your order reference?
    save_to: typed
    next: normalise
  normalise:
    type: action
    action: support__order_ref
    config: { from: typed, save_to: ref }
    next: thanks
    on_error: ask
  thanks:
    type: end
    text: "Looking into {{ref}}."
`;

  async function scenariosDir(): Promise<string> {
    const dir = await tempDir();
    await writeFile(path.join(dir, "order-ref.yaml"), ORDER);
    return dir;
  }

  it("the composed app loads the module and runs its action in a web chat dialogue", async () => {
    const t = await startTestApp({ BOTFLOW_ACTIONS: EXAMPLE, BOTFLOW_SCENARIOS_DIR: await scenariosDir(), BOTFLOW_SCENARIO: "order_ref" }, { surveyStore: store });
    cleanups.push(() => t.dispose());
    const { url } = await t.app.listen();
    const chat = await ChatClient.connect(url);
    cleanups.push(async () => chat.close());
    chat.send({ type: "hello" });
    await chat.next();
    /** The texts the bot sent in answer to frame `id`, up to its ack. */
    const answer = async (id: string): Promise<unknown[]> => {
      const texts: unknown[] = [];
      for (;;) {
        const [f] = await chat.next();
        if (f?.type === "message") texts.push(f.text);
        if (f?.type === "ack" && f.id === id) return texts;
      }
    };
    chat.send({ type: "start", id: "s1" });
    expect(await answer("s1")).toEqual(["Your order reference?"]);
    chat.send({ type: "text", text: "x", id: "t1" });
    expect(await answer("t1")).toEqual(["Your order reference?"]);
    chat.send({ type: "text", text: "#d-5151", id: "t2" });
    expect(await answer("t2")).toEqual(["Looking into D5151."]);
    expect(t.logs.some((l) => l.includes("custom actions loaded (BOTFLOW_ACTIONS)") && l.includes("support__order_ref"))).toBe(true);
  });

  it("does not start with a bad module, and says why", async () => {
    const failed = await startTestApp({ BOTFLOW_ACTIONS: path.join(FIXTURES, "bad-actions.js"), BOTFLOW_SCENARIOS_DIR: await scenariosDir(), BOTFLOW_SCENARIO: "order_ref" }, { surveyStore: store }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(ConfigError);
    expect((failed as Error).message).toContain('action "http__request" is a built-in action\'s name');
  });
});
