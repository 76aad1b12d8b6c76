/**
 * The survey rules of the trigger API through the whole web process on Telegram, on a simulated
 * clock: what each rule answers the caller, what reaches the recipient (the local fake Bot API)
 * and what the store keeps. Cooldown skips and then lets the next one through, seeded sampling
 * decides by the key alone, expiry closes an unanswered survey so a late tap records nothing, and
 * quiet hours delay (never drop) a trigger to their end in the given zone.
 *
 * The sweeper's interval is an hour of real time, so timeouts and expiries fire only when a test
 * calls `app.sweep()`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isSampled } from "../../engine/survey-rules.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi, type RecordedCall } from "../channels/telegram-fake-bot-api.ts";
import { newChat, tapUpdate } from "../channels/telegram-updates.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { API_TOKEN, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const SECRET = "webhook-secret_5f2c9d1e";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeBotApi(): Promise<FakeBotApi> {
  const api = await new FakeBotApi(TOKEN).start();
  cleanups.push(() => api.stop());
  return api;
}

/** A web process with Telegram on `api`, the trigger API and `clock`; disposed after the test (or earlier by `dispose`). */
async function startApp(api: FakeBotApi, clock: ManualClock, surveyStore: PgliteSurveyStore = store): Promise<{ t: TestApp; url: string; dispose: () => Promise<void> }> {
  const t = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, BOTFLOW_TOKEN: API_TOKEN, BOTFLOW_SWEEP_INTERVAL: "1h" },
    { surveyStore, clock },
  );
  let disposed: Promise<void> | undefined;
  const dispose = () => (disposed ??= t.dispose());
  cleanups.push(dispose);
  const { url } = await t.app.listen();
  return { t, url, dispose };
}

const sends = (api: FakeBotApi, chat: number): RecordedCall[] => api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat && c.status === 200);

/** The message_id the fake gave a successful sendMessage (they count up from 5001). */
const messageIdOf = (api: FakeBotApi, call: RecordedCall): number => 5001 + api.calls.filter((c) => c.method === "sendMessage" && c.status === 200).indexOf(call);

async function webhook(url: string, update: unknown): Promise<number> {
  const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update) });
  await res.text();
  return res.status;
}

/** Long enough for a send the outbox had wrongly taken to reach the fake. */
const settle = () => new Promise((r) => setTimeout(r, 300));

const RATING = "rate the quality of service";

