/**
 * The WhatsApp Web (whatsapp-web.js) channel through the whole web process (composeApp), with
 * the Client replaced by an EventEmitter fake that emits real-shaped messages and poll votes.
 * The CSAT survey reaches the statistics store by typed numbers, by poll votes, and by an
 * invalid reply then a valid one.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { useSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { fakeFactory, type FakeWebClient } from "./whatsapp-web-fake-client.ts";

const TOKEN = "ops-token-0123456789abcdef";
const RATING = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const RATING_PROMPT = `${RATING}\n\nReply 1–5, or "Skip".`;
const COMMENT_PROMPT = 'Thank you! Would you like to add a comment to your rating?\n\nType your answer, or "No comment".';
const THANKS = "Thank you for your feedback!";
const COMMENT = "Fast delivery, the box was a little damaged";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ t: TestApp; client: FakeWebClient; url: string; factory: ReturnType<typeof fakeFactory> }> {
  const factory = fakeFactory();
  t = await startTestApp({ WHATSAPP_WEB_ENABLED: "1", BOTFLOW_TOKEN: TOKEN, ...env }, { surveyStore: store, whatsappWebClient: factory.create });
  const { url } = await t.app.listen();
  const client = factory.clients[0] as FakeWebClient;
  client.emit("ready");
  return { t, client, url, factory };
}

function chat(): string {
  return `38050${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}@c.us`;
}

/** Waits until `n` messages went to `chatId` (the fake's events are processed asynchronously). */
async function sentCount(client: FakeWebClient, chatId: string, n: number): Promise<void> {
  await vi.waitFor(() => expect(client.to(chatId)).toHaveLength(n), { timeout: 5_000, interval: 5 });
}

describe("WhatsApp Web CSAT survey", () => {
  it("runs by typed numbers: first message → numbered prompt → 4 → comment → thanks, and stores the record", async () => {
    const { client, t } = await start();
    expect(client.initialized).toBe(true);
    const from = chat();
    client.text(from, "Hi");
    await sentCount(client, from, 1);
    expect(client.to(from)[0]?.text).toBe(RATING_PROMPT);
    client.text(from, "4");
    await sentCount(client, from, 2);
    expect(client.to(from)[1]?.text).toBe(COMMENT_PROMPT);
    client.text(from, COMMENT);
    await sentCount(client, from, 3);
    expect(client.to(from)[2]?.text).toBe(THANKS);
    await vi.waitFor(async () =>
      // The stored survey's common fields are the contract suite's (channel-contract.ts, for every channel).
      expect(await storedDialogue(store, from)).toMatchObject({ channel: "whatsapp", score: 4, comment: COMMENT, completed: true }),
    );
    // No poll unless enabled.
    expect(client.sent.every((s) => s.poll === undefined)).toBe(true);
    expect(t.logs.join("\n")).not.toContain(COMMENT);
  });

  it("runs by poll votes; a vote changed after the step moved on changes nothing", async () => {
    const { client } = await start({ WHATSAPP_WEB_POLLS: "1" });
    const from = chat();
    client.text(from, "Hello");
    await sentCount(client, from, 2);
    const [prompt, poll] = client.to(from);
    expect(prompt?.text).toBe(RATING_PROMPT);
    expect(poll?.poll).toEqual({ name: RATING, options: ["1", "2", "3", "4", "5", "Skip"] });

    client.vote(poll as NonNullable<typeof poll>, 4); // "5"
    await sentCount(client, from, 3);
    // The comment question is free text: no poll for it.
    expect(client.to(from)[2]).toMatchObject({ text: COMMENT_PROMPT });

    client.vote(poll as NonNullable<typeof poll>, 1); // changed to "2" after the survey moved on
    client.vote(poll as NonNullable<typeof poll>, undefined); // and taken back
    client.text(from, "No comment");
    await sentCount(client, from, 4);
    expect(client.to(from)[3]?.text).toBe(THANKS);
    await vi.waitFor(async () => expect(await storedDialogue(store, from)).toMatchObject({ score: 5, completed: true, comment: "" }));

    // A vote change after the survey ended: still nothing sent, nothing recorded.
    client.vote(poll as NonNullable<typeof poll>, 0);
    client.text(from, "bye"); // a later message starts a new survey, proving the vote was processed before it
    await sentCount(client, from, 6);
    expect(client.to(from)[4]?.text).toBe(RATING_PROMPT);
    const rows = (await store.listDialogues({ limit: 1000 })).rows.filter((r) => r.conversationId === from);
    expect(rows.find((r) => r.completed)).toMatchObject({ score: 5 });
  });

  it("answers an invalid reply with the prompt again, then takes a valid one", async () => {
    const { client } = await start();
    const from = chat();
    client.text(from, "Hi");
    await sentCount(client, from, 1);
    client.text(from, "excellent!!");
    await sentCount(client, from, 2);
    expect(client.to(from)[1]?.text).toBe(`Please tap a number from 1 to 5, or type it.\n\nReply 1–5, or "Skip".`);
    client.text(from, "3");
    await sentCount(client, from, 3);
    expect(client.to(from)[2]?.text).toBe(COMMENT_PROMPT);
    client.text(from, "No comment");
    await sentCount(client, from, 4);
    await vi.waitFor(async () => expect(await storedDialogue(store, from)).toMatchObject({ score: 3, completed: true, comment: "" }));
  });

  it("numbers emoji buttons and takes a typed position (emoji scenario)", async () => {
    const { client } = await start({ BOTFLOW_SCENARIO: "csat_emoji" });
    const from = chat();
    client.text(from, "Hi");
    await sentCount(client, from, 1);
    expect(client.to(from)[0]?.text).toBe('Were you happy with our service today?\n\nReply 1 👍 / 2 👎, or "Skip".');
    client.text(from, "2");
    await sentCount(client, from, 2);
    client.text(from, "No comment");
    await sentCount(client, from, 3);
    await vi.waitFor(async () => expect(await storedDialogue(store, from)).toMatchObject({ scenarioId: "csat_emoji", score: 0, completed: true }));
  });

  it("ignores group, status and own messages, and counts a redelivered message once", async () => {
    const { client } = await start();
    const from = chat();
    client.text("120363025246125486@g.us", "Hi", { author: from });
    client.text("status@broadcast", "Hi", { isStatus: true });
    client.text(from, "Hi", { fromMe: true });
    const first = client.text(from, "Hi");
    client.emit("message", first);
    await sentCount(client, from, 1);
    client.text(from, "5");
    await sentCount(client, from, 2);
    // Had the copy been processed, it would have been an invalid answer and a re-prompt here.
    expect(client.to(from).map((s) => s.text)).toEqual([RATING_PROMPT, COMMENT_PROMPT]);
    expect(client.sent.filter((s) => s.chatId !== from)).toHaveLength(0);
  });
});

