/**
 * The WhatsApp Cloud API channel through the whole web process (composeApp on a real port):
 * signed, real-shaped webhook payloads in; a local fake Graph API records what goes out.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { composeApp } from "../../app/compose.ts";
import { loadConfig } from "../../app/config.ts";
import { createLogger } from "../../app/logger.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { FakeGraph } from "./whatsapp-cloud-fake-graph.ts";

const PHONE_NUMBER_ID = "106540352242922";
const ACCESS_TOKEN = "EAAG-test-access-token-d41d8cd98f00b204";
const APP_SECRET = "app-secret-5f4dcc3b5aa765d61d8327deb882cf99";
const VERIFY_TOKEN = "verify-me-please";
const COMMENT = "The courier was late but very polite";
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-cloud");

type Payload = {
  entry: { changes: { value: { messages?: Record<string, unknown>[] } }[] }[];
};

async function fixture(name: string): Promise<Payload> {
  return JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as Payload;
}

function firstMessage(p: Payload): Record<string, unknown> {
  return p.entry[0]?.changes[0]?.value.messages?.[0] as Record<string, unknown>;
}

/** A text message from `from` with a fresh message id. */
async function textFrom(from: string, body: string, id = `wamid.${randomUUID()}`): Promise<Payload> {
  const p = await fixture("text-message.json");
  Object.assign(firstMessage(p), { from, id, text: { body } });
  return p;
}

async function replyFrom(from: string, kind: "button" | "list", replyId: string, title: string, id = `wamid.${randomUUID()}`): Promise<Payload> {
  const p = await fixture(kind === "button" ? "button-reply.json" : "list-reply.json");
  const m = firstMessage(p);
  m.from = from;
  m.id = id;
  const interactive = m.interactive as Record<string, unknown>;
  interactive[kind === "button" ? "button_reply" : "list_reply"] = { id: replyId, title };
  return p;
}

let store: PgliteSurveyStore;
let graph: FakeGraph;
beforeAll(async () => {
  store = await openSharedStore();
});
afterAll(async () => {
  await store?.close();
});

let t: TestApp | undefined;
let url = "";
afterEach(async () => {
  await t?.dispose();
  await graph?.stop();
  t = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  graph = await new FakeGraph().start();
  t = await startTestApp(
    {
      WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
      WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
      WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN,
      WHATSAPP_CLOUD_API_ROOT: graph.apiRoot,
      ...env,
    },
    { surveyStore: store },
  );
  url = (await t.app.listen()).url;
  return t;
}

async function post(payload: unknown, signature?: string): Promise<Response> {
  const raw = JSON.stringify(payload);
  return fetch(`${url}/whatsapp/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": signature ?? signBody(raw, APP_SECRET) },
    body: raw,
  });
}

function user(): string {
  return `1650${Math.floor(Math.random() * 1e7).toString().padStart(7, "0")}`;
}

describe("WhatsApp Cloud API webhook verification", () => {
  it("echoes hub.challenge for the right verify token and refuses a wrong one", async () => {
    await start();
    const ok = await fetch(`${url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("1158201444");
    const wrong = await fetch(`${url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444`);
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).not.toContain("1158201444");
  });
});

