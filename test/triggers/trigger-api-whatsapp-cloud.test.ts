/**
 * The trigger API through the whole web process on the WhatsApp Cloud API: signed, real-shaped
 * webhooks in, the local fake Graph API recording what goes out. Outside the user's 24-hour window
 * the configured template goes out and its quick-reply tap answers the rating; inside it the
 * usual interactive question; both complete the survey with the trigger's variables recorded.
 * A closed window without a template, and a `to` that is no WhatsApp id, are 422s that record nothing.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { FakeGraph } from "../channels/whatsapp-cloud-fake-graph.ts";
import { API_TOKEN, expectNothingRecorded, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const PHONE_NUMBER_ID = "106540352242922";
const ACCESS_TOKEN = "EAAG-trigger-access-token-6f1ed002ab5595859014";
const APP_SECRET = "trigger-app-secret-a87ff679a2f3e71d9181";
const VERIFY_TOKEN = "trigger-verify-token";
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const COMMENT = "Olena sorted the refund in five minutes";
const TEMPLATE_ENV = { WHATSAPP_CLOUD_TEMPLATE: "csat_request", WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: "en_US", WHATSAPP_CLOUD_TEMPLATE_PARAMETERS: '["{{name}}","{{question}}"]' };
const RATING_ROWS = ["1", "2", "3", "4", "5", "Skip"];

type Message = Record<string, unknown>;
type Payload = { entry: { changes: { value: { messages?: Message[] } }[] }[] };

/** A fixture's message from `from`, sent now (its timestamp opens the window), with a fresh id. */
async function messageFrom(name: string, from: string, fields: Message = {}): Promise<Payload> {
  const p = JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
  Object.assign(p.entry[0]?.changes[0]?.value.messages?.[0] as Message, { from, id: `wamid.${randomUUID()}`, timestamp: String(Math.floor(Date.now() / 1000)), ...fields });
  return p;
}

function user(): string {
  return `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
}

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
let graph: FakeGraph | undefined;
afterEach(async () => {
  await t?.dispose();
  await graph?.stop();
  t = undefined;
  graph = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ app: TestApp; graph: FakeGraph; url: string }> {
  graph = await new FakeGraph().start();
  t = await startTestApp(
    {
      WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
      WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN,
      WHATSAPP_CLOUD_API_ROOT: graph.apiRoot,
      BOTFLOW_TOKEN: API_TOKEN,
      ...env,
    },
    { surveyStore: store },
  );
  return { app: t, graph, url: (await t.app.listen()).url };
}

/** Posts a signed webhook and expects 200. */
async function post(url: string, payload: unknown): Promise<void> {
  const raw = JSON.stringify(payload);
  const res = await fetch(`${url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) }, body: raw });
  expect(res.status, await res.text()).toBe(200);
}