describe("trigger API survey rules on Telegram", () => {
  it("cooldown: a second survey to the chat within the period is skipped and sends nothing; once the period has passed the next one is sent", async () => {
    const api = await fakeBotApi();
    const clock = new ManualClock(Date.parse("2026-12-03T10:00:00Z"));
    const { url } = await startApp(api, clock);
    const chat = newChat();
    const other = newChat();
    const body = (key: string) => ({ channel: "telegram", to: String(chat), scenario: "csat", key: `${key}-${chat}`, policy: { cooldown: "7d" } });

    const first = await trigger(url, body("T-1"));
    expect(first).toMatchObject({ status: 202, body: { result: "started" } });
    await untilState(url, first.body.id as string, "sent");
    expect(sends(api, chat)).toHaveLength(1);

    clock.advance(3 * DAY);
    const cooled = await trigger(url, body("T-2"));
    expect(cooled).toMatchObject({ status: 200, body: { result: "skipped", state: "skipped", reason: "cooldown" } });
    expect(await triggerState(url, cooled.body.id as string)).toMatchObject({ state: "skipped", reason: "cooldown" });
    // The cooldown is the recipient's: another chat is surveyed meanwhile.
    const elsewhere = await trigger(url, { ...body("T-3"), to: String(other) });
    expect(elsewhere).toMatchObject({ status: 202, body: { result: "started" } });
    await until(() => sends(api, other)[0]);
    await settle();
    expect(sends(api, chat)).toHaveLength(1);

    // Seven days after the first (four after the skipped one, which does not count): sent.
    clock.advance(4 * DAY + 60_000);
    const later = await trigger(url, body("T-4"));
    expect(later).toMatchObject({ status: 202, body: { result: "started" } });
    await untilState(url, later.body.id as string, "sent");
    const [, second] = await until(() => (sends(api, chat).length === 2 ? sends(api, chat) : undefined));
    expect(second?.payload.text).toContain(RATING);
  });

  it("sampling: with a seed, the 40 keys sent are exactly those the hash picks, skipped ones send nothing, and another server decides the same for other recipients", async () => {
    const rules = { sample: 0.3, seed: "csat-dec-2026" };
    const keys = Array.from({ length: 40 }, (_, i) => `ticket-${i}`);
    const expected = keys.map((k) => (isSampled(rules, k) ? "started" : "skipped"));
    // The hash is part of the contract (a ticket keeps its decision across versions): 13 of these 40.
    expect(expected.filter((d) => d === "started")).toHaveLength(13);

    const run = async (surveyStore: PgliteSurveyStore) => {
      const api = await fakeBotApi();
      const clock = new ManualClock(Date.parse("2026-12-03T10:00:00Z"));
      const { url } = await startApp(api, clock, surveyStore);
      const chats = keys.map(() => newChat());
      const answers = [];
      for (const [i, key] of keys.entries()) answers.push(await trigger(url, { channel: "telegram", to: String(chats[i]), scenario: "csat", key, policy: rules }));
      for (const [i, a] of answers.entries()) {
        if (expected[i] === "started") expect(a).toMatchObject({ status: 202, body: { result: "started", key: keys[i] } });
        else expect(a).toMatchObject({ status: 200, body: { result: "skipped", state: "skipped", reason: "sample", key: keys[i] } });
      }
      const started = chats.filter((_, i) => expected[i] === "started");
      // The bot's pacing bucket refills on the app's clock: let it run while the 13 go out.
      await until(() => clock.advance(50) && started.every((c) => sends(api, c).length === 1));
      await settle();
      for (const [i, chat] of chats.entries()) expect(sends(api, chat)).toHaveLength(expected[i] === "started" ? 1 : 0);
      expect(api.calls.filter((c) => c.method === "sendMessage")).toHaveLength(13);
      // A retried key keeps its decision and its id, sampled or not.
      for (const i of [0, 1, 2, 3]) expect(await trigger(url, { channel: "telegram", to: String(chats[i]), scenario: "csat", key: keys[i], policy: rules })).toMatchObject({ status: 200, body: { result: "duplicate", id: answers[i]?.body.id } });
      return answers.map((a) => a.body.result);
    };

    expect(await run(store)).toEqual(expected);
    // The same keys on a second server with its own statistics: the same decisions.
    const second = await openSharedStore();
    cleanups.push(() => second.close());
    expect(await run(second)).toEqual(expected);
  });

  it("expiry: an unanswered survey is open just before expire_after, closed as declined after it; a late tap on the old keyboard records no rating", async () => {
    const api = await fakeBotApi();
    const clock = new ManualClock(Date.parse("2026-12-03T10:00:00Z"));
    const { t, url } = await startApp(api, clock);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", policy: { expire_after: "2h" } });
    expect(answer.status).toBe(202);
    const id = answer.body.id as string;
    const sent = await untilState(url, id, "sent");
    expect(sent).toMatchObject({ sentAt: "2026-12-03T10:00:00.000Z", expiresAt: "2026-12-03T12:00:00.000Z" });
    const question = await until(() => sends(api, chat)[0]);

    clock.advance(2 * HOUR - 60_000);
    await t.app.sweep();
    expect((await triggerState(url, id)).state).toBe("sent");

    clock.advance(2 * 60_000);
    await t.app.sweep();
    expect((await triggerState(url, id)).state).toBe("expired");
    const declined = await until(() => storedDialogue(store, String(chat)).then((r) => (r?.denied ? r : undefined)));
    expect(declined).toMatchObject({ denied: true, completed: false, score: null, triggerId: id });
    // The question's buttons are taken away, and nothing more is said.
    await until(() => api.calls.find((c) => c.method === "editMessageReplyMarkup" && c.payload.chat_id === chat && c.payload.message_id === messageIdOf(api, question)));
    expect(sends(api, chat)).toHaveLength(1);

    // The customer finds the old message and taps 5: acknowledged, but nothing is recorded or asked.
    expect(await webhook(url, tapUpdate(chat, "p1:4", messageIdOf(api, question), question.payload.reply_markup))).toBe(200);
    await until(() => api.calls.find((c) => c.method === "answerCallbackQuery"));
    await settle();
    expect(sends(api, chat)).toHaveLength(1);
    expect(await storedDialogue(store, String(chat))).toMatchObject({ denied: true, completed: false, score: null });
    expect((await triggerState(url, id)).state).toBe("expired");
    expect(await t.app.sweep()).toBe(0);
  });

  it("expiry leaves an answered survey alone: it completes by its own comment timeout", async () => {
    const api = await fakeBotApi();
    const clock = new ManualClock(Date.parse("2026-12-03T10:00:00Z"));
    const { t, url } = await startApp(api, clock);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", policy: { expire_after: "2h" } });
    const id = answer.body.id as string;
    await untilState(url, id, "sent");
    const question = await until(() => sends(api, chat)[0]);
    clock.advance(30 * 60_000);
    expect(await webhook(url, tapUpdate(chat, "p1:3", messageIdOf(api, question), question.payload.reply_markup))).toBe(200);
    await until(() => sends(api, chat)[1]);
    await untilState(url, id, "answered");

    clock.advance(2 * HOUR);
    await t.app.sweep(); // the comment's 1 h timeout fires; the expiry has nothing left to close
    await untilState(url, id, "completed");
    expect(await storedDialogue(store, String(chat))).toMatchObject({ score: 4, completed: true, denied: false, triggerId: id });
  });

  it("quiet hours: a trigger at 22:00 in Kyiv is scheduled for 08:00 Kyiv the next morning, kept in the store, and sent once that time has come", async () => {
    const api = await fakeBotApi();
    const clock = new ManualClock(Date.parse("2026-12-03T22:00:00+02:00"));
    const first = await startApp(api, clock);
    const chat = newChat();
    const quiet = { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" };
    const answer = await trigger(first.url, { channel: "telegram", to: String(chat), scenario: "csat", key: `Q-${chat}`, policy: { quiet_hours: quiet } });
    expect(answer).toMatchObject({ status: 202, body: { result: "scheduled", state: "scheduled", runAt: "2026-12-04T06:00:00.000Z" } });
    const id = answer.body.id as string;
    expect(await triggerState(first.url, id)).toMatchObject({ state: "scheduled", runAt: "2026-12-04T06:00:00.000Z" });
    const metrics = await (await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
    expect(metrics).toContain('botflow_trigger_outbox_jobs{state="delayed"} 1');
    await settle();
    expect(sends(api, chat)).toHaveLength(0);

    // The process goes down overnight; at 08:00 Kyiv the next one finds the trigger in the store and sends it.
    await first.dispose();
    clock.set(Date.parse("2026-12-04T08:00:00+02:00"));
    const second = await startApp(api, clock);
    const sent = await untilState(second.url, id, "sent");
    expect(sent).toMatchObject({ sentAt: "2026-12-04T06:00:00.000Z" });
    expect((await until(() => sends(api, chat)[0])).payload.text).toContain(RATING);
    await settle();
    expect(sends(api, chat)).toHaveLength(1);
  });

  it("quiet hours: the edges, a delay landing inside, the recipient's own zone, and daylight-saving nights", async () => {
    const api = await fakeBotApi();
    const clock = new ManualClock(Date.parse("2026-12-03T20:59:00+02:00"));
    const { url } = await startApp(api, clock);
    const quiet = { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" };
    const ask = (extra: Record<string, unknown> = {}, policy: Record<string, unknown> = {}) =>
      trigger(url, { channel: "telegram", to: String(newChat()), scenario: "csat", ...extra, policy: { quiet_hours: quiet, ...policy } });

    // (The clock only moves forward: the app's pacing buckets refill on it.)
    expect(await ask()).toMatchObject({ status: 202, body: { result: "started", runAt: "2026-12-03T18:59:00.000Z" } }); // 20:59: not yet quiet
    expect(await ask({ delay: "1m" })).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2026-12-04T06:00:00.000Z" } }); // 21:00 is quiet
    // policy.timezone is the recipient's: 22:00 in Kyiv is 15:00 in New York, not quiet there.
    clock.set(Date.parse("2026-12-03T22:00:00+02:00"));
    expect(await ask({}, { timezone: "America/New_York" })).toMatchObject({ status: 202, body: { result: "started" } });
    clock.set(Date.parse("2026-12-04T07:59:30.250+02:00"));
    expect(await ask()).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2026-12-04T06:00:00.000Z" } });
    clock.set(Date.parse("2026-12-04T08:00:00+02:00"));
    expect(await ask()).toMatchObject({ status: 202, body: { result: "started", runAt: "2026-12-04T06:00:00.000Z" } }); // 08:00 is not
    // At 02:00 in New York (09:00 in Kyiv) it waits for 08:00 New York time.
    clock.set(Date.parse("2026-12-04T02:00:00-05:00"));
    expect(await ask({}, { timezone: "America/New_York" })).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2026-12-04T13:00:00.000Z" } });

    // Kyiv moves to summer time at 03:00 on 28 March 2027: 22:00 (UTC+2) waits for 08:00 UTC+3.
    clock.set(Date.parse("2027-03-27T22:00:00+02:00"));
    expect(await ask()).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2027-03-28T05:00:00.000Z" } });
    // … and back to winter time at 04:00 on 31 October 2027: 22:00 (UTC+3) waits for 08:00 UTC+2.
    clock.set(Date.parse("2027-10-30T22:00:00+03:00"));
    expect(await ask()).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2027-10-31T06:00:00.000Z" } });
  });

  describe("rules against each other", () => {
    // The cooldown's check and the record are one step under a per-recipient lock (the store's
    // insert), so triggers with different keys for one chat accepted at once let one through.
    // (Delayed here so that nothing is sent: a scheduled trigger counts for the cooldown as a sent one does.)
    it("cooldown lets one through of several triggers with different keys accepted at once for the same chat", async () => {
      const api = await fakeBotApi();
      const { url } = await startApp(api, new ManualClock(Date.parse("2026-12-03T10:00:00Z")));
      for (let round = 0; round < 6; round++) {
        const chat = newChat();
        const answers = await Promise.all(["A", "B", "C", "D"].map((k) => trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", key: `${k}-${chat}`, delay: "1h", policy: { cooldown: "7d" } })));
        expect(answers.map((a) => a.body.result).sort()).toEqual(["scheduled", "skipped", "skipped", "skipped"]);
      }
    });

    // An expiry names the trigger it is for (`expire: { triggerId }`), and the interpreter ends
    // only the dialogue that trigger started: a newer survey in the same chat keeps its buttons.
    it("an older trigger's expiry leaves alone the newer survey that replaced it in the same chat", async () => {
      const api = await fakeBotApi();
      const clock = new ManualClock(Date.parse("2026-12-03T10:00:00Z"));
      const { t, url } = await startApp(api, clock);
      const chat = newChat();
      const older = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", key: `A-${chat}`, policy: { expire_after: "2h" } });
      await untilState(url, older.body.id as string, "sent");
      clock.advance(HOUR);
      const newer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", key: `B-${chat}` });
      const newerId = newer.body.id as string;
      await untilState(url, newerId, "sent");
      const question = await until(() => sends(api, chat)[1]);

      clock.advance(HOUR + 60_000); // the older one's expiry has passed, the newer one has none
      await t.app.sweep();
      expect((await triggerState(url, older.body.id as string)).state).toBe("expired");
      expect((await triggerState(url, newerId)).state).toBe("sent");
      expect(api.calls.filter((c) => c.method === "editMessageReplyMarkup" && c.payload.message_id === messageIdOf(api, question))).toHaveLength(0);
      const keyboard = question.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] };
      const four = keyboard.inline_keyboard.flat()[3]!.callback_data; // the newer dialogue's own prompt id
      expect(await webhook(url, tapUpdate(chat, four, messageIdOf(api, question), keyboard))).toBe(200);
      await untilState(url, newerId, "answered", 2_000);
    });
  });
});
