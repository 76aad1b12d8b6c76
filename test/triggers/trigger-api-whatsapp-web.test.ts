/**
 * The trigger API through the whole web process on WhatsApp Web (whatsapp-web.js behind the
 * fake client, logged in): a registered number is sent the rating prompt unprompted, their typed
 * replies (real-shaped `message` events) complete the survey with the trigger's variables
 * recorded; a number not on WhatsApp is a 404, and a `to` that is no chat id a 422, recording nothing.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { fakeFactory, type FakeWebClient } from "../channels/whatsapp-web-fake-client.ts";
import { API_TOKEN, expectNothingRecorded, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const RATING_PROMPT = `Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).\n\nReply 1–5, or "Skip".`;
const COMMENT_PROMPT = 'Thank you! Would you like to add a comment to your rating?\n\nType your answer, or "No comment".';
const THANKS = "Thank you for your feedback!";
const COMMENT = "The parcel came a day early";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

async function start(): Promise<{ app: TestApp; client: FakeWebClient; url: string }> {
  const factory = fakeFactory();
  t = await startTestApp({ WHATSAPP_WEB_ENABLED: "1", BOTFLOW_TOKEN: API_TOKEN }, { surveyStore: store, whatsappWebClient: factory.create });
  const { url } = await t.app.listen();
  const client = factory.clients[0] as FakeWebClient;
  client.emit("ready");
  return { app: t, client, url };
}

function chat(): string {
  return `38050${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}@c.us`;
}

describe("POST /api/dialogues on WhatsApp Web", () => {
  it("sends the rating prompt unprompted to a registered number; the typed replies complete the survey with the trigger's variables and id", async () => {
    const { app, client, url } = await start();
    const to = chat();
    const key = `T-${randomUUID()}`;
    const variables = { agent: "olena", team: "delivery", ticket: key };
    const answer = await trigger(url, { channel: "whatsapp", to, scenario: "csat", key, variables });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ result: "started", channel: "whatsapp", to, scenario: "csat", key, variables });
    const id = answer.body.id as string;

    expect((await until(() => client.to(to)[0]))?.text).toBe(RATING_PROMPT);
    await untilState(url, id, "sent");

    client.text(to, "4");
    expect((await until(() => client.to(to)[1]))?.text).toBe(COMMENT_PROMPT);
    client.text(to, COMMENT);
    expect((await until(() => client.to(to)[2]))?.text).toBe(THANKS);

    const row = await until(() => storedDialogue(store, to).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "whatsapp", conversationId: to, scenarioId: "csat", score: 4, comment: COMMENT, completed: true, triggerId: id, context: variables });
    expect(await triggerState(url, id)).toMatchObject({ id, state: "completed", key });
    expect(await app.app.services.triggerStore?.byKey(key)).toMatchObject({ id }); // what the refusal tests find absent
  });

  it("answers 404 for a number that is not on WhatsApp, and records and sends nothing", async () => {
    const { app, client, url } = await start();
    const to = chat();
    client.unregistered.add(to);
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "whatsapp", to, scenario: "csat", key, variables: { agent: "olena" } });
    expect(answer).toMatchObject({ status: 404, body: { error: "unknown_recipient", field: "to", message: "this number is not on WhatsApp" } });
    await new Promise((r) => setTimeout(r, 200));
    expect(client.to(to)).toEqual([]);
    await expectNothingRecorded(app.app, store, key, to);
  });

  it("answers 422 for a `to` that is no chat id (a bare number), and records and sends nothing", async () => {
    const { app, client, url } = await start();
    const to = chat().replace("@c.us", "");
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "whatsapp", to, scenario: "csat", key });
    expect(answer).toMatchObject({ status: 422, body: { error: "unknown_recipient", field: "to" } });
    expect(answer.body.message).toContain("@c.us");
    await new Promise((r) => setTimeout(r, 200));
    expect(client.sent).toEqual([]);
    await expectNothingRecorded(app.app, store, key, to);
  });
});