describe("WhatsApp Cloud API CSAT survey", () => {
  it("runs the survey: first text → list → list_reply 4 → comment → thanks, and stores the record", async () => {
    const app = await start();
    const from = user();

    expect((await post(await textFrom(from, "Hello"))).status).toBe(200);
    const [rating] = graph.sentTo(from);
    expect(graph.requests[0]?.path).toBe(`/v21.0/${PHONE_NUMBER_ID}/messages`);
    expect(graph.requests[0]?.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    // Six options (1–5 and Skip) are more than 3 reply buttons: an interactive list.
    expect(rating).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: from,
      type: "interactive",
      interactive: {
        type: "list",
        body: { text: "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied)." },
        action: {
          button: "Choose an answer",
          sections: [
            {
              rows: [
                { id: "bf1|p1|0", title: "1" },
                { id: "bf1|p1|1", title: "2" },
                { id: "bf1|p1|2", title: "3" },
                { id: "bf1|p1|3", title: "4" },
                { id: "bf1|p1|4", title: "5" },
                { id: "bf1|p1|5", title: "Skip" },
              ],
            },
          ],
        },
      },
    });

    expect((await post(await replyFrom(from, "list", "bf1|p1|3", "4"))).status).toBe(200);
    const comment = graph.sentTo(from)[1];
    // One option with a short title fits reply buttons.
    expect(comment).toMatchObject({
      type: "interactive",
      interactive: {
        type: "button",
        body: { text: "Thank you! Would you like to add a comment to your rating?" },
        action: { buttons: [{ type: "reply", reply: { id: "bf1|p2|0", title: "No comment" } }] },
      },
    });

    expect((await post(await textFrom(from, COMMENT))).status).toBe(200);
    expect(graph.sentTo(from)[2]).toMatchObject({ type: "text", text: { body: "Thank you for your feedback!" } });
    expect(graph.sentTo(from)).toHaveLength(3);

    // The stored survey's common fields and the logs' lack of token, app secret and comment are the
    // contract suite's (channel-contract.ts, for every channel).
    expect(await storedDialogue(store, from)).toMatchObject({ channel: "whatsapp-cloud", score: 4, comment: COMMENT });
  });

  it("takes a button_reply (No comment) and a typed number, and tells a tap on an answered question", async () => {
    await start();
    const from = user();
    await post(await textFrom(from, "hi"));
    expect((await post(await textFrom(from, "2"))).status).toBe(200);
    expect((await post(await replyFrom(from, "button", "bf1|p2|0", "No comment"))).status).toBe(200);
    expect(graph.sentTo(from).at(-1)).toMatchObject({ type: "text", text: { body: "Thank you for your feedback!" } });
    expect(await storedDialogue(store, from)).toMatchObject({ score: 2, completed: true, comment: "" });

    // A late tap on the rating list after the survey ended changes nothing.
    const before = graph.sentTo(from).length;
    expect((await post(await replyFrom(from, "list", "bf1|p1|4", "5"))).status).toBe(200);
    expect(await storedDialogue(store, from)).toMatchObject({ score: 2 });
    expect(graph.sentTo(from).length).toBe(before);
  });

  it("sends three short options as reply buttons (emoji scenario)", async () => {
    await start({ BOTFLOW_SCENARIO: "csat_emoji" });
    const from = user();
    await post(await textFrom(from, "hi"));
    expect(graph.sentTo(from)[0]).toMatchObject({
      type: "interactive",
      interactive: {
        type: "button",
        action: {
          buttons: [
            { type: "reply", reply: { id: "bf1|p1|0", title: "👍" } },
            { type: "reply", reply: { id: "bf1|p1|1", title: "👎" } },
            { type: "reply", reply: { id: "bf1|p1|2", title: "Skip" } },
          ],
        },
      },
    });
    await post(await replyFrom(from, "button", "bf1|p1|0", "👍"));
    await post(await replyFrom(from, "button", "bf1|p2|0", "No comment"));
    expect(await storedDialogue(store, from)).toMatchObject({ scenarioId: "csat_emoji", score: 100, completed: true });
  });
});

