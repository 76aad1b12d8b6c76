/**
 * Telegram groups (issue 15): the bot speaks only when addressed, and a survey is answered only
 * by the member it is for. Real supergroup Updates (test/fixtures/telegram/group-*.json) posted to
 * POST /telegram/webhook of the whole web process, the real grammY stack, Bot API calls answered
 * and recorded by the local fake Bot API, the survey read back from the statistics store.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { InlineKeyboardMarkup, Update } from "grammy/types";
import { parseUpdate, isForeignTap } from "../../channels/telegram/inbound.ts";
import { decodeCallbackData, encodeCallbackData, MAX_CALLBACK_DATA_BYTES } from "../../channels/telegram/callback-data.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { API_TOKEN, trigger, until } from "../triggers/trigger-api-harness.ts";
import { BOT_USER, FakeBotApi, fixture } from "./telegram-fake-bot-api.ts";
import { ADA, GRACE, groupChatter, groupCommand, groupMention, groupReply, groupTap, newGroup, type Member } from "./telegram-group-updates.ts";

const TOKEN = "7012345678:AAE-group_Token_0123456789abcdefXYZ";
const SECRET = "webhook-secret_group_7a1c";
const BOT = { botId: "7012345678", username: BOT_USER.username, scenarioId: "csat" };
const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const THANKS = "Thank you for your feedback!";
const FOREIGN = "This survey is for someone else";
const COMMENT = "Quick and friendly, thank you";

/** The csat rating keyboard as sent for `member`: their user id in every button's data. */
function ratingKeyboard(member: Member): InlineKeyboardMarkup {
  const button = (text: string, i: number) => ({ text, callback_data: `p1:${i}:${member.id}` });
  return { inline_keyboard: [["1", "2", "3", "4", "5"].map(button), [button("Skip", 5)]] };
}

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

async function start(clock?: ManualClock): Promise<{ api: FakeBotApi; url: string; app: TestApp }> {
  fake = await new FakeBotApi(TOKEN).start();
  t = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, BOTFLOW_TOKEN: API_TOKEN },
    { surveyStore: store, ...(clock ? { clock } : {}) },
  );
  const { url } = await t.app.listen();
  return { api: fake, url, app: t };
}

