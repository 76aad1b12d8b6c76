/**
 * Telegram in long-polling mode: @grammyjs/runner fetches getUpdates from the local fake Bot API
 * (which the test fills with real Update fixtures) and the survey runs to the statistics store.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { useSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi } from "./telegram-fake-bot-api.ts";
import { newChat, startUpdate, tapUpdate, textUpdate } from "./telegram-updates.ts";

const TOKEN = "7012345678:AAE-polling_Token_0123456789abcdef";

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

describe("Telegram long polling with @grammyjs/runner", () => {
  it("deletes the webhook, polls, runs two chats' surveys in order, and mounts no webhook route", async () => {
    fake = await new FakeBotApi(TOKEN).start();
    const api = fake;
    t = await startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_MODE: "polling" }, { surveyStore: store });
    const { url } = await t.app.listen();
    expect(api.payloads("deleteWebhook")).toHaveLength(1);

    const a = newChat();
    const b = newChat();
    api.pushUpdate(startUpdate(a));
    api.pushUpdate(startUpdate(b, undefined, { languageCode: "uk" }));
    const sent = await api.waitFor("sendMessage", 2);
    const promptOf = (chat: number) => {
      const i = sent.findIndex((p) => p.chat_id === chat);
      return { payload: sent[i], messageId: 5001 + i };
    };
    const pa = promptOf(a);
    const pb = promptOf(b);
    expect(pb.payload?.text).toMatch(/^Будь ласка/);

    // Chat a's tap and comment arrive in one batch: sequentialised per chat, so the comment
    // is taken after the rating (not as an invalid rating).
    api.pushUpdate(tapUpdate(a, "p1:2", pa.messageId, pa.payload?.reply_markup));
    api.pushUpdate(textUpdate(a, "solid work"));
    api.pushUpdate(tapUpdate(b, "p1:5", pb.messageId, pb.payload?.reply_markup));
    await api.waitFor("sendMessage", 5);
    await api.waitFor("answerCallbackQuery", 2);

    expect(await storedDialogue(store, String(a))).toMatchObject({ channel: "telegram", score: 3, completed: true, comment: "solid work" });
    expect(await storedDialogue(store, String(b))).toMatchObject({ channel: "telegram", denied: true, score: null });
    const toA = api.payloads("sendMessage").filter((p) => p.chat_id === a).map((p) => p.text);
    expect(toA).toEqual([
      "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
      "Thank you! Would you like to add a comment to your rating?",
      "Thank you for your feedback!",
    ]);
    const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(404);
  });

  it("tries an update again when a Bot API call fails for good, since nobody redelivers in polling mode", async () => {
    fake = await new FakeBotApi(TOKEN).start();
    const api = fake;
    t = await startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_MODE: "polling" }, { surveyStore: store });
    await t.app.listen();
    const chat = newChat();
    // Longer than the channel waits: the call fails, the step is not saved, the channel tries the update again.
    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 600", retryAfter: 600 });
    api.pushUpdate(startUpdate(chat));
    const [sent] = await api.waitFor("sendMessage", 1);
    expect(sent).toMatchObject({ chat_id: chat, text: "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied)." });
    expect(api.calls.filter((c) => c.method === "sendMessage").map((c) => c.status)).toEqual([429, 200]);
    expect(t.logs.join("\n")).toContain("telegram update failed; retrying");
    expect(t.logs.join("\n")).not.toContain(TOKEN.split(":")[1]);
  });
});
