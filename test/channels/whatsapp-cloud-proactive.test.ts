/**
 * Proactive surveys on the WhatsApp Cloud API (the trigger API's path: `proactive.resolve`, then a
 * `start` with `proactive` through the runtime): inside the user's 24-hour window the question goes
 * out as usual; outside it the configured template, whose quick-reply tap (a `button` message)
 * answers the rating. Real-shaped, signed webhooks in; the local fake Graph API records what goes
 * out. The window itself is checked through the memory and the Redis ChannelStorage, and between
 * two channel instances on one Redis.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { tmpdir } from "node:os";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.ts";
import type { App } from "../../app/compose.ts";
import { ChannelError } from "../../engine/errors.ts";
import type { InboundEvent, VarValue } from "../../engine/types.ts";
import type { ProactiveTarget, VisibleEffect } from "../../channels/port.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { WhatsappCloudChannel } from "../../channels/whatsapp-cloud/whatsapp-cloud-channel.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { TEST_REDIS_URL } from "../helpers/production-env.ts";
import { FakeGraph, GRAPH_ERRORS } from "./whatsapp-cloud-fake-graph.ts";

const PHONE_NUMBER_ID = "106540352242922";
const ACCESS_TOKEN = "EAAG-proactive-access-token-9e107d9d372bb682";
const APP_SECRET = "proactive-app-secret-e4d909c290d0fb1ca068";
const VERIFY_TOKEN = "proactive-verify-token";
const COMMENT = "Sheena was quick and kind on the phone";
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");
const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const TEMPLATE_ENV = { WHATSAPP_CLOUD_TEMPLATE: "csat_request", WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: "en_US", WHATSAPP_CLOUD_TEMPLATE_PARAMETERS: '["{{name}}","{{question}}"]' };

type Message = Record<string, unknown>;
type Payload = { entry: { changes: { value: { messages?: Message[] } }[] }[] };

async function fixture(name: string): Promise<Payload> {
  return JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
}

/** `fixture`'s message, from `from`, sent now (its timestamp opens the window), with a fresh id. */
async function messageFrom(name: string, from: string, fields: Message = {}): Promise<Payload> {
  const p = await fixture(name);
  const m = p.entry[0]?.changes[0]?.value.messages?.[0] as Message;
  Object.assign(m, { from, id: `wamid.${randomUUID()}`, timestamp: String(Math.floor(Date.now() / 1000)), ...fields });
  return p;
}

function user(): string {
  return `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
}

let store: PgliteSurveyStore;
beforeAll(async () => {
  store = await openSharedStore();
});
afterAll(async () => {
  await store?.close();
});

let graph: FakeGraph | undefined;
let t: TestApp | undefined;
let url = "";
afterEach(async () => {
  await t?.dispose();
  await graph?.stop();
  t = undefined;
  graph = undefined;
});

async function start(env: Record<string, string> = {}): Promise<{ app: App; graph: FakeGraph; logs: string[] }> {
  graph = await new FakeGraph().start();
  t = await startTestApp(
    { WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_CLOUD_APP_SECRET: APP_SECRET, WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN, WHATSAPP_CLOUD_API_ROOT: graph.apiRoot, ...env },
    { surveyStore: store },
  );
  url = (await t.app.listen()).url;
  return { app: t.app, graph, logs: t.logs };
}

async function post(payload: unknown): Promise<number> {
  const raw = JSON.stringify(payload);
  const res = await fetch(`${url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) }, body: raw });
  await res.text();
  return res.status;
}

function cloudChannel(app: App): WhatsappCloudChannel {
  return app.channels.find((c) => c.name === "whatsapp-cloud") as WhatsappCloudChannel;
}

/** What the trigger API does: resolve the recipient, then run the scenario's start with `proactive`. */
async function trigger(app: App, to: string, o: { options?: Record<string, unknown>; variables?: Record<string, VarValue> } = {}): Promise<ProactiveTarget> {
  const target = await cloudChannel(app).proactive.resolve({ to, ...(o.options ? { options: o.options } : {}) });
  if (target.ok) await app.runtime.handle(startEvent(target.ref, o));
  return target;
}

