/**
 * One driver per channel for the contract suite (channel-contract.ts): each speaks its
 * messenger's real payloads (test/fixtures/…) to a contract process and reads what the channel
 * sent from that messenger's local fake server.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Update } from "grammy/types";
import { expect } from "vitest";
import { teamsModule } from "../../channels/teams/module.ts";
import { telegramModule } from "../../channels/telegram/module.ts";
import { webchatModule } from "../../channels/webchat/module.ts";
import type { WebchatHistory } from "../../channels/webchat/history.ts";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { whatsappCloudModule } from "../../channels/whatsapp-cloud/module.ts";
import { whatsappWebModule } from "../../channels/whatsapp/module.ts";
import { ChatClient, type Frame } from "../app/ws-client.ts";
import type { ChannelDriver, ContractProcess } from "./channel-contract.ts";
import { FakeChannel, FakeMessenger, fakeModule, type FakePayload } from "./fake-channel.ts";
import { activity, cardOf, newConversationId, post as postActivity, textsOf, type Json } from "./teams-harness.ts";
import { FakeConnector } from "./teams-fake-connector.ts";
import { FakeBotApi } from "./telegram-fake-bot-api.ts";
import { newChat, startUpdate, tapUpdate, textUpdate } from "./telegram-updates.ts";
import { FakeGraph } from "./whatsapp-cloud-fake-graph.ts";
import { FakeWebClient, fakeFactory, type SentMessage } from "./whatsapp-web-fake-client.ts";

const STALE = "This survey is closed";

/** Polls `done` until it holds (the work runs in the background, or in another process). */
async function waitUntil(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function telegramDriver(): ChannelDriver {
  const TOKEN = "7012345678:AAE-contract_Token_0123456789abcdef";
  const SECRET = "contract-webhook-secret_9d1e";
  let api: FakeBotApi;
  const last = new Map<string, Update>();
  const queries = new Map<string, string[]>();
  const post = async (p: ContractProcess, user: string, update: Update): Promise<number> => {
    last.set(user, update);
    const res = await fetch(`${p.url}/telegram/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
      body: JSON.stringify(update),
    });
    await res.text();
    return res.status;
  };
  const sends = () => api.calls.filter((c) => c.method === "sendMessage" && c.status === 200);
  const rating = (user: string) => {
    const call = sends().find((c) => String(c.payload.chat_id) === user && JSON.stringify(c.payload.reply_markup ?? "").includes('"p1:'));
    if (!call) throw new Error(`no rating keyboard was sent to ${user}`);
    return { messageId: 5001 + sends().indexOf(call), keyboard: call.payload.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] } };
  };
  return {
    module: telegramModule,
    kind: "answers",
    secrets: [TOKEN, TOKEN.split(":")[1] as string, SECRET],
    editsKeyboards: true,
    async setup() {
      api = await new FakeBotApi(TOKEN).start();
    },
    teardown: () => api.stop(),
    env: () => ({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET }),
    newUser: async () => String(newChat()),
    start: (p, user) => post(p, user, startUpdate(Number(user))),
    tapRating(p, user, label) {
      const { messageId, keyboard } = rating(user);
      const button = keyboard.inline_keyboard.flat().find((b) => b.text === label);
      const queryId = `${user}${(queries.get(user) ?? []).length}`;
      queries.set(user, [...(queries.get(user) ?? []), queryId]);
      return post(p, user, tapUpdate(Number(user), button?.callback_data ?? "", messageId, keyboard, { queryId }));
    },
    type: (p, user, text) => post(p, user, textUpdate(Number(user), text)),
    redeliverLast: (p, user) => post(p, user, last.get(user) as Update),
    texts: (user) => sends().filter((c) => String(c.payload.chat_id) === user).map((c) => String(c.payload.text)),
    ratingClosed(user) {
      const { messageId } = rating(user);
      return api.payloads("editMessageReplyMarkup").some((e) => String(e.chat_id) === user && e.message_id === messageId);
    },
    toldStale: (user) => api.payloads("answerCallbackQuery").some((a) => (queries.get(user) ?? []).includes(String(a.callback_query_id)) && a.text === STALE),
    failSends(count) {
      // A retry_after longer than the channel waits: the call fails at once.
      for (let i = 0; i < count; i++) api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 300", retryAfter: 300 });
    },
    stopFailing: () => void api.failures.delete("sendMessage"),
    sendAttempts: () => api.calls.filter((c) => c.method === "sendMessage").length,
    settle: waitUntil,
    proactive: {
      // A private chat: its id is what the trigger names (the user pressed Start once, long ago).
      recipient: async () => String(newChat()),
      unknown: async () => "@not_a_chat_id",
    },
  };
}

export function teamsDriver(): ChannelDriver {
  let connector: FakeConnector;
  const last = new Map<string, Json>();
  const post = async (p: ContractProcess, user: string, body: Json): Promise<number> => {
    last.set(user, body);
    return (await postActivity(p.url, body)).status;
  };
  const posts = (user: string) => connector.calls.filter((c) => c.method === "POST" && c.conversationId === user && c.answeredId !== undefined);
  const ratingCard = (user: string) => posts(user).find((c) => JSON.stringify(cardOf(c) ?? {}).includes('"promptId":"p1"'));
  return {
    module: teamsModule,
    kind: "answers",
    secrets: [],
    editsKeyboards: true,
    async setup() {
      connector = await FakeConnector.start();
    },
    teardown: () => connector.close(),
    env: () => ({ BOTFLOW_TEAMS_EMULATOR: "true" }),
    newUser: async () => newConversationId(),
    start: (p, user) => post(p, user, activity("message-personal", user, connector.url, { text: "hello" })),
    tapRating(p, user, label) {
      const card = ratingCard(user);
      const action = (cardOf(card)?.body ?? []).flatMap((e) => e.actions ?? []).find((a) => a.title === label);
      return post(p, user, activity("card-submit", user, connector.url, { replyToId: card?.answeredId, value: action?.data }));
    },
    type: (p, user, text) => post(p, user, activity("message-personal", user, connector.url, { text })),
    redeliverLast: (p, user) => post(p, user, last.get(user) as Json),
    texts: (user) => posts(user).map((c) => (typeof c.body.text === "string" ? c.body.text : (textsOf(cardOf(c))[0] ?? ""))),
    ratingClosed(user) {
      const id = ratingCard(user)?.answeredId;
      return connector.calls.some((c) => c.method === "PUT" && c.conversationId === user && c.activityId === id);
    },
    toldStale: (user) => posts(user).some((c) => c.body.text === STALE),
    failSends(count) {
      for (let i = 0; i < count; i++) connector.failures.push({ status: 400 });
    },
    stopFailing: () => void connector.failures.splice(0),
    sendAttempts: () => connector.calls.length,
    settle: waitUntil,
    proactive: {
      // The user installed the bot (conversationUpdate with the bot among membersAdded) and never wrote.
      async recipient(p) {
        const conversation = newConversationId();
        expect(await post(p, conversation, activity("conversation-update-bot-added", conversation, connector.url))).toBe(200);
        return conversation;
      },
      unknown: async () => newConversationId(),
    },
  };
}

export function whatsappCloudDriver(): ChannelDriver {
  const ACCESS_TOKEN = "EAAGcontract-access-token-not-for-logs";
  const APP_SECRET = "contract-app-secret-5f4dcc3b5aa765d6";
  const VERIFY_TOKEN = "contract-verify-token";
  const PHONE = "106540352242922";
  const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
  let graph: FakeGraph;
  const last = new Map<string, string>();
  type Payload = { entry: { changes: { value: { messages?: Record<string, unknown>[] } }[] }[] };
  const fixture = async (name: string) => JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
  const message = (p: Payload) => p.entry[0]?.changes[0]?.value.messages?.[0] as Record<string, unknown>;
  const send = async (p: ContractProcess, user: string, raw: string): Promise<number> => {
    last.set(user, raw);
    const res = await fetch(`${p.url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) }, body: raw });
    await res.text();
    return res.status;
  };
  const text = async (p: ContractProcess, user: string, body: string) => {
    const payload = await fixture("text-message.json");
    Object.assign(message(payload), { from: user, id: `wamid.${randomUUID()}`, text: { body } });
    return send(p, user, JSON.stringify(payload));
  };
  const shown = (user: string) => graph.sentTo(user);
  const textOf = (m: Record<string, unknown>) => ((m.text as { body?: string } | undefined)?.body ?? (m.interactive as { body?: { text?: string } } | undefined)?.body?.text ?? "") as string;
  return {
    module: whatsappCloudModule,
    kind: "answers",
    secrets: [ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN],
    editsKeyboards: false,
    async setup() {
      graph = await new FakeGraph().start();
    },
    teardown: () => graph.stop(),
    env: () => ({ WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE, WHATSAPP_CLOUD_APP_SECRET: APP_SECRET, WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_CLOUD_API_ROOT: graph.apiRoot }),
    newUser: async () => `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`,
    start: (p, user) => text(p, user, "Hello"),
    async tapRating(p, user, label) {
      const rating = shown(user).find((m) => JSON.stringify(m).includes("bf1|p1|"));
      const action = ((rating?.interactive as { action?: Json } | undefined)?.action ?? {}) as { buttons?: { reply: { id: string; title: string } }[]; sections?: { rows: { id: string; title: string }[] }[] };
      const rows = action.sections?.[0]?.rows ?? (action.buttons ?? []).map((b) => b.reply);
      const row = rows.find((r) => r.title === label);
      const payload = await fixture("list-reply.json");
      const m = message(payload);
      Object.assign(m, { from: user, id: `wamid.${randomUUID()}` });
      (m.interactive as Record<string, unknown>).list_reply = { id: row?.id ?? "", title: label };
      return send(p, user, JSON.stringify(payload));
    },
    type: (p, user, body) => text(p, user, body),
    redeliverLast: (p, user) => send(p, user, last.get(user) as string),
    texts: (user) => shown(user).map(textOf),
    ratingClosed: () => false, // the Cloud API cannot edit a sent message
    toldStale: (user) => shown(user).some((m) => textOf(m) === "That question has already been answered or has expired."),
    failSends(count) {
      for (let i = 0; i < count; i++) graph.failures.push(400);
    },
    stopFailing: () => void graph.failures.splice(0),
    sendAttempts: () => graph.requests.length,
    settle: waitUntil,
  };
}

