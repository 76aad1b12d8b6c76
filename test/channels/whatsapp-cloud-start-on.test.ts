/**
 * WhatsApp Cloud first messages and a scenario's `start_on` (issue 15): an image, a location, a
 * contact card or another template's quick reply starts only a `start_on: any` scenario; typed
 * text starts `text` (the default) and `any`; nothing a user sends starts `never`, which only a
 * trigger starts. Signed, real-shaped webhook payloads (test/fixtures/whatsapp-cloud/) posted to
 * the whole web process; the local fake Graph API records what goes out.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseWebhook, signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { startsOnMessage } from "../../engine/start-on.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { API_TOKEN, trigger, until } from "../triggers/trigger-api-harness.ts";
import { FakeGraph } from "./whatsapp-cloud-fake-graph.ts";

const PHONE_NUMBER_ID = "106540352242922";
const APP_SECRET = "start-on-app-secret-8f14e45fceea167a5a36";
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
const QUESTION = "How did we do?";

type Message = Record<string, unknown>;
type Payload = { entry: { changes: { value: { messages?: Message[] } }[] }[] };

/** `name`'s message from `from`, sent now, with a fresh id (and `fields` over it). */
async function messageFrom(name: string, from: string, fields: Message = {}): Promise<Payload> {
  const p = JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
  const m = p.entry[0]?.changes[0]?.value.messages?.[0] as Message;
  Object.assign(m, { from, id: `wamid.${randomUUID()}`, timestamp: String(Math.floor(Date.now() / 1000)), ...fields });
  return p;
}

/** What is not typed text: each opens a survey only under `start_on: any`. */
const NOT_TEXT: [string, Message][] = [
  ["image-message.json", {}],
  ["location-message.json", {}],
  ["contacts-message.json", {}],
  // Another template's quick reply (a marketing message's button), not botflow's payload.
  ["template-button.json", { button: { payload: "PROMO_YES", text: "Yes, tell me more" } }],
];

/** A one-question scenario with `start_on` as given (omitted: the default). */
function scenario(id: string, startOn: string | undefined): string {
  return `id: ${id}
${startOn !== undefined ? `start_on: ${startOn}\n` : ""}start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: ${QUESTION}
    buttons:
      - { label: "👍", value: 100 }
      - { label: "👎", value: 0 }
    save_to: quality_answer
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: bye
  bye:
    type: end
    text: Thanks!
`;
}

let store: PgliteSurveyStore;
let scenarios = "";
beforeAll(async () => {
  store = await openSharedStore();
  scenarios = await mkdtemp(path.join(tmpdir(), "botflow-start-on-"));
  await writeFile(path.join(scenarios, "csat.yaml"), await readFile(new URL("../../scenarios/csat.yaml", import.meta.url), "utf8"));
  for (const [id, startOn] of [["first_any", "any"], ["first_text", "text"], ["first_default", undefined], ["first_never", "never"]] as const) {
    await writeFile(path.join(scenarios, `${id}.yaml`), scenario(id, startOn));
  }
});
afterAll(async () => {
  await store?.close();
  await rm(scenarios, { recursive: true, force: true });
});

let t: TestApp | undefined;
let graph: FakeGraph | undefined;
let url = "";
afterEach(async () => {
  await t?.dispose();
  await graph?.stop();
  t = undefined;
  graph = undefined;
});

/** The web process with WhatsApp Cloud starting `scenarioId` on a first message. */
async function start(scenarioId: string): Promise<FakeGraph> {
  const g = (graph = await new FakeGraph().start());
  t = await startTestApp(
    {
      WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-start-on-access-token-c4ca4238a0b9",
      WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
      WHATSAPP_CLOUD_VERIFY_TOKEN: "start-on-verify-token",
      WHATSAPP_CLOUD_API_ROOT: g.apiRoot,
      BOTFLOW_SCENARIOS_DIR: scenarios,
      BOTFLOW_WHATSAPP_CLOUD_SCENARIO: scenarioId,
      BOTFLOW_TOKEN: API_TOKEN,
    },
    { surveyStore: store },
  );
  url = (await t.app.listen()).url;
  return g;
}