describe("WhatsApp Web login", () => {
  it("serves the login QR behind the token while not logged in, and logs a line without the QR", async () => {
    const factory = fakeFactory();
    t = await startTestApp({ WHATSAPP_WEB_ENABLED: "1", BOTFLOW_TOKEN: TOKEN }, { surveyStore: store, whatsappWebClient: factory.create });
    const { url } = await t.app.listen();
    const client = factory.clients[0] as FakeWebClient;
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(await (await fetch(`${url}/ops/whatsapp/qr`, { headers: auth })).json()).toEqual({ state: "starting" });

    const qr = "2@Wq8tWf6bnezr8uVGwVCluyRuBOJ3tIglimzI5dHB0vQW,f1/vGcW4Z3vBa1eDNl3tOjWqLL5DpYTI84DMVkYnQE8=,ZL7YnK2qdPN8vKo2ESxhOQ==";
    client.emit("qr", qr);
    expect((await fetch(`${url}/ops/whatsapp/qr`)).status).toBe(401);
    const body = (await (await fetch(`${url}/ops/whatsapp/qr`, { headers: auth })).json()) as { state: string; qr: string; terminal: string };
    expect(body.state).toBe("qr");
    expect(body.qr).toBe(qr);
    expect(body.terminal.split("\n").length).toBeGreaterThan(10);
    expect(t.logs.join("\n")).toContain("WhatsApp Web needs a login");
    expect(t.logs.join("\n")).not.toContain(qr);

    client.emit("ready");
    expect(await (await fetch(`${url}/ops/whatsapp/qr`, { headers: auth })).json()).toEqual({ state: "ready" });
    await t.dispose();
    t = undefined;
    expect(client.destroyed).toBe(true);
  });

  it("is off by default: no client is made and there is no QR endpoint", async () => {
    let made = 0;
    t = await startTestApp({ BOTFLOW_TOKEN: TOKEN }, { surveyStore: store, whatsappWebClient: () => ((made++, undefined) as never) });
    const { url } = await t.app.listen();
    expect(made).toBe(0);
    expect(t.app.config.channels.whatsapp).toBeUndefined();
    expect((await fetch(`${url}/ops/whatsapp/qr`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });
});