export function whatsappWebDriver(): ChannelDriver {
  // One fake factory per process slot: process n's channel makes its clients from factories[n].
  const factories = [fakeFactory(), fakeFactory()];
  let failing = 0;
  let attempts = 0;
  const last = new Map<string, { event: "message" | "vote_update"; payload: unknown }>();
  const clientOf = (p: ContractProcess): FakeWebClient => {
    const c = factories[p.n]?.clients.at(-1);
    if (!c) throw new Error("the WhatsApp Web channel made no client");
    if (!wired.has(c)) {
      wired.add(c);
      const real = c.sendMessage.bind(c);
      c.sendMessage = async (chatId, content) => {
        attempts++;
        if (failing > 0) {
          failing--;
          throw new Error("Evaluation failed: the page is not ready");
        }
        return real(chatId, content);
      };
      c.emit("ready");
    }
    return c;
  };
  const wired = new WeakSet<FakeWebClient>();
  const newUser = async (p: ContractProcess): Promise<string> => {
    clientOf(p);
    return `38050${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}@c.us`;
  };
  const sentTo = (user: string): SentMessage[] => factories.flatMap((f) => f.clients.flatMap((c) => c.sent)).filter((s) => s.chatId === user);
  /** Fires an event on the process's client, keeping the very object emitted so a redelivery is the same one. */
  const emit = async (p: ContractProcess, user: string, event: "message" | "vote_update", fire: (c: FakeWebClient) => void): Promise<number> => {
    const c = clientOf(p);
    c.once(event, (payload: unknown) => last.set(user, { event, payload }));
    fire(c);
    return 200;
  };
  return {
    module: whatsappWebModule,
    kind: "background",
    secrets: [],
    editsKeyboards: false,
    async setup() {},
    async teardown() {},
    env: () => ({ WHATSAPP_WEB_ENABLED: "1", WHATSAPP_WEB_POLLS: "true" }),
    seams: (n) => ({ createClient: (factories[n] as ReturnType<typeof fakeFactory>).create, sleep: async () => {} }),
    newUser,
    start: (p, user) => emit(p, user, "message", (c) => c.text(user, "Hello")),
    tapRating(p, user, label) {
      // The poll may have been sent by the other process's client: the vote still names it.
      const poll = sentTo(user).find((s) => s.poll !== undefined && s.poll.options.includes("5"));
      if (!poll) throw new Error(`no rating poll was sent to ${user}`);
      const localId = poll.poll?.options.indexOf(label) ?? -1;
      return emit(p, user, "vote_update", (c) => c.vote(poll, localId, Date.now() + Math.floor(Math.random() * 1000)));
    },
    type: (p, user, text) => emit(p, user, "message", (c) => c.text(user, text)),
    async redeliverLast(p, user) {
      // whatsapp-web.js emits an event again after a reconnect: the same id, the same fields.
      const l = last.get(user);
      if (l) clientOf(p).emit(l.event, l.payload);
      return 200;
    },
    texts: (user) => sentTo(user).filter((s) => s.text !== undefined).map((s) => (s.text as string).split("\n\n")[0] as string),
    ratingClosed: () => false, // WhatsApp Web cannot edit a sent message
    // A stale vote is dropped without a reply by design (render.ts: it would only puzzle); the suite checks nothing changed.
    toldStale: () => true,
    failSends(count) {
      failing += count;
    },
    stopFailing: () => void (failing = 0),
    sendAttempts: () => attempts,
    settle: waitUntil,
    proactive: {
      // The client logged in; the number is on WhatsApp (the fake says so of every number not marked otherwise).
      recipient: (p) => newUser(p),
      async unknown(p) {
        const number = await newUser(p);
        for (const f of factories) for (const c of f.clients) c.unregistered.add(number);
        return number;
      },
    },
  };
}