describe("POST /api/dialogues on the WhatsApp Cloud API", () => {
  it("outside the 24-hour window sends the configured template; its quick-reply tap answers the rating and the survey completes with the trigger's variables and id", async () => {
    const { app, graph, url } = await start(TEMPLATE_ENV);
    const to = user();
    const key = `T-${randomUUID()}`;
    const variables = { name: "Sheena", agent: "olena", ticket: key };
    const answer = await trigger(url, { channel: "whatsapp-cloud", to, scenario: "csat", key, variables });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ result: "started", channel: "whatsapp-cloud", to, scenario: "csat", key, variables });
    const id = answer.body.id as string;

    const first = await until(() => graph.sentTo(to)[0]);
    expect(first).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to,
      type: "template",
      template: {
        name: "csat_request",
        language: { code: "en_US" },
        components: [
          { type: "body", parameters: [{ type: "text", text: "Sheena" }, { type: "text", text: RATING_TEXT }] },
          ...RATING_ROWS.map((_, i) => ({ type: "button", sub_type: "quick_reply", index: String(i), parameters: [{ type: "payload", payload: `bf1|p1|${i}` }] })),
        ],
      },
    });
    await untilState(url, id, "sent");

    // The user taps "4" on the template: WhatsApp posts a `button` message with its payload.
    await post(url, await messageFrom("template-button.json", to, { button: { payload: "bf1|p1|3", text: "4" } }));
    // The tap opened the window: the comment question is a normal interactive message.
    const comment = await until(() => graph.sentTo(to)[1]);
    expect(comment).toMatchObject({ type: "interactive", interactive: { body: { text: COMMENT_TEXT } } });
    await post(url, await messageFrom("text-message.json", to, { text: { body: COMMENT } }));
    expect(await until(() => graph.sentTo(to)[2])).toMatchObject({ type: "text", text: { body: "Thank you for your feedback!" } });

    const row = await until(() => storedDialogue(store, to).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "whatsapp-cloud", conversationId: to, scenarioId: "csat", score: 4, comment: COMMENT, completed: true, triggerId: id, context: variables });
    expect(await triggerState(url, id)).toMatchObject({ id, state: "completed", key });
    expect(await app.app.services.triggerStore?.byKey(key)).toMatchObject({ id }); // what the refusal test finds absent
  });

  it("inside the window (the user reacted today) sends the interactive question; the list reply and 'No comment' complete the survey", async () => {
    const { graph, url } = await start(TEMPLATE_ENV);
    const to = user();
    // A reaction starts no survey, but the user wrote: the window is open.
    await post(url, await messageFrom("text-message.json", to, { type: "reaction", reaction: { message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjNFQjBCMEUzRjVFOTk1NjkA", emoji: "👍" }, text: undefined }));
    expect(graph.sentTo(to)).toEqual([]);

    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "whatsapp-cloud", to, scenario: "csat", key, variables: { team: "billing" } });
    expect(answer).toMatchObject({ status: 202, body: { result: "started" } });
    const id = answer.body.id as string;
    const first = await until(() => graph.sentTo(to)[0]);
    expect(first).toMatchObject({ type: "interactive", interactive: { type: "list", body: { text: RATING_TEXT }, action: { sections: [{ rows: RATING_ROWS.map((title, i) => ({ id: `bf1|p1|${i}`, title })) }] } } });

    await post(url, await messageFrom("list-reply.json", to, { interactive: { type: "list_reply", list_reply: { id: "bf1|p1|4", title: "5" } } }));
    await until(() => graph.sentTo(to)[1]);
    await post(url, await messageFrom("button-reply.json", to, { interactive: { type: "button_reply", button_reply: { id: "bf1|p2|0", title: "No comment" } } }));
    await until(() => graph.sentTo(to)[2]);

    const row = await until(() => storedDialogue(store, to).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "whatsapp-cloud", score: 5, completed: true, triggerId: id, context: { team: "billing" } });
    expect(await triggerState(url, id)).toMatchObject({ state: "completed" });
  });

  it("answers a closed window without a template with 422 window_closed saying how to fix it, and records and sends nothing", async () => {
    const { app, graph, url } = await start();
    const to = user();
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "whatsapp-cloud", to, scenario: "csat", key, variables: { name: "Sheena" } });
    expect(answer).toMatchObject({ status: 422, body: { error: "window_closed", field: "to" } });
    expect(answer.body.message).toContain(`the 24-hour customer-service window with ${to} is closed and no template is configured`);
    expect(answer.body.message).toContain("WHATSAPP_CLOUD_TEMPLATE");
    await new Promise((r) => setTimeout(r, 200));
    expect(graph.attempts).toEqual([]);
    await expectNothingRecorded(app.app, store, key, to);
  });

  it("answers a `to` that is no WhatsApp id with 422 unknown_recipient, and records and sends nothing", async () => {
    const { app, graph, url } = await start(TEMPLATE_ENV);
    const key = `T-${randomUUID()}`;
    const to = "+1 650-555-1234";
    const answer = await trigger(url, { channel: "whatsapp-cloud", to, scenario: "csat", key });
    expect(answer).toMatchObject({ status: 422, body: { error: "unknown_recipient", field: "to" } });
    expect(answer.body.message).toContain("is not a WhatsApp id");
    await new Promise((r) => setTimeout(r, 200));
    expect(graph.attempts).toEqual([]);
    await expectNothingRecorded(app.app, store, key, to);
  });
});