describe("WhatsApp Cloud API webhook safety", () => {
  it("answers 401 to a wrong or missing signature and processes nothing", async () => {
    const app = await start();
    const from = user();
    const payload = await textFrom(from, "Hello");
    expect((await post(payload, signBody(JSON.stringify(payload), "not-the-app-secret"))).status).toBe(401);
    expect((await post(payload, "sha256=00")).status).toBe(401);
    const raw = JSON.stringify(payload);
    // Signed bytes that differ from the sent ones (re-serialised with spaces) do not pass either.
    const respaced = await fetch(`${url}/whatsapp/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) },
      body: JSON.stringify(payload, null, 1),
    });
    expect(respaced.status).toBe(401);
    const unsigned = await fetch(`${url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
    expect(unsigned.status).toBe(401);
    expect(graph.requests).toHaveLength(0);
    expect(await storedDialogue(store, from)).toBeUndefined();
    // The same payload correctly signed is taken: the refusals were about the signature alone.
    expect((await post(payload)).status).toBe(200);
    expect(graph.sentTo(from)).toHaveLength(1);
    expect(app.logs.join("\n")).not.toContain(APP_SECRET);
  });

  it("counts a redelivered message once (dedupe on the message id)", async () => {
    await start();
    const from = user();
    const first = await textFrom(from, "hi", `wamid.${randomUUID()}`);
    await post(first);
    await post(first);
    expect(graph.sentTo(from)).toHaveLength(1);
    const rating = await replyFrom(from, "list", "bf1|p1|4", "5", `wamid.${randomUUID()}`);
    await post(rating);
    await post(rating);
    expect(graph.sentTo(from)).toHaveLength(2);
    const skip = await replyFrom(from, "button", "bf1|p2|0", "No comment");
    await post(skip);
    await post(skip);
    expect(graph.sentTo(from)).toHaveLength(3);
    const rows = (await store.listDialogues({ limit: 1000 })).rows.filter((r) => r.conversationId === from);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ score: 5, completed: true });
  });

  it("ignores status notifications and messages to another phone number of the account", async () => {
    await start();
    const status = await fixture("status-delivered.json");
    expect((await post(status)).status).toBe(200);
    const from = user();
    const other = await textFrom(from, "hi");
    const value = other.entry[0]?.changes[0]?.value as Record<string, unknown>;
    value.metadata = { display_phone_number: "15550000000", phone_number_id: "999999999999" };
    expect((await post(other)).status).toBe(200);
    expect(graph.requests).toHaveLength(0);
  });

  it("retries a rate-limited Graph API, and asks Meta to redeliver when a send fails", async () => {
    const app = await start();
    const from = user();
    graph.failures.push(429);
    expect((await post(await textFrom(from, "hi"))).status).toBe(200);
    expect(graph.sentTo(from)).toHaveLength(1);

    const other = user();
    graph.failures.push(400);
    const payload = await textFrom(other, "hi");
    expect((await post(payload)).status).toBe(500);
    expect(graph.sentTo(other)).toHaveLength(0);
    // Meta delivers it again; the step was not saved, so the survey starts now, once.
    expect((await post(payload)).status).toBe(200);
    expect(graph.sentTo(other)).toHaveLength(1);
    expect(app.logs.join("\n")).toContain("answered 500 so Meta delivers it again");
  });
});

describe("WhatsApp Cloud API limits and configuration", () => {
  it("refuses at load time a label too long for a list row, naming the block", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-wa-limits-"));
    try {
      const scenarios = path.join(dir, "scenarios");
      await import("node:fs/promises").then((fs) => fs.mkdir(scenarios));
      const csat = await readFile(path.resolve(import.meta.dirname, "../../scenarios/csat.yaml"), "utf8");
      await writeFile(path.join(scenarios, "csat.yaml"), csat.replace('label: { en: Skip, uk: Пропустити }', 'label: { en: "I would rather not answer this", uk: Пропустити }'));
      const base = { PORT: "0", BOTFLOW_WATCH: "false", BOTFLOW_DATA_DIR: path.join(dir, "data"), BOTFLOW_SCENARIOS_DIR: scenarios };
      const logger = createLogger("silent");
      const cloud = {
        WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN,
        WHATSAPP_CLOUD_PHONE_NUMBER_ID: PHONE_NUMBER_ID,
        WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
        WHATSAPP_CLOUD_VERIFY_TOKEN: VERIFY_TOKEN,
      };
      const err = await composeApp(loadConfig({ ...base, ...cloud }, { cwd: dir }), { logger, surveyStore: store }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/block "ask_rating": label "I would rather not answer this" \(en\) is 30 characters; whatsapp-cloud allows 24/);
      // Without the channel the same scenario loads (the web chat allows longer labels).
      const app = await composeApp(loadConfig(base, { cwd: dir }), { logger, surveyStore: store });
      await app.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops on a partial configuration, naming the missing variables and echoing no secret", () => {
    let message = "";
    try {
      loadConfig({ WHATSAPP_CLOUD_ACCESS_TOKEN: ACCESS_TOKEN, WHATSAPP_CLOUD_APP_SECRET: APP_SECRET }, { cwd: tmpdir() });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("WHATSAPP_CLOUD_PHONE_NUMBER_ID, WHATSAPP_CLOUD_VERIFY_TOKEN are not set");
    expect(message).not.toContain(ACCESS_TOKEN);
    expect(message).not.toContain(APP_SECRET);
    expect(loadConfig({}, { cwd: tmpdir() }).channels["whatsapp-cloud"]).toBeUndefined();
  });
});