export function webchatDriver(): ChannelDriver {
  const sockets = new Map<string, { p: ContractProcess; client: ChatClient; frames: Frame[] }[]>();
  let failing = 0;
  let appends = 0;
  let frameSeq = 0;
  const last = new Map<string, { p: ContractProcess; frame: Json }>();
  const primary = (user: string) => sockets.get(user)?.[0];
  const pump = (s: { client: ChatClient; frames: Frame[] }) => {
    s.client.ws.on("message", (data) => s.frames.push(JSON.parse(String(data)) as Frame));
  };
  const socketOn = async (p: ContractProcess, user: string) => {
    const list = sockets.get(user) ?? [];
    const existing = list.find((s) => s.p === p);
    if (existing) return existing;
    const client = await ChatClient.connect(p.url);
    const s = { p, client, frames: [] as Frame[] };
    pump(s);
    client.send({ type: "hello", conversationId: user });
    await waitUntil(() => s.frames.some((f) => f.type === "hello"), "the hello answer");
    sockets.set(user, [...list, s]);
    return s;
  };
  const sendFrame = async (p: ContractProcess, user: string, frame: Json): Promise<number> => {
    last.set(user, { p, frame });
    const s = await socketOn(p, user);
    const seen = s.frames.length;
    s.client.send(frame);
    const id = frame.id as string;
    await waitUntil(() => s.frames.slice(seen).some((f) => f.id === id && (f.type === "ack" || f.type === "error")), `the answer to frame ${id}`);
    const answer = s.frames.slice(seen).find((f) => f.id === id && (f.type === "ack" || f.type === "error")) as Frame;
    if (answer.type === "ack") return 200;
    return answer.code === "shutting_down" || answer.code === "busy" ? 503 : 500;
  };
  const id = () => `f${++frameSeq}-${randomUUID().slice(0, 8)}`;
  const newUser = async (p: ContractProcess): Promise<string> => {
    const client = await ChatClient.connect(p.url);
    const s = { p, client, frames: [] as Frame[] };
    pump(s);
    client.send({ type: "hello" });
    await waitUntil(() => s.frames.some((f) => f.type === "hello"), "the hello answer");
    const user = (s.frames.find((f) => f.type === "hello") as Frame).conversationId as string;
    sockets.set(user, [s]);
    return user;
  };
  return {
    module: webchatModule,
    kind: "answers",
    secrets: [],
    editsKeyboards: true,
    async setup() {},
    async teardown() {
      for (const list of sockets.values()) for (const s of list) s.client.ws.terminate();
      sockets.clear();
    },
    env: () => ({}),
    seams: () => ({
      wrapHistory: (h: WebchatHistory): WebchatHistory => ({
        shared: h.shared,
        read: (c) => h.read(c),
        subscribe: (l) => h.subscribe(l),
        close: () => h.close(),
        async append(c, frames) {
          appends++;
          if (failing > 0) {
            failing--;
            throw new Error("Redis is not reachable");
          }
          return h.append(c, frames);
        },
      }),
    }),
    newUser,
    start: (p, user) => sendFrame(p, user, { type: "start", id: id() }),
    tapRating(p, user, label) {
      const rating = primary(user)?.frames.find((f) => f.type === "message" && f.promptId === "p1") as (Frame & { buttons?: { label: string; index: number }[] }) | undefined;
      const button = rating?.buttons?.find((b) => b.label === label);
      return sendFrame(p, user, { type: "choice", id: id(), promptId: "p1", index: button?.index ?? -1 });
    },
    type: (p, user, text) => sendFrame(p, user, { type: "text", id: id(), text }),
    redeliverLast(_p, user) {
      const l = last.get(user) as { p: ContractProcess; frame: Json };
      return sendFrame(l.p, user, l.frame);
    },
    texts: (user) => (primary(user)?.frames ?? []).filter((f) => f.type === "message").map((f) => String(f.text)),
    ratingClosed: (user) => (primary(user)?.frames ?? []).some((f) => f.type === "edit" && f.promptId === "p1" && f.reason !== "stale"),
    toldStale: (user) => (sockets.get(user) ?? []).some((s) => s.frames.some((f) => f.type === "edit" && f.promptId === "p1" && f.reason === "stale")),
    failSends(count) {
      failing += count;
    },
    stopFailing: () => void (failing = 0),
    sendAttempts: () => appends,
    settle: waitUntil,
    proactive: {
      // A visitor with the chat open (a socket on `p`) who has not started anything.
      recipient: (p) => newUser(p),
      // An id of the right shape that no tab has open.
      unknown: async () => randomUUID().replace(/-/g, "").slice(0, 24),
    },
  };
}