async function post(payload: unknown): Promise<void> {
  const raw = JSON.stringify(payload);
  const res = await fetch(`${url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) }, body: raw });
  await res.text();
  expect(res.status).toBe(200);
}

function user(): string {
  return `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
}

/** The question's body text of each interactive message sent to `to`. */
function questionsTo(g: FakeGraph, to: string): string[] {
  return g.sentTo(to).flatMap((m) => (m.type === "interactive" ? [(m.interactive as { body: { text: string } }).body.text] : []));
}

describe("parseWebhook marks what is not typed text", () => {
  it("marks an image, a location, a contact card and another template's button nonText; typed text and botflow's own buttons are not", async () => {
    const o = { phoneNumberId: PHONE_NUMBER_ID, scenarioId: "first_any" };
    for (const [name, fields] of NOT_TEXT) {
      const parsed = parseWebhook(await messageFrom(name, "16505551234", fields), o);
      expect(parsed, name).toMatchObject({ ok: true, events: [{ kind: "text", startIfIdle: true, nonText: true, scenarioId: "first_any" }] });
    }
    const text = parseWebhook(await messageFrom("text-message.json", "16505551234"), o);
    expect(text).toMatchObject({ events: [{ kind: "text", text: "Does it come in another color?", startIfIdle: true }] });
    expect((text as { events: object[] }).events[0]).not.toHaveProperty("nonText");
    // botflow's own template button answers its question (a choice), whatever start_on says.
    expect(parseWebhook(await messageFrom("template-button.json", "16505551234"), o)).toMatchObject({ events: [{ kind: "choice", promptId: "p1", buttonIndex: 3 }] });
  });

  it("starts on a message as start_on says: any, text (the default), never", () => {
    expect([startsOnMessage("any", {}), startsOnMessage("any", { nonText: true })]).toEqual([true, true]);
    expect([startsOnMessage("text", {}), startsOnMessage("text", { nonText: true })]).toEqual([true, false]);
    expect([startsOnMessage(undefined, {}), startsOnMessage(undefined, { nonText: true })]).toEqual([true, false]);
    expect([startsOnMessage("never", {}), startsOnMessage("never", { nonText: true })]).toEqual([false, false]);
  });

  it("loads each start_on, and refuses a value it does not know at its line", () => {
    for (const value of ["any", "text", "never"]) expect(loadScenarioText(scenario("first_ok", value), "first_ok.yaml").scenario?.def.start_on).toBe(value);
    const { scenario: loaded, problems } = loadScenarioText(scenario("first_bad", "media"), "first_bad.yaml");
    expect(loaded).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ line: 2, col: 11, severity: "error", message: 'start_on: "media" is not allowed; use "any" or "text" or "never"' })]);
  });
});

describe("WhatsApp Cloud: an image as the first message, for each start_on", () => {
  it("start_on: any — the image starts the survey", async () => {
    const g = await start("first_any");
    const from = user();
    await post(await messageFrom("image-message.json", from));
    expect(questionsTo(g, from)).toEqual([QUESTION]);
    // It is a survey like any other: the tap records it.
    await post(await messageFrom("button-reply.json", from, { interactive: { type: "button_reply", button_reply: { id: "bf1|p1|0", title: "👍" } } }));
    await until(async () => (await storedDialogue(store, from))?.score === 100);
  });

  for (const [label, id] of [["start_on: text", "first_text"], ["no start_on (the default, text)", "first_default"]] as const) {
    it(`${label} — an image, a location, a contact card or another template's button starts nothing; typed text does`, async () => {
      const g = await start(id);
      const from = user();
      for (const [name, fields] of NOT_TEXT) await post(await messageFrom(name, from, fields));
      expect(g.sentTo(from)).toEqual([]);
      await post(await messageFrom("text-message.json", from, { text: { body: "Hi" } }));
      expect(questionsTo(g, from)).toEqual([QUESTION]);
    });
  }

  it("start_on: never — neither the image nor typed text starts it; a trigger does, and the answer is recorded", async () => {
    const g = await start("first_never");
    const from = user();
    await post(await messageFrom("image-message.json", from));
    await post(await messageFrom("text-message.json", from, { text: { body: "Hi" } }));
    expect(g.sentTo(from)).toEqual([]);
    // The image opened the 24-hour window, so the triggered question goes out as an ordinary one.
    const answer = await trigger(url, { channel: "whatsapp-cloud", to: from, scenario: "first_never", key: `never-${from}` });
    expect(answer.status).toBe(202);
    await until(() => questionsTo(g, from)[0]);
    expect(questionsTo(g, from)).toEqual([QUESTION]);
    await post(await messageFrom("button-reply.json", from, { interactive: { type: "button_reply", button_reply: { id: "bf1|p1|1", title: "👎" } } }));
    await until(async () => (await storedDialogue(store, from))?.score === 0);
  });
});
