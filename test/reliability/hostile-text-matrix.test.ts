/**
 * The hostile-text matrix: every channel (Telegram, Teams, WhatsApp Cloud, WhatsApp Web, web
 * chat) × every text of HOSTILE_TEXTS as the comment × both statistics stores (PGlite, the
 * embedded default, and PostgreSQL). Each survey goes through the whole web process (composeApp
 * on a real port, the real grammY / botbuilder code, local fake messenger servers) into the store.
 * Every survey must be stored with its rating, the figures must equal the ratings sent, and the
 * stored comment must be the text minus what had to be removed, flagged when something was.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import type { SurveyStore } from "../../stats/store/survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { ChatClient, conversationIdOf } from "../app/ws-client.ts";
import { FakeConnector } from "../channels/teams-fake-connector.ts";
import { activity } from "../channels/teams-harness.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat, startUpdate, tapUpdate, textUpdate } from "../channels/telegram-updates.ts";
import { FakeGraph } from "../channels/whatsapp-cloud-fake-graph.ts";
import { fakeFactory, type FakeWebClient } from "../channels/whatsapp-web-fake-client.ts";
import { PG_URL } from "../stats/store-harness.ts";
import { HOSTILE_TEXTS } from "./hostile-texts.ts";

const THANKS = "Thank you for your feedback!";

/** One channel, driven as its messenger would: `survey` runs rating + comment and returns the stored conversation id. */
interface Driver {
  name: string;
  /** Starts the fakes and the app. */
  open(store: SurveyStore, scenariosDir: string): Promise<TestApp>;
  survey(rating: number, comment: string): Promise<string>;
  close(): Promise<void>;
}

function appEnv(scenariosDir: string, env: Record<string, string>): Record<string, string> {
  return { BOTFLOW_SCENARIOS_DIR: scenariosDir, BOTFLOW_SWEEP_INTERVAL: "1h", ...env };
}

function telegram(): Driver {
  const TOKEN = "7012345678:AAE-matrix_Token_0123456789abcdefXYZ";
  const SECRET = "matrix-secret_5f2c9d1e";
  let api: FakeBotApi;
  let t: TestApp;
  let url = "";
  const post = async (update: unknown) => {
    const res = await fetch(`${url}/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify(update),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  return {
    name: "telegram",
    async open(store, dir) {
      api = await new FakeBotApi(TOKEN).start();
      t = await startTestApp(appEnv(dir, { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET }), { surveyStore: store });
      url = (await t.app.listen()).url;
      return t;
    },
    async survey(rating, comment) {
      const chat = newChat();
      await post(startUpdate(chat));
      const sent = api.payloads("sendMessage");
      const rate = sent.at(-1) as { chat_id: number; reply_markup: unknown };
      expect(rate.chat_id).toBe(chat);
      // The fake numbers the messages it was sent from 5001 on.
      await post(tapUpdate(chat, `p1:${rating - 1}`, 5000 + sent.length, rate.reply_markup));
      await post(textUpdate(chat, comment));
      expect(api.payloads("sendMessage").at(-1)).toMatchObject({ chat_id: chat, text: THANKS });
      return String(chat);
    },
    async close() {
      await t?.dispose();
      await api?.stop();
    },
  };
}

function teams(): Driver {
  let connector: FakeConnector;
  let t: TestApp;
  let url = "";
  const post = async (body: unknown) => {
    const before = connector.calls.length;
    const res = await fetch(`${url}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status, await res.text()).toBe(200);
    return connector.calls.slice(before);
  };
  return {
    name: "teams",
    async open(store, dir) {
      connector = await FakeConnector.start();
      t = await startTestApp(appEnv(dir, { BOTFLOW_TEAMS_EMULATOR: "true" }), { surveyStore: store });
      url = (await t.app.listen()).url;
      return t;
    },
    async survey(rating, comment) {
      const conv = `a:matrix-${randomUUID()}`;
      const [card] = await post(activity("message-personal", conv, connector.url));
      const cardId = card?.answeredId as string;
      await post(activity("card-submit", conv, connector.url, { replyToId: cardId, value: { botflow: 1, promptId: "p1", index: rating - 1, value: rating } }));
      const last = (await post(activity("message-personal", conv, connector.url, { text: comment }))).at(-1);
      expect(last?.body).toMatchObject({ type: "message", text: THANKS });
      return conv;
    },
    async close() {
      await t?.dispose();
      await connector?.close();
    },
  };
}