function startEvent(ref: { channel: string; conversationId: string; userId: string }, o: { options?: Record<string, unknown>; variables?: Record<string, VarValue> } = {}): InboundEvent {
  const triggerId = randomUUID();
  return { ...ref, kind: "start", scenarioId: "csat", dedupeKey: `trigger:${triggerId}`, ...(o.variables ? { variables: o.variables } : {}), proactive: { triggerId, ...(o.options ? { options: o.options } : {}) } };
}

const ratingRows = ["1", "2", "3", "4", "5", "Skip"];

describe("WhatsApp Cloud API proactive survey inside the 24-hour window", () => {
  it("sends the question as the usual interactive list to a user who wrote today (a reaction is enough), and the answer continues it", async () => {
    const { app, graph } = await start(TEMPLATE_ENV);
    const from = user();
    // A reaction starts no survey, but the user wrote: the window is open.
    expect(await post(await messageFrom("text-message.json", from, { type: "reaction", reaction: { message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjNFQjBCMEUzRjVFOTk1NjkA", emoji: "👍" }, text: undefined }))).toBe(200);
    expect(graph.sentTo(from)).toEqual([]);

    expect(await trigger(app, from, { variables: { name: "Sheena" } })).toEqual({ ok: true, ref: { channel: "whatsapp-cloud", conversationId: from, userId: from } });
    expect(graph.sentTo(from)).toEqual([
      {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: from,
        type: "interactive",
        interactive: { type: "list", body: { text: RATING_TEXT }, action: { button: "Choose an answer", sections: [{ rows: ratingRows.map((title, i) => ({ id: `bf1|p1|${i}`, title })) }] } },
      },
    ]);
    // The user's answer comes back on the same conversation the trigger started.
    const reply = await messageFrom("list-reply.json", from, { interactive: { type: "list_reply", list_reply: { id: "bf1|p1|4", title: "5" } } });
    expect(await post(reply)).toBe(200);
    expect(graph.sentTo(from)[1]).toMatchObject({ type: "interactive", interactive: { body: { text: "Thank you! Would you like to add a comment to your rating?" } } });
  });
});

describe("WhatsApp Cloud API proactive survey outside the 24-hour window", () => {
  it("sends the configured template with the trigger's variables and the question, and its quick-reply tap completes the CSAT survey", async () => {
    const { app, graph, logs } = await start(TEMPLATE_ENV);
    const from = user();
    expect((await trigger(app, from, { variables: { name: "Sheena", ticket: "T-1042" } })).ok).toBe(true);
    expect(graph.sentTo(from)).toEqual([
      {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to: from,
        type: "template",
        template: {
          name: "csat_request",
          language: { code: "en_US" },
          components: [
            { type: "body", parameters: [{ type: "text", text: "Sheena" }, { type: "text", text: RATING_TEXT }] },
            // One quick reply per button of the question, in order, with the payload an interactive row would carry.
            ...ratingRows.map((_, i) => ({ type: "button", sub_type: "quick_reply", index: String(i), parameters: [{ type: "payload", payload: `bf1|p1|${i}` }] })),
          ],
        },
      },
    ]);

    // The user taps "4" on the template: WhatsApp posts a `button` message with our payload.
    const tap = await messageFrom("template-button.json", from, { button: { payload: "bf1|p1|3", text: "4" } });
    expect(await post(tap)).toBe(200);
    expect(await post(tap)).toBe(200); // redelivered: answered once
    // The tap opened the window: the comment question is a normal interactive message.
    expect(graph.sentTo(from)).toHaveLength(2);
    expect(graph.sentTo(from)[1]).toMatchObject({ type: "interactive", interactive: { type: "button", action: { buttons: [{ type: "reply", reply: { id: "bf1|p2|0", title: "No comment" } }] } } });
    expect(await post(await messageFrom("text-message.json", from, { text: { body: COMMENT } }))).toBe(200);
    expect(graph.sentTo(from)[2]).toMatchObject({ type: "text", text: { body: "Thank you for your feedback!" } });

    expect(await storedDialogue(store, from)).toMatchObject({ channel: "whatsapp-cloud", conversationId: from, scenarioId: "csat", score: 4, completed: true, comment: COMMENT });
    const rows = (await store.listDialogues({ limit: 1000 })).rows.filter((r) => r.conversationId === from);
    expect(rows).toHaveLength(1);
    const all = logs.join("\n");
    expect(all).toContain("the triggered survey goes out as its template");
    for (const secret of [ACCESS_TOKEN, APP_SECRET, COMMENT]) expect(all).not.toContain(secret);
  });

  it("uses the trigger's own options.template (named parameters) over the configured one", async () => {
    const { app, graph } = await start(TEMPLATE_ENV);
    const from = user();
    const template = { name: "csat_winback", language: "uk", parameters: { customer: "Dear {{name}}", survey: "{{question}}" } };
    expect((await trigger(app, from, { options: { template }, variables: { name: "Olena" } })).ok).toBe(true);
    const [sent] = graph.sentTo(from) as { template: { name: string; language: unknown; components: { type: string; parameters: unknown[] }[] } }[];
    expect(sent?.template.name).toBe("csat_winback");
    expect(sent?.template.language).toEqual({ code: "uk" });
    expect(sent?.template.components[0]).toEqual({
      type: "body",
      parameters: [
        { type: "text", parameter_name: "customer", text: "Dear Olena" },
        { type: "text", parameter_name: "survey", text: RATING_TEXT },
      ],
    });
  });

  it("refuses with 422 window_closed when no template is configured, saying how to fix it, and sends nothing", async () => {
    const { app, graph } = await start();
    const from = user();
    const target = await trigger(app, from);
    expect(target).toMatchObject({ ok: false, status: 422, problem: "window_closed" });
    const reason = (target as { reason: string }).reason;
    expect(reason).toContain(`the 24-hour customer-service window with ${from} is closed and no template is configured`);
    expect(reason).toContain("WHATSAPP_CLOUD_TEMPLATE");
    expect(reason).toContain("options.template");
    // A start that skipped resolve fails the same way in deliver, and is not saved.
    const err = await app.runtime.handle(startEvent({ channel: "whatsapp-cloud", conversationId: from, userId: from })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ recipient: "window_closed", retryable: false });
    expect(graph.attempts).toHaveLength(0);
    // With the trigger's own template the same user is reachable.
    expect((await trigger(app, from, { options: { template: { name: "csat_request", language: "en" } } })).ok).toBe(true);
    expect(graph.sentTo(from)[0]).toMatchObject({ type: "template", template: { name: "csat_request", language: { code: "en" } } });
  });

  it("refuses a recipient that is not a wa_id and options it cannot use, naming the field", async () => {
    const { app } = await start(TEMPLATE_ENV);
    const proactive = cloudChannel(app).proactive;
    for (const to of ["+16505551234", "1650 555 1234", "12345", "1234567890123456", "abc"]) {
      expect(await proactive.resolve({ to })).toMatchObject({ ok: false, status: 422, problem: "unknown_recipient", reason: expect.stringContaining("digits only") });
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ template: { name: "csat_request" } }, "options.template.language"],
      [{ template: { name: "CSAT Request", language: "en" } }, "options.template.name"],
      [{ template: { name: "csat_request", language: "en", parameters: "{{name}}" } }, "options.template.parameters"],
      [{ template: { name: "csat_request", language: "en", parameters: ["{{name}}", ""] } }, "options.template.parameters[1]"],
      [{ template: { name: "csat_request", language: "en", header: "x" } }, 'options.template has unknown field "header"'],
      [{ template: "csat_request" }, "options.template must be an object"],
      [{ templates: {} }, "options.templates is not a WhatsApp Cloud API option"],
    ];
    for (const [options, field] of cases) {
      const target = await proactive.resolve({ to: user(), options });
      expect(target).toMatchObject({ ok: false, status: 422, problem: "invalid_options" });
      expect((target as { reason: string }).reason).toContain(field);
    }
  });

  it("fails a start whose template names a variable the trigger did not give, without sending", async () => {
    const { app, graph } = await start(TEMPLATE_ENV);
    const from = user();
    const err = await trigger(app, from, { variables: { ticket: "T-1" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect((err as ChannelError).message).toContain("uses {{name}}, which the trigger's variables do not have");
    expect(graph.attempts).toHaveLength(0);
  });
});

describe("WhatsApp Cloud API proactive send refused by WhatsApp", () => {
  it("turns 131047 into a ChannelError with recipient window_closed, not retried, and forgets the window", async () => {
    const { app, graph } = await start();
    const from = user();
    expect(await post(await messageFrom("text-message.json", from, { type: "reaction", reaction: { message_id: "wamid.X", emoji: "🙏" }, text: undefined }))).toBe(200);
    const target = await cloudChannel(app).proactive.resolve({ to: from });
    expect(target.ok).toBe(true);
    graph.failures.push(GRAPH_ERRORS.reEngagement, GRAPH_ERRORS.reEngagement);
    const err = await app.runtime.handle(startEvent({ channel: "whatsapp-cloud", conversationId: from, userId: from })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ channel: "whatsapp-cloud", status: 400, recipient: "window_closed", retryable: false });
    expect(graph.attempts).toHaveLength(1);
    // WhatsApp knows better: the next trigger needs a template.
    expect(await cloudChannel(app).proactive.resolve({ to: from })).toMatchObject({ ok: false, problem: "window_closed" });
  });

  it("maps 131030 and 131026 to not_allowed and unknown_recipient", async () => {
    const { app, graph } = await start(TEMPLATE_ENV);
    for (const [failure, recipient] of [
      [GRAPH_ERRORS.notAllowed, "not_allowed"],
      [GRAPH_ERRORS.undeliverable, "unknown_recipient"],
    ] as const) {
      graph.failures.push(failure);
      const err = await trigger(app, user(), { variables: { name: "Sam" } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ recipient, retryable: false });
    }
  });
});

describe("WhatsApp Cloud API template configuration", () => {
  const base = { WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID, WHATSAPP_CLOUD_APP_SECRET: APP_SECRET, WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN };
  const problem = (env: Record<string, string>): string => {
    try {
      loadConfig({ ...base, ...env }, { cwd: tmpdir() });
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };

  it("reads the template variables and stops on a half-configured or malformed template, echoing no secret", () => {
    expect(loadConfig({ ...base, ...TEMPLATE_ENV }, { cwd: tmpdir() }).channels["whatsapp-cloud"]).toMatchObject({ template: { name: "csat_request", language: "en_US", parameters: ["{{name}}", "{{question}}"] } });
    expect(problem({ WHATSAPP_CLOUD_TEMPLATE: "csat_request" })).toContain("WHATSAPP_CLOUD_TEMPLATE needs WHATSAPP_CLOUD_TEMPLATE_LANGUAGE");
    expect(problem({ WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: "en" })).toContain("WHATSAPP_CLOUD_TEMPLATE, which is not set");
    expect(problem({ ...TEMPLATE_ENV, WHATSAPP_CLOUD_TEMPLATE_PARAMETERS: "{{name}}" })).toContain("WHATSAPP_CLOUD_TEMPLATE_PARAMETERS is not JSON");
    expect(problem({ ...TEMPLATE_ENV, WHATSAPP_CLOUD_TEMPLATE_LANGUAGE: "English" })).toContain("WHATSAPP_CLOUD_TEMPLATE_LANGUAGE must be the language code");
    expect(problem({ ...TEMPLATE_ENV, WHATSAPP_CLOUD_TEMPLATE_PARAMETERS: "[1]" })).toContain("WHATSAPP_CLOUD_TEMPLATE_PARAMETERS[0] must be a non-empty text");
    for (const env of [{ WHATSAPP_CLOUD_TEMPLATE: "csat_request" }, { ...TEMPLATE_ENV, WHATSAPP_CLOUD_TEMPLATE_PARAMETERS: "x" }]) {
      const message = problem(env);
      expect(message).not.toContain(ACCESS_TOKEN);
      expect(message).not.toContain(APP_SECRET);
    }
  });
});

/** The 24-hour window through each ChannelStorage, on a simulated clock; two channel instances share it. */
describe.each([
  { kind: "memory" as const },
  { kind: "redis" as const },
])("WhatsApp Cloud API 24-hour window in $kind ChannelStorage", ({ kind }) => {
  const prefix = `test-${randomUUID()}:`;
  const redises: Redis[] = [];
  let shared: MemoryChannelStorage | undefined;
  let fake: FakeGraph;
  let clock = Date.now();

  beforeAll(async () => {
    fake = await new FakeGraph().start();
  });
  afterAll(async () => {
    await fake.stop();
    if (redises[0]) {
      const keys = await redises[0].keys(`${prefix}*`);
      if (keys.length > 0) await redises[0].del(...keys);
    }
    await Promise.all(redises.map((r) => r.quit()));
  });

  /** The storage of one web process: a Redis connection of its own, or (memory) the one process's. */
  function storage(): ChannelStorage {
    if (kind === "memory") return (shared ??= new MemoryChannelStorage({ now: () => clock })).scope("whatsapp-cloud:");
    const redis = new Redis(TEST_REDIS_URL);
    redises.push(redis);
    return new RedisChannelStorage(redis, { keyPrefix: prefix }).scope("whatsapp-cloud:");
  }

  function channel(): WhatsappCloudChannel {
    return new WhatsappCloudChannel({ apiRoot: fake.apiRoot, phoneNumberId: PHONE_NUMBER_ID, accessToken: ACCESS_TOKEN, appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, storage: storage(), now: () => clock });
  }

  async function notify(c: WhatsappCloudChannel, payload: unknown): Promise<InboundEvent[]> {
    const parsed = c.parseInbound(payload);
    if (!parsed.ok) throw new Error(parsed.reason);
    const seen: InboundEvent[] = [];
    await c.start(async (e) => {
      seen.push(e);
      return { status: "processed" };
    });
    await c.process(parsed);
    return seen;
  }

  const question: VisibleEffect[] = [{ type: "send", message: { text: "How did we do?", promptId: "p1", buttons: ["👍", "👎"].map((label, index) => ({ label, value: index === 0 ? 100 : 0, index })) } }];

  it("opens at the user's message on one instance, is seen by another, and closes 24 hours later", async () => {
    const [a, b] = [channel(), channel()];
    const from = user();
    const ref = { channel: "whatsapp-cloud", conversationId: from, userId: from };
    expect(await b.proactive.resolve({ to: from })).toMatchObject({ ok: false, problem: "window_closed" });

    clock = Date.now();
    expect(await notify(a, await messageFrom("text-message.json", from, { timestamp: String(Math.floor(clock / 1000)) }))).toHaveLength(1);
    expect(await b.proactive.resolve({ to: from })).toEqual({ ok: true, ref });
    await b.deliver(ref, question, startEvent(ref));
    expect(fake.sentTo(from)).toEqual([
      expect.objectContaining({ type: "interactive", interactive: expect.objectContaining({ type: "button", body: { text: "How did we do?" } }) }),
    ]);

    clock += 23 * 3_600_000;
    expect((await b.proactive.resolve({ to: from })).ok).toBe(true);
    clock += 3_600_000;
    expect(await b.proactive.resolve({ to: from })).toMatchObject({ ok: false, status: 422, problem: "window_closed" });
    await expect(b.deliver(ref, question, startEvent(ref))).rejects.toMatchObject({ recipient: "window_closed", retryable: false });
    expect(fake.sentTo(from)).toHaveLength(1);
  });

  it("does not reopen the window for a message redelivered a day late, and closes it on a failed 131047 status", async () => {
    const [a, b] = [channel(), channel()];
    clock = Date.now();
    const late = user();
    await notify(a, await messageFrom("text-message.json", late, { timestamp: String(Math.floor(clock / 1000) - 86_400) }));
    expect(await b.proactive.resolve({ to: late })).toMatchObject({ ok: false, problem: "window_closed" });

    const from = user();
    await notify(a, await messageFrom("text-message.json", from, { timestamp: String(Math.floor(clock / 1000)) }));
    expect((await b.proactive.resolve({ to: from })).ok).toBe(true);
    const failed = JSON.parse(JSON.stringify(await fixture("status-failed-re-engagement.json")).replaceAll("16505551234", from)) as unknown;
    expect(await notify(a, failed)).toEqual([]);
    expect(await b.proactive.resolve({ to: from })).toMatchObject({ ok: false, problem: "window_closed" });
  });
});
