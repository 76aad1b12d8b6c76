/**
 * The trigger API through the whole web process on Telegram: POST /api/dialogues with the token,
 * the first question sent unprompted by the real grammY stack to the local fake Bot API, the
 * user's taps through the webhook completing the survey with the trigger's variables recorded,
 * and what an unauthenticated, malformed or duplicate call changes (nothing).
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { isSampled } from "../../engine/survey-rules.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat, tapUpdate } from "../channels/telegram-updates.ts";

const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const SECRET = "webhook-secret_5f2c9d1e";
const API_TOKEN = "trigger-api-token-0123456789";
const runId = randomUUID().slice(0, 8);

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
let fake: FakeBotApi | undefined;
afterEach(async () => {
  await t?.dispose();
  await fake?.stop();
  t = undefined;
  fake = undefined;
});

async function start(env: Record<string, string> = {}, clock?: ManualClock) {
  fake = await new FakeBotApi(TOKEN).start();
  t = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, BOTFLOW_TOKEN: API_TOKEN, ...env },
    { surveyStore: store, ...(clock ? { clock } : {}) },
  );
  const { url } = await t.app.listen();
  return { api: fake, url, app: t };
}

async function trigger(url: string, body: unknown, token: string | null = API_TOKEN): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/dialogues`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function state(url: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/dialogues/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  return (await res.json()) as Record<string, unknown>;
}

async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function post(url: string, update: unknown): Promise<number> {
  const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update) });
  await res.text();
  return res.status;
}

const sends = (api: FakeBotApi, chat: number) => api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat && c.status === 200);

describe("POST /api/dialogues on Telegram", () => {
  it("sends the first question unprompted; the taps complete the survey with the trigger's variables and id recorded", async () => {
    const { api, url } = await start();
    const chat = newChat();
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", key, variables: { agent: "olena", team: "billing", ticket: key } });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ result: "started", channel: "telegram", to: String(chat), scenario: "csat", key, variables: { agent: "olena", team: "billing", ticket: key } });
    const id = answer.body.id as string;

    const first = await until(() => sends(api, chat)[0]);
    expect(first.payload.text).toContain("rate the quality of service");
    await until(async () => ((await state(url, id)).state === "sent" ? true : undefined));

    const keyboard = first.payload.reply_markup;
    expect(await post(url, tapUpdate(chat, "p1:4", 5001 + api.calls.filter((c) => c.method === "sendMessage").indexOf(first), keyboard))).toBe(200);
    const comment = await until(() => sends(api, chat)[1]);
    expect(await post(url, tapUpdate(chat, "p2:0", 5001 + api.calls.filter((c) => c.method === "sendMessage").indexOf(comment), comment.payload.reply_markup))).toBe(200);

    const row = await until(() => storedDialogue(store, String(chat)).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "telegram", botId: "7012345678", score: 5, completed: true, triggerId: id, context: { agent: "olena", team: "billing", ticket: key } });
    expect((await state(url, id)).state).toBe("completed");
  });

  it("answers a retried key with the first dialogue, sequentially and concurrently, and sends one question", async () => {
    const { api, url } = await start();
    const chat = newChat();
    const key = `T-${randomUUID()}`;
    const body = { channel: "telegram", to: String(chat), scenario: "csat", key };
    const answers = await Promise.all([trigger(url, body), trigger(url, body), trigger(url, body)]);
    const again = await trigger(url, body);
    const ids = new Set([...answers, again].map((a) => a.body.id));
    expect(ids.size).toBe(1);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 202]);
    expect(again).toMatchObject({ status: 200, body: { result: "duplicate" } });
    await until(() => sends(api, chat)[0]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sends(api, chat)).toHaveLength(1);
  });

  it("schedules a delayed trigger and sends it when its time comes", async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 3, 10, 0, 0));
    const { api, url } = await start({}, clock);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", delay: "1s" });
    expect(answer).toMatchObject({ status: 202, body: { result: "scheduled", state: "scheduled", runAt: "2026-12-03T10:00:01.000Z" } });
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
    expect(metrics).toContain('botflow_trigger_outbox_jobs{state="delayed"} 1');
    clock.advance(1_000);
    await until(() => sends(api, chat)[0], 5_000);
  });

  it("refuses an unauthenticated, a malformed and an impossible call, recording and sending nothing", async () => {
    const { api, url } = await start();
    const chat = newChat();
    const body = { channel: "telegram", to: String(chat), scenario: "csat", key: `T-${randomUUID()}` };
    expect((await trigger(url, body, null)).status).toBe(401);
    expect((await trigger(url, body, "wrong-token-wrong-token")).status).toBe(401);
    expect(await trigger(url, "{not json")).toMatchObject({ status: 400 });
    expect(await trigger(url, { ...body, variables: { "bad name": 1 } })).toMatchObject({ status: 400, body: { field: "variables.bad name" } });
    expect(await trigger(url, { ...body, delay: "soon" })).toMatchObject({ status: 400, body: { field: "delay" } });
    expect(await trigger(url, { ...body, channel: "fax" })).toMatchObject({ status: 400, body: { field: "channel" } });
    expect(await trigger(url, { ...body, channel: "teams" })).toMatchObject({ status: 422, body: { error: "channel_not_enabled" } });
    expect(await trigger(url, { ...body, scenario: "no_such_scenario" })).toMatchObject({ status: 422, body: { error: "unknown_scenario" } });
    expect(await trigger(url, { ...body, to: "not-a-chat" })).toMatchObject({ status: 422 });
    // The key was never used: a good call with it is the first, and the only question sent.
    expect(await trigger(url, body)).toMatchObject({ status: 202, body: { result: "started" } });
    await until(() => sends(api, chat)[0]);
    expect(sends(api, chat)).toHaveLength(1);
  });

  it("applies the rules: cooldown and seeded sampling skip with their rule, quiet hours delay, expiry closes an unanswered survey as declined", async () => {
    const clock = new ManualClock(Date.parse("2026-12-03T19:30:00Z")); // 21:30 in Kyiv
    const { api, app, url } = await start({}, clock);
    const chat = newChat();
    const first = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", policy: { expire_after: "2h" } });
    expect(first.status).toBe(202);
    await until(() => sends(api, chat)[0]);
    await until(async () => ((await state(url, first.body.id as string)).state === "sent" ? true : undefined));
    const cooled = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", policy: { cooldown: "7d" } });
    expect(cooled).toMatchObject({ status: 200, body: { result: "skipped", state: "skipped", reason: "cooldown" } });

    // Sampling by a hash of key and seed: each key's decision is the seeded hash's, whichever server asks.
    const keys = Array.from({ length: 30 }, (_, i) => `S-${i}`);
    const decide = async () => {
      const out: string[] = [];
      for (const key of keys) {
        const r = await trigger(url, { channel: "telegram", to: String(newChat()), scenario: "csat", key: `${key}-${runId}`, policy: { sample: 0.3, seed: "dec-2026" } });
        out.push(String(r.body.result));
      }
      return out;
    };
    const decisions = await decide();
    const sent = decisions.filter((d) => d === "started").length;
    expect(decisions).toEqual(keys.map((k) => (isSampled({ sample: 0.3, seed: "dec-2026" }, `${k}-${runId}`) ? "started" : "skipped")));
    expect(sent).toBeGreaterThan(2);
    expect(sent).toBeLessThan(20);
    expect(await decide()).toEqual(decisions.map(() => "duplicate")); // a retried key keeps its first decision

    // Quiet hours 21:00–08:00 in Kyiv: the trigger waits for 08:00 local (06:00 UTC), it is not dropped.
    const quiet = await trigger(url, { channel: "telegram", to: String(newChat()), scenario: "csat", policy: { quiet_hours: { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" } } });
    expect(quiet).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2026-12-04T06:00:00.000Z" } });

    // Nobody answers the first survey: past its expiry the sweep closes it as declined.
    clock.advance(2 * 3_600_000 + 1);
    await app.app.sweep();
    expect((await state(url, first.body.id as string)).state).toBe("expired");
    const row = await until(() => storedDialogue(store, String(chat)).then((r) => (r?.denied ? r : undefined)));
    expect(row).toMatchObject({ denied: true, completed: false, triggerId: first.body.id });
  });

  it("records a recipient who blocked the bot as failed: blocked, and does not retry", async () => {
    const { api, url } = await start();
    const chat = newChat();
    api.failures.set("sendMessage", [{ status: 403, description: "Forbidden: bot was blocked by the user", when: (p) => p.chat_id === chat }]);
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat" });
    expect(answer.status).toBe(202);
    const s = await until(async () => {
      const v = await state(url, answer.body.id as string);
      return v.state === "failed" ? v : undefined;
    });
    expect(s).toMatchObject({ state: "failed", reason: "blocked" });
    await new Promise((r) => setTimeout(r, 200));
    expect(api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat)).toHaveLength(1);
  });
});