function whatsappCloud(): Driver {
  const APP_SECRET = "app-secret-matrix-5aa765d61d8327deb882cf99";
  const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
  let graph: FakeGraph;
  let t: TestApp;
  let url = "";
  type Payload = { entry: { changes: { value: { messages?: Record<string, unknown>[] } }[] }[] };
  const message = async (name: string, edit: (m: Record<string, unknown>) => void): Promise<Payload> => {
    const p = JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
    const m = p.entry[0]?.changes[0]?.value.messages?.[0] as Record<string, unknown>;
    m.id = `wamid.${randomUUID()}`;
    edit(m);
    return p;
  };
  const post = async (payload: unknown) => {
    const raw = JSON.stringify(payload);
    const res = await fetch(`${url}/whatsapp/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) },
      body: raw,
    });
    expect(res.status, await res.text()).toBe(200);
  };
  return {
    name: "whatsapp-cloud",
    async open(store, dir) {
      graph = await new FakeGraph().start();
      t = await startTestApp(
        appEnv(dir, {
          WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-matrix-access-token-d41d8cd98f00b204",
          WHATSAPP_CLOUD_PHONE_NUMBER_ID: "106540352242922",
          WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
          WHATSAPP_CLOUD_VERIFY_TOKEN: "verify-matrix",
          WHATSAPP_CLOUD_API_ROOT: graph.apiRoot,
        }),
        { surveyStore: store },
      );
      url = (await t.app.listen()).url;
      return t;
    },
    async survey(rating, comment) {
      const from = `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
      await post(await message("text-message.json", (m) => Object.assign(m, { from, text: { body: "Hello" } })));
      await post(
        await message("list-reply.json", (m) => {
          m.from = from;
          (m.interactive as Record<string, unknown>).list_reply = { id: `bf1|p1|${rating - 1}`, title: String(rating) };
        }),
      );
      await post(await message("text-message.json", (m) => Object.assign(m, { from, text: { body: comment } })));
      expect(graph.sentTo(from).at(-1)).toMatchObject({ type: "text", text: { body: THANKS } });
      return from;
    },
    async close() {
      await t?.dispose();
      await graph?.stop();
    },
  };
}

function whatsappWeb(): Driver {
  let t: TestApp;
  let client: FakeWebClient;
  const said = async (chat: string, n: number) => vi.waitFor(() => expect(client.to(chat)).toHaveLength(n), { timeout: 10_000, interval: 5 });
  return {
    name: "whatsapp",
    async open(store, dir) {
      const factory = fakeFactory();
      t = await startTestApp(appEnv(dir, { WHATSAPP_WEB_ENABLED: "1" }), { surveyStore: store, whatsappWebClient: factory.create });
      await t.app.listen();
      client = factory.clients[0] as FakeWebClient;
      client.emit("ready");
      return t;
    },
    async survey(rating, comment) {
      const chat = `38050${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}@c.us`;
      client.text(chat, "Hi");
      await said(chat, 1);
      client.text(chat, String(rating));
      await said(chat, 2);
      client.text(chat, comment);
      await said(chat, 3);
      expect(client.to(chat)[2]?.text).toBe(THANKS);
      return chat;
    },
    async close() {
      await t?.dispose();
    },
  };
}