export function fakeDriver(): ChannelDriver {
  const messenger = new FakeMessenger();
  const last = new Map<string, FakePayload>();
  const receive = (p: ContractProcess, payload: FakePayload) => {
    last.set(payload.user, payload);
    return (p.channel as FakeChannel).receive(payload);
  };
  const messages = (user: string) => messenger.of(user).flatMap((s) => (s.kind === "message" ? [s] : []));
  return {
    module: fakeModule,
    kind: "answers",
    secrets: [],
    editsKeyboards: true,
    async setup() {},
    async teardown() {},
    env: () => ({ FAKE_CHANNEL: "1" }),
    seams: () => ({ messenger }),
    newUser: async () => `fake-${randomUUID()}`,
    start: (p, user) => receive(p, { id: randomUUID(), user, kind: "start" }),
    tapRating(p, user, label) {
      const rating = messages(user).find((m) => m.promptId === "p1");
      return receive(p, { id: randomUUID(), user, kind: "tap", promptId: "p1", index: rating?.labels.indexOf(label) ?? -1 });
    },
    type: (p, user, text) => receive(p, { id: randomUUID(), user, kind: "text", text }),
    redeliverLast: (p, user) => receive(p, last.get(user) as FakePayload),
    texts: (user) => messages(user).map((m) => m.text),
    ratingClosed: (user) => {
      const rating = messages(user).find((m) => m.promptId === "p1");
      return messenger.of(user).some((s) => s.kind === "closed" && s.messageId === rating?.id);
    },
    toldStale: (user) => messenger.of(user).some((s) => s.kind === "notice" && s.text === "closed"),
    failSends(count) {
      messenger.failures += count;
    },
    stopFailing: () => void (messenger.failures = 0),
    sendAttempts: () => messenger.attempts,
    settle: waitUntil,
    proactive: {
      async recipient() {
        const user = `fake-${randomUUID()}`;
        messenger.users.add(user);
        return user;
      },
      unknown: async () => `fake-${randomUUID()}`,
    },
  };
}