async function post(url: string, update: Update): Promise<void> {
  const res = await fetch(`${url}/telegram/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
    body: JSON.stringify(update),
  });
  await res.text();
  expect(res.status).toBe(200);
}

/** The fake's message id of the n-th successful sendMessage (it numbers them from 5001). */
function messageIdOf(api: FakeBotApi, n: number): number {
  if (api.payloads("sendMessage")[n] === undefined) throw new Error(`no sendMessage #${n}`);
  return 5001 + n;
}

function messageIdIn(update: Update): number {
  if (!update.message) throw new Error("not a message update");
  return update.message.message_id;
}

const quoting = (update: Update) => ({ message_id: messageIdIn(update), allow_sending_without_reply: true });

describe("parseUpdate in groups", () => {
  const group = -1001987654321;

  it("takes /start and /start@<this bot> for the member's own conversation, and no command naming another bot", () => {
    expect(parseUpdate(fixture("group-message-start"), BOT)).toEqual({
      ok: true,
      events: [{ channel: "telegram", botId: "7012345678", dedupeKey: "tg:715300101", conversationId: `${group}:${ADA.id}`, userId: String(ADA.id), locale: "en", kind: "start", scenarioId: "csat" }],
    });
    expect(parseUpdate(groupCommand(group, ADA, "/start"), BOT)).toMatchObject({ events: [{ kind: "start", conversationId: `${group}:${ADA.id}` }] });
    expect(parseUpdate(groupCommand(group, ADA, "/start@BotFlow_Test_Bot csat_emoji"), BOT)).toMatchObject({ events: [{ kind: "start", scenarioId: "csat_emoji" }] });
    for (const text of ["/start@other_bot", "/start@other_bot csat", "/help@other_bot", "/help", "/stop@botflow_test_bot"]) {
      expect(parseUpdate(groupCommand(group, ADA, text), BOT), text).toEqual({ ok: true, events: [] });
    }
    // A basic group (not super) is a group too.
    const basic = groupCommand(-4012345678, GRACE);
    if (basic.message) basic.message.chat = { id: -4012345678, title: "Team", type: "group" };
    expect(parseUpdate(basic, BOT)).toMatchObject({ events: [{ kind: "start", conversationId: `-4012345678:${GRACE.id}` }] });
  });

  it("gives no event for chatter, or for a reply to another member; a reply to the bot and a mention of it are addressed", () => {
    expect(parseUpdate(fixture("group-message-text"), BOT)).toEqual({ ok: true, events: [] });
    expect(parseUpdate(groupReply(group, GRACE, "Yes, Tuesday", 2203, ADA), BOT)).toEqual({ ok: true, events: [] });
    expect(parseUpdate(groupMention(group, GRACE, "ask @other_bot", "other_bot"), BOT)).toEqual({ ok: true, events: [] });
    expect(parseUpdate(fixture("group-message-reply"), BOT)).toEqual({
      ok: true,
      events: [{ channel: "telegram", botId: "7012345678", dedupeKey: "tg:715300103", conversationId: `${group}:${ADA.id}`, userId: String(ADA.id), locale: "en", kind: "text", text: COMMENT }],
    });
    // The mention is left out of the answer, wherever it stands.
    expect(parseUpdate(groupMention(group, GRACE, "@botflow_test_bot 5"), BOT)).toMatchObject({ events: [{ kind: "text", text: "5", conversationId: `${group}:${GRACE.id}` }] });
    expect(parseUpdate(groupMention(group, GRACE, "Fast 👍 @botflow_test_bot"), BOT)).toMatchObject({ events: [{ kind: "text", text: "Fast 👍" }] });
    // Another bot's message replied to is not this bot's.
    const toOtherBot = groupReply(group, GRACE, "5", 99, { ...GRACE, id: 6001234567, is_bot: true } as unknown as Member);
    expect(parseUpdate(toOtherBot, BOT)).toEqual({ ok: true, events: [] });
  });

  it("takes a tap only from the member whose question it is; another's is foreign, a keyboard naming nobody is closed", () => {
    const own = groupTap(group, ADA, `p1:3:${ADA.id}`, 2202, ratingKeyboard(ADA));
    expect(parseUpdate(own, BOT)).toMatchObject({ events: [{ kind: "choice", promptId: "p1", buttonIndex: 3, conversationId: `${group}:${ADA.id}`, userId: String(ADA.id) }] });
    expect(isForeignTap(own)).toBe(false);
    const foreign = fixture("group-callback-query");
    expect(parseUpdate(foreign, BOT)).toEqual({ ok: true, events: [] });
    expect(isForeignTap(foreign)).toBe(true);
    const old = groupTap(group, ADA, "p1:3", 2202, ratingKeyboard(ADA));
    expect(parseUpdate(old, BOT)).toEqual({ ok: true, events: [] });
    expect(isForeignTap(old)).toBe(false);
    // Private chats: unchanged.
    expect(parseUpdate(fixture("callback-query"), BOT)).toMatchObject({ events: [{ kind: "choice", conversationId: "381234567" }] });
    expect(parseUpdate(fixture("message-start", (u) => u.message && (u.message.text = "/start@other_bot")), BOT)).toMatchObject({ events: [{ kind: "text" }] });
  });

  it("puts the member into callback_data within 64 bytes", () => {
    const data = encodeCallbackData("p99999", 99, "9007199254740991");
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
    expect(decodeCallbackData(data)).toEqual({ promptId: "p99999", buttonIndex: 99, member: "9007199254740991" });
    expect(decodeCallbackData("p1:3")).toEqual({ promptId: "p1", buttonIndex: 3 });
    for (const bad of ["p1:3:", "p1:3:x", "p1:3:-5", "p1:3:4:5", "p1:3:012"]) expect(decodeCallbackData(bad), bad).toBeUndefined();
  });
});

describe("Telegram groups through the webhook", () => {
  it("says nothing to chatter, to members talking among themselves, to another bot's command, or to a reply when no survey is open", async () => {
    const { api, url } = await start();
    const group = newGroup();
    await post(url, groupChatter(group, GRACE, "Has anyone seen the invoice from Tuesday?"));
    await post(url, groupChatter(group, ADA, "5"));
    await post(url, groupReply(group, GRACE, "Yes, in the shared folder", 1200, ADA));
    await post(url, groupCommand(group, ADA, "/start@other_bot"));
    await post(url, groupCommand(group, ADA, "/help@other_bot"));
    // Addressed, but nothing is open for Ada: no "Send /start to begin." in a group.
    await post(url, groupReply(group, ADA, "thanks!", 1201));
    await post(url, groupMention(group, ADA, "@botflow_test_bot hello"));
    expect(api.sequence()).toEqual([]);
    expect(await storedDialogue(store, `${group}:${ADA.id}`)).toBeUndefined();
  });

  it("starts on /start@<bot> for its sender; another member's tap is answered and changes nothing, their typed answer is ignored; the sender's answers are recorded", async () => {
    const { api, url } = await start();
    const group = newGroup();
    const command = groupCommand(group, ADA);
    await post(url, command);
    // The question quotes Ada's command, so the group sees whose survey it is.
    expect(api.payloads("sendMessage")).toEqual([{ chat_id: group, text: RATING_TEXT, reply_markup: ratingKeyboard(ADA), reply_parameters: quoting(command) }]);
    const rating = messageIdOf(api, 0);

    const foreign = groupTap(group, GRACE, `p1:0:${ADA.id}`, rating, ratingKeyboard(ADA));
    await post(url, foreign);
    expect(api.sequence()).toEqual(["sendMessage", "answerCallbackQuery"]);
    expect(api.payloads("answerCallbackQuery")).toEqual([{ callback_query_id: foreign.callback_query?.id, text: FOREIGN }]);
    // Grace typing an answer (as a reply to the question, so the bot gets it even in privacy mode), Ada chatting: nothing.
    await post(url, groupReply(group, GRACE, "1", rating));
    await post(url, groupChatter(group, ADA, "one moment"));
    expect(api.sequence()).toEqual(["sendMessage", "answerCallbackQuery"]);

    // Ada's tap is still the first answer to the question: Grace's changed nothing.
    const own = groupTap(group, ADA, `p1:3:${ADA.id}`, rating, ratingKeyboard(ADA));
    await post(url, own);
    expect(api.sequence()).toEqual(["sendMessage", "answerCallbackQuery", "answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]);
    expect(api.payloads("answerCallbackQuery")[1]).toEqual({ callback_query_id: own.callback_query?.id });
    expect(api.payloads("editMessageReplyMarkup")).toEqual([{ chat_id: group, message_id: rating, reply_markup: { inline_keyboard: [[{ text: "✓ 4", callback_data: "-" }]] } }]);
    expect(api.payloads("sendMessage")[1]).toEqual({ chat_id: group, text: COMMENT_TEXT, reply_markup: { inline_keyboard: [[{ text: "No comment", callback_data: `p2:0:${ADA.id}` }]] } });
    const commentQuestion = messageIdOf(api, 1);

    await post(url, groupReply(group, GRACE, "Me too, great service", commentQuestion));
    expect(api.sequence()).toHaveLength(5);
    const answer = groupReply(group, ADA, COMMENT, commentQuestion);
    await post(url, answer);
    expect(api.payloads("editMessageReplyMarkup")[1]).toEqual({ chat_id: group, message_id: commentQuestion, reply_markup: { inline_keyboard: [] } });
    expect(api.payloads("sendMessage")[2]).toEqual({ chat_id: group, text: THANKS, reply_parameters: quoting(answer) });

    expect(await storedDialogue(store, `${group}:${ADA.id}`)).toMatchObject({ channel: "telegram", botId: "7012345678", score: 4, comment: COMMENT });
    expect(await storedDialogue(store, `${group}:${GRACE.id}`)).toBeUndefined();
  });

  it("runs two members' surveys side by side in one group, each answering only their own; a mention of the bot answers too", async () => {
    const { api, url } = await start();
    const group = newGroup();
    await post(url, groupCommand(group, ADA));
    await post(url, groupCommand(group, GRACE, "/start"));
    const [ada, grace] = api.payloads("sendMessage");
    expect(ada?.reply_markup).toEqual(ratingKeyboard(ADA));
    expect(grace?.reply_markup).toEqual(ratingKeyboard(GRACE));
    // Both questions are p1: the member in the data keeps each tap on its own survey.
    await post(url, groupTap(group, GRACE, `p1:4:${GRACE.id}`, messageIdOf(api, 1), ratingKeyboard(GRACE)));
    await post(url, groupTap(group, ADA, `p1:0:${ADA.id}`, messageIdOf(api, 0), ratingKeyboard(ADA)));
    expect(api.payloads("answerCallbackQuery").map((p) => p.text)).toEqual([undefined, undefined]);
    await post(url, groupMention(group, GRACE, "@botflow_test_bot Fast, thanks"));
    await post(url, groupTap(group, ADA, `p2:0:${ADA.id}`, messageIdOf(api, 3), { inline_keyboard: [[{ text: "No comment", callback_data: `p2:0:${ADA.id}` }]] }));
    expect(await storedDialogue(store, `${group}:${GRACE.id}`)).toMatchObject({ score: 5, comment: "Fast, thanks" });
    expect(await storedDialogue(store, `${group}:${ADA.id}`)).toMatchObject({ score: 1 });
    expect((await storedDialogue(store, `${group}:${ADA.id}`))?.comment ?? "").toBe("");
  });

  it("closes a member's timed-out question in the group's chat, and a late tap by them is answered as closed", async () => {
    const clock = new ManualClock();
    const { api, url, app } = await start(clock);
    const group = newGroup();
    await post(url, groupCommand(group, ADA));
    clock.advance(25 * 3_600_000);
    expect(await app.app.sweep()).toBeGreaterThanOrEqual(1);
    expect(api.payloads("editMessageReplyMarkup")).toEqual([{ chat_id: group, message_id: messageIdOf(api, 0), reply_markup: { inline_keyboard: [] } }]);
    const late = groupTap(group, ADA, `p1:4:${ADA.id}`, messageIdOf(api, 0), ratingKeyboard(ADA));
    await post(url, late);
    expect(api.payloads("answerCallbackQuery")).toEqual([{ callback_query_id: late.callback_query?.id, text: "This survey is closed" }]);
    expect(await storedDialogue(store, `${group}:${ADA.id}`)).toMatchObject({ offered: true, accepted: false, score: null });
  });

  it("a trigger to <group>:<member> asks in the group for that member only; a group id alone is refused", async () => {
    const { api, url } = await start();
    const group = newGroup();
    const refused = await trigger(url, { channel: "telegram", to: String(group), scenario: "csat", key: `group-alone-${group}` });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toMatch(/one member's/);

    const accepted = await trigger(url, { channel: "telegram", to: `${group}:${GRACE.id}`, scenario: "csat", key: `group-member-${group}` });
    expect(accepted.status).toBe(202);
    const question = await until(() => api.payloads("sendMessage")[0]);
    expect(question).toEqual({ chat_id: group, text: RATING_TEXT, reply_markup: ratingKeyboard(GRACE) });
    await post(url, groupTap(group, ADA, `p1:0:${GRACE.id}`, messageIdOf(api, 0), ratingKeyboard(GRACE)));
    expect(api.payloads("answerCallbackQuery")).toEqual([expect.objectContaining({ text: FOREIGN })]);
    await post(url, groupTap(group, GRACE, `p1:2:${GRACE.id}`, messageIdOf(api, 0), ratingKeyboard(GRACE)));
    await until(() => api.payloads("sendMessage")[1]);
    expect(await storedDialogue(store, `${group}:${GRACE.id}`)).toMatchObject({ score: 3 });
  });
});
