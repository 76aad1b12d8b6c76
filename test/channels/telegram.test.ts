/**
 * The Telegram channel through the whole web process (composeApp) and the real grammY stack:
 * real Update fixtures posted to POST /telegram/webhook, Bot API calls answered and recorded by a
 * local fake Bot API server, the survey read back from the embedded statistics store.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { useSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { FakeBotApi } from "./telegram-fake-bot-api.ts";
import { newChat, startUpdate, tapUpdate, textUpdate } from "./telegram-updates.ts";

const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const SECRET = "webhook-secret_5f2c9d1e";
const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const RATING_KEYBOARD = {
  inline_keyboard: [
    [
      { text: "1", callback_data: "p1:0" },
      { text: "2", callback_data: "p1:1" },
      { text: "3", callback_data: "p1:2" },
      { text: "4", callback_data: "p1:3" },
      { text: "5", callback_data: "p1:4" },
    ],
    [{ text: "Skip", callback_data: "p1:5" }],
  ],
};
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const COMMENT_KEYBOARD = { inline_keyboard: [[{ text: "No comment", callback_data: "p2:0" }]] };
const COMMENT = "Quick and friendly, thank you";

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

async function start(env: Record<string, string> = {}, clock?: ManualClock): Promise<{ api: FakeBotApi; url: string; app: TestApp }> {
  fake = await new FakeBotApi(TOKEN).start();
  t = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, ...env },
    { surveyStore: store, ...(clock ? { clock } : {}) },
  );
  const { url } = await t.app.listen();
  return { api: fake, url, app: t };
}

/** Posts like Telegram does; `secret` null sends no secret header. */
async function post(url: string, update: unknown, secret: string | null = SECRET): Promise<number> {
  const res = await fetch(`${url}/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(secret !== null ? { "x-telegram-bot-api-secret-token": secret } : {}) },
    body: JSON.stringify(update),
  });
  await res.text();
  return res.status;
}

/** The message id the fake gave the n-th sendMessage. */
function messageIdOf(api: FakeBotApi, n: number): number {
  const call = api.calls.filter((c) => c.method === "sendMessage" && c.status === 200)[n];
  if (!call) throw new Error(`no sendMessage #${n}`);
  return 5001 + api.calls.filter((c) => c.method === "sendMessage" && c.status === 200).indexOf(call);
}

function callbackDataOf(markup: unknown): string[] {
  const rows = (markup as { inline_keyboard: { callback_data?: string }[][] }).inline_keyboard;
  return rows.flat().map((b) => b.callback_data ?? "");
}

describe("Telegram webhook through the real grammY stack", () => {
  it("runs the CSAT survey: /start → tap 4 → comment → thanks, recorded once in the statistics store", async () => {
    const { api, url, app } = await start();
    const chat = newChat();

    expect(await post(url, startUpdate(chat))).toBe(200);
    expect(api.payloads("sendMessage")).toEqual([{ chat_id: chat, text: RATING_TEXT, reply_markup: RATING_KEYBOARD }]);
    for (const data of callbackDataOf(RATING_KEYBOARD)) expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    const ratingMessage = messageIdOf(api, 0);

    const tap = tapUpdate(chat, "p1:3", ratingMessage, RATING_KEYBOARD);
    expect(await post(url, tap)).toBe(200);
    // The spinner stops first, then the keyboard shows the answer, then the next question.
    expect(api.sequence()).toEqual(["sendMessage", "answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]);
    expect(api.payloads("answerCallbackQuery")).toEqual([{ callback_query_id: tap.callback_query?.id }]);
    expect(api.payloads("editMessageReplyMarkup")).toEqual([
      { chat_id: chat, message_id: ratingMessage, reply_markup: { inline_keyboard: [[{ text: "✓ 4", callback_data: "-" }]] } },
    ]);
    expect(api.payloads("sendMessage")[1]).toEqual({ chat_id: chat, text: COMMENT_TEXT, reply_markup: COMMENT_KEYBOARD });
    const commentMessage = messageIdOf(api, 1);

    expect(await post(url, textUpdate(chat, COMMENT))).toBe(200);
    // The typed comment closes the "No comment" keyboard without being echoed into it.
    expect(api.payloads("editMessageReplyMarkup")[1]).toEqual({ chat_id: chat, message_id: commentMessage, reply_markup: { inline_keyboard: [] } });
    expect(api.payloads("sendMessage")[2]).toEqual({ chat_id: chat, text: "Thank you for your feedback!" });
    for (const p of api.payloads("sendMessage")) expect(p).not.toHaveProperty("parse_mode");

    // The stored survey's common fields and the logs' lack of token and comment are the contract
    // suite's (channel-contract.ts, for every channel); what is Telegram's own stays here.
    expect(await storedDialogue(store, String(chat))).toMatchObject({ channel: "telegram", botId: "7012345678", score: 4, comment: COMMENT });
    expect(app.logs.join("\n")).toContain("telegram channel started");
  });

  it("counts a redelivered update once and a double tap once", async () => {
    const { api, url } = await start();
    const chat = newChat();
    const begin = startUpdate(chat);
    expect(await post(url, begin)).toBe(200);
    expect(await post(url, begin)).toBe(200); // Telegram redelivers the same update_id
    expect(api.payloads("sendMessage")).toHaveLength(1);

    const ratingMessage = messageIdOf(api, 0);
    const tap = tapUpdate(chat, "p1:4", ratingMessage, RATING_KEYBOARD);
    expect(await post(url, tap)).toBe(200);
    expect(await post(url, tap)).toBe(200); // redelivered tap: nothing new at all
    expect(api.sequence()).toEqual(["sendMessage", "answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]);

    // A second tap on the same keyboard (before the client saw it disappear), and one on another button.
    const again = tapUpdate(chat, "p1:4", ratingMessage, RATING_KEYBOARD);
    const other = tapUpdate(chat, "p1:0", ratingMessage, RATING_KEYBOARD);
    expect(await post(url, again)).toBe(200);
    expect(await post(url, other)).toBe(200);
    expect(api.payloads("answerCallbackQuery").slice(1)).toEqual([
      { callback_query_id: again.callback_query?.id, text: "This survey is closed" },
      { callback_query_id: other.callback_query?.id, text: "This survey is closed" },
    ]);
    expect(api.payloads("editMessageReplyMarkup")).toHaveLength(1);
    expect(api.payloads("sendMessage")).toHaveLength(2);

    const skip = tapUpdate(chat, "p2:0", messageIdOf(api, 1), COMMENT_KEYBOARD);
    expect(await post(url, skip)).toBe(200);
    expect(await storedDialogue(store, String(chat))).toMatchObject({ channel: "telegram", score: 5, completed: true });
    expect(api.payloads("sendMessage").at(-1)).toEqual({ chat_id: chat, text: "Thank you for your feedback!" });
    // The survey is over: a tap on its old keyboard changes nothing and is told so.
    const late = tapUpdate(chat, "p1:2", ratingMessage, RATING_KEYBOARD);
    expect(await post(url, late)).toBe(200);
    expect(api.payloads("answerCallbackQuery").at(-1)).toEqual({ callback_query_id: late.callback_query?.id, text: "This survey is closed" });
    expect(await storedDialogue(store, String(chat))).toMatchObject({ score: 5 });
  });

  it("honours a 429 retry_after from the Bot API, and answers non-2xx when a step could not be saved so the redelivery goes through", async () => {
    const { api, url } = await start();
    const chat = newChat();
    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    expect(await post(url, startUpdate(chat))).toBe(200);
    const attempts = api.calls.filter((c) => c.method === "sendMessage");
    expect(attempts.map((c) => c.status)).toEqual([429, 200]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(api.payloads("sendMessage")).toEqual([{ chat_id: chat, text: RATING_TEXT, reply_markup: RATING_KEYBOARD }]);

    // A retry_after longer than the channel waits fails the step: nothing saved, Telegram must redeliver
    // (503: the Bot API is throttling, so this is "not now", never a reason to drop the update).
    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 300", retryAfter: 300 });
    const tap = tapUpdate(chat, "p1:1", messageIdOf(api, 0), RATING_KEYBOARD);
    expect(await post(url, tap)).toBe(503);
    expect(api.payloads("sendMessage")).toHaveLength(1);
    // Not a duplicate: the failed step was not saved, so the redelivered tap is processed in full.
    expect(await post(url, tap)).toBe(200);
    expect(api.sequence().slice(-3)).toEqual(["answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]);
    expect(api.payloads("sendMessage")[1]).toEqual({ chat_id: chat, text: COMMENT_TEXT, reply_markup: COMMENT_KEYBOARD });
    expect(await post(url, textUpdate(chat, "fine"))).toBe(200);
    expect(await storedDialogue(store, String(chat))).toMatchObject({ score: 2, completed: true });
  });

  it("refuses a missing or wrong secret token with 401 and processes nothing", async () => {
    const { api, url, app } = await start();
    const chat = newChat();
    expect(await post(url, startUpdate(chat), null)).toBe(401);
    expect(await post(url, startUpdate(chat), "wrong-secret")).toBe(401);
    expect(await post(url, startUpdate(chat), `${SECRET}x`)).toBe(401);
    expect(api.payloads("sendMessage")).toEqual([]);
    // Not an Update: dropped with a 200 (Telegram would redeliver anything else) and counted.
    expect(await post(url, { not: "an update" })).toBe(200);
    expect((await app.app.server.inject({ url: "/metrics" })).body).toContain('botflow_inbound_dropped_total{channel="telegram",reason="malformed"} 1');
    expect(await post(url, startUpdate(chat))).toBe(200);
    expect(api.payloads("sendMessage")).toHaveLength(1);
    expect(app.logs.join("\n")).not.toContain(SECRET);
  });

  it("takes a typed digit as the answer and closes the keyboard it answered", async () => {
    const { api, url } = await start();
    const chat = newChat();
    await post(url, startUpdate(chat));
    expect(await post(url, textUpdate(chat, "3"))).toBe(200);
    expect(api.payloads("editMessageReplyMarkup")).toEqual([
      { chat_id: chat, message_id: messageIdOf(api, 0), reply_markup: { inline_keyboard: [[{ text: "✓ 3", callback_data: "-" }]] } },
    ]);
    expect(api.payloads("sendMessage")[1]).toMatchObject({ text: COMMENT_TEXT });
    expect(api.payloads("answerCallbackQuery")).toEqual([]);
  });

  it("speaks the user's language_code when the scenario has that translation, and starts /start <scenario-id>", async () => {
    const { api, url } = await start();
    const chat = newChat();
    expect(await post(url, startUpdate(chat, undefined, { languageCode: "uk" }))).toBe(200);
    const [uk] = api.payloads("sendMessage");
    expect(uk?.text).toBe("Будь ласка, оцініть якість обслуговування від 1 (дуже незадоволений) до 5 (дуже задоволений).");
    expect(callbackDataOf(uk?.reply_markup)).toEqual(["p1:0", "p1:1", "p1:2", "p1:3", "p1:4", "p1:5"]);
    expect((uk?.reply_markup as typeof RATING_KEYBOARD).inline_keyboard[1]).toEqual([{ text: "Пропустити", callback_data: "p1:5" }]);

    const other = newChat();
    expect(await post(url, startUpdate(other, "csat_emoji", { languageCode: "pt-BR" }))).toBe(200);
    const emoji = api.payloads("sendMessage")[1];
    expect(emoji).toEqual({
      chat_id: other,
      text: "Were you happy with our service today?",
      reply_markup: { inline_keyboard: [[{ text: "👍", callback_data: "p1:0" }, { text: "👎", callback_data: "p1:1" }], [{ text: "Skip", callback_data: "p1:2" }]] },
    });
    expect(await post(url, tapUpdate(other, "p1:0", messageIdOf(api, 1), emoji?.reply_markup))).toBe(200);
    expect(api.payloads("editMessageReplyMarkup")[0]).toMatchObject({ reply_markup: { inline_keyboard: [[{ text: "✓ 👍", callback_data: "-" }]] } });
  });

  it("answers a tap on a button it did not write as closed, tells an idle chat how to begin, and ignores stickers", async () => {
    const { api, url } = await start();
    const chat = newChat();
    const forged = tapUpdate(chat, "-", 42, { inline_keyboard: [[{ text: "✓ 4", callback_data: "-" }]] });
    expect(await post(url, forged)).toBe(200);
    expect(api.payloads("answerCallbackQuery")).toEqual([{ callback_query_id: forged.callback_query?.id, text: "This survey is closed" }]);
    expect(await post(url, textUpdate(chat, "hello"))).toBe(200);
    expect(api.payloads("sendMessage")).toEqual([{ chat_id: chat, text: "Send /start to begin." }]);
    const { fixture } = await import("./telegram-fake-bot-api.ts");
    expect(await post(url, fixture("message-sticker"))).toBe(200);
    expect(api.payloads("sendMessage")).toHaveLength(1);
  });

  it("closes the keyboard of a question that timed out (sweeper), and a late tap on it is answered as closed", async () => {
    const clock = new ManualClock();
    const { api, url, app } = await start({}, clock);
    const chat = newChat();
    await post(url, startUpdate(chat));
    clock.advance(25 * 3_600_000);
    expect(await app.app.sweep()).toBeGreaterThanOrEqual(1);
    expect(api.payloads("editMessageReplyMarkup")).toEqual([{ chat_id: chat, message_id: messageIdOf(api, 0), reply_markup: { inline_keyboard: [] } }]);
    expect(api.payloads("sendMessage")).toHaveLength(1); // the CSAT scenario closes quietly
    const late = tapUpdate(chat, "p1:4", messageIdOf(api, 0), RATING_KEYBOARD);
    expect(await post(url, late)).toBe(200);
    expect(api.payloads("answerCallbackQuery")).toEqual([{ callback_query_id: late.callback_query?.id, text: "This survey is closed" }]);
    expect(await storedDialogue(store, String(chat))).toMatchObject({ offered: true, accepted: false, score: null });
  });

  it("refuses to start webhook mode without a secret, and starts with TELEGRAM_WEBHOOK_INSECURE for local use", async () => {
    fake = await new FakeBotApi(TOKEN).start();
    await expect(startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot }, { surveyStore: store })).rejects.toThrow(/TELEGRAM_WEBHOOK_SECRET is not set/);
    t = await startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_INSECURE: "true" }, { surveyStore: store });
    const { url } = await t.app.listen();
    expect(await post(url, startUpdate(newChat()), null)).toBe(200);
    expect(fake.payloads("sendMessage")).toHaveLength(1);
  });

  it("closes the open keyboard when /start restarts the survey, and goes on when the user blocked the bot", async () => {
    const { api, url } = await start();
    const chat = newChat();
    await post(url, startUpdate(chat));
    expect(await post(url, startUpdate(chat))).toBe(200);
    expect(api.payloads("editMessageReplyMarkup")).toEqual([{ chat_id: chat, message_id: messageIdOf(api, 0), reply_markup: { inline_keyboard: [] } }]);
    expect(api.payloads("sendMessage")[1]).toMatchObject({ chat_id: chat, text: RATING_TEXT, reply_markup: { inline_keyboard: [[{ callback_data: "p2:0" }, {}, {}, {}, {}], [{ callback_data: "p2:5" }]] } });

    // 403 cannot be fixed by redelivery: the step is saved (200) and the survey goes on.
    api.fail("sendMessage", { status: 403, description: "Forbidden: bot was blocked by the user" });
    expect(await post(url, tapUpdate(chat, "p2:4", messageIdOf(api, 1), api.payloads("sendMessage")[1]?.reply_markup))).toBe(200);
    expect(await post(url, textUpdate(chat, "ok then"))).toBe(200);
    expect(await storedDialogue(store, String(chat))).toMatchObject({ score: 5, completed: true });
  });
});
