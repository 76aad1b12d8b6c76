/**
 * One scenario-id pattern (engine/schema): an id that loads (`csat.v2`) is an id that
 * BOTFLOW_SCENARIO, BOTFLOW_<CHANNEL>_SCENARIO, a web chat start frame and a Telegram deep link accept.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.ts";
import { parseUpdate } from "../../channels/telegram/inbound.ts";
import { parseClientFrame } from "../../channels/webchat/protocol.ts";
import { isScenarioId } from "../../engine/schema/scenario-schema.ts";
import { startTestApp, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { ChatClient } from "../app/ws-client.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startUpdate } from "./telegram-updates.ts";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));
let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe("scenario ids", () => {
  it("are one pattern: dots and dashes are fine, spaces and leading dots are not", () => {
    for (const id of ["csat", "csat.v2", "nps-2026", "_draft"]) expect(isScenarioId(id), id).toBe(true);
    for (const id of ["", "no spaces please", ".hidden", "x".repeat(65), "ünïcode"]) expect(isScenarioId(id), id).toBe(false);
  });

  it("csat.v2 is accepted by BOTFLOW_SCENARIO, every BOTFLOW_<CHANNEL>_SCENARIO, a start frame and a /start deep link", () => {
    const config = loadConfig({ BOTFLOW_SCENARIO: "csat.v2", BOTFLOW_TELEGRAM_SCENARIO: "csat.v2", BOTFLOW_WHATSAPP_CLOUD_SCENARIO: "csat.v2", BOTFLOW_WHATSAPP_SCENARIO: "csat.v2", BOTFLOW_WEBCHAT_SCENARIO: "csat.v2" }, { cwd: tmpdir() });
    expect(config.scenarioId).toBe("csat.v2");
    expect(config.channelScenarios).toEqual({ webchat: "csat.v2", telegram: "csat.v2", "whatsapp-cloud": "csat.v2", whatsapp: "csat.v2" });
    expect(parseClientFrame(JSON.stringify({ type: "start", id: "s1", scenarioId: "csat.v2" }), false)).toEqual({ ok: true, frame: { type: "start", id: "s1", scenarioId: "csat.v2" } });
    const parsed = parseUpdate(startUpdate(401_000_001, "csat.v2"));
    expect(parsed).toMatchObject({ ok: true, events: [{ kind: "start", scenarioId: "csat.v2" }] });
  });

  it("a web process started with BOTFLOW_SCENARIO=csat.v2 runs it, and a start frame can ask for it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-ids-"));
    const csat = await readFile(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");
    await writeFile(path.join(dir, "csat-v2.yaml"), csat.replace(/^id: csat$/m, "id: csat.v2"));
    t = await startTestApp({ BOTFLOW_SCENARIOS_DIR: dir, BOTFLOW_SCENARIO: "csat.v2" }, { surveyStore: store });
    expect(t.app.scenarios.list().map((s) => s.id)).toEqual(["csat.v2"]);
    const { url } = await t.app.listen();
    const chat = await ChatClient.connect(url);
    chat.send({ type: "hello" });
    await chat.next(1);
    chat.send({ type: "start", id: "s1", scenarioId: "csat.v2" });
    const frames = await chat.next(2);
    expect(frames).toEqual([expect.objectContaining({ type: "message", promptId: "p1" }), { type: "ack", id: "s1", status: "processed" }]);
    chat.ws.close();
  });
});