function webchat(): Driver {
  let t: TestApp;
  let url = "";
  return {
    name: "webchat",
    async open(store, dir) {
      t = await startTestApp(appEnv(dir, {}), { surveyStore: store });
      url = (await t.app.listen()).url;
      return t;
    },
    async survey(rating, comment) {
      const c = await ChatClient.connect(url);
      try {
        c.send({ type: "hello" });
        const conversationId = conversationIdOf((await c.next())[0]);
        c.send({ type: "start", id: "s1" });
        await c.next(2);
        c.send({ type: "choice", id: "c1", promptId: "p1", index: rating - 1 });
        await c.next(3);
        c.send({ type: "text", id: "t1", text: comment });
        const frames = await c.next(3);
        expect(frames[1]).toMatchObject({ type: "message", text: THANKS });
        expect(frames[2]).toMatchObject({ type: "ack", id: "t1", status: "processed" });
        return conversationId;
      } finally {
        c.close();
      }
    },
    async close() {
      await t?.dispose();
    },
  };
}

const DRIVERS = [telegram, teams, whatsappCloud, whatsappWeb, webchat];

interface Backend {
  name: string;
  open(): Promise<SurveyStore>;
  close(store: SurveyStore): Promise<void>;
}

const BACKENDS: Backend[] = [
  { name: "PGlite", open: () => openSharedStore(), close: (s) => s.close() },
  {
    name: "PostgreSQL",
    async open() {
      const s = new PgSurveyStore({ connectionString: PG_URL, schema: `test_${randomUUID().replaceAll("-", "")}`, maxConnections: 4 });
      await s.migrate();
      return s;
    },
    async close(s) {
      await (s as PgSurveyStore).dropSchema();
      await s.close();
    },
  },
];

let scenariosDir: string;
beforeAll(async () => {
  // The stock CSAT survey, with room for the 64 KB comment (its own max_length is 2000).
  scenariosDir = await mkdtemp(path.join(tmpdir(), "botflow-matrix-"));
  const csat = await readFile(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");
  expect(csat).toContain("max_length: 2000");
  await writeFile(path.join(scenariosDir, "csat.yaml"), csat.replace("max_length: 2000", "max_length: 65536"));
});
afterAll(async () => {
  await rm(scenariosDir, { recursive: true, force: true });
});

for (const backend of BACKENDS) {
  describe(`hostile comments on every channel, stored in ${backend.name}`, () => {
    let store: SurveyStore;
    beforeAll(async () => {
      store = await backend.open();
    });
    afterAll(async () => {
      await backend.close(store);
    });

    for (const make of DRIVERS) {
      const driver = make();
      it(`${driver.name}: every survey is stored with its rating, the figures equal the ratings sent, the comment is cleaned and flagged`, async () => {
        const t = await driver.open(store, scenariosDir);
        try {
          const sent: { conversationId: string; rating: number; text: (typeof HOSTILE_TEXTS)[number] }[] = [];
          for (const [i, text] of HOSTILE_TEXTS.entries()) {
            const rating = (i % 5) + 1;
            sent.push({ conversationId: await driver.survey(rating, text.sent), rating, text });
          }
          for (const s of sent) {
            const row = await storedDialogue(store, s.conversationId);
            expect(row, `${driver.name} / ${s.text.name}`).toMatchObject({ channel: driver.name, completed: true, accepted: true, score: s.rating, commentSanitized: s.text.sanitized });
            expect(row?.comment === s.text.stored, `${driver.name} / ${s.text.name}: stored comment`).toBe(true);
          }
          const f = await store.figures({ channel: driver.name });
          const distribution: Record<string, number> = {};
          for (const s of sent) distribution[String(s.rating)] = (distribution[String(s.rating)] ?? 0) + 1;
          expect(f).toMatchObject({ surveys: sent.length, rated: sent.length, commented: sent.length, distribution });
          expect(f.average).toBeCloseTo(sent.reduce((a, s) => a + s.rating, 0) / sent.length, 10);
          // Comments are personal data: not one of them reaches the logs.
          const logs = t.logs.join("\n");
          for (const s of sent) expect(logs.includes(s.text.stored.slice(0, 40)), `${driver.name} / ${s.text.name} in logs`).toBe(false);
        } finally {
          await driver.close();
        }
      });
    }
  });
}
