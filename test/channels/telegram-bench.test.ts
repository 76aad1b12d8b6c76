/**
 * Keeps bench/telegram-channel.ts honest: botflow's Telegram channel, the same survey on
 * `@grammyjs/conversations` and the hand-written grammY handler must make byte-identical Bot API
 * calls and finish every survey, one chat at a time and with chats in flight together. No timing here.
 */
import type { InlineKeyboardMarkup } from "grammy/types";
import { describe, expect, it } from "vitest";
import { checkSameCalls, makeBot, playAll, VARIANTS } from "../../bench/telegram-channel.ts";
import { ChatDriver } from "../../bench/telegram-flows.ts";

describe("telegram bench variants", () => {
  it("make the same Bot API calls for the 1- and 10-question surveys", async () => {
    // /start → keyboard; per question: answer, edit, next; comment: edit, thanks.
    expect(await checkSameCalls(1, 10)).toBe(10 * (1 + 3 + 2));
    expect(await checkSameCalls(10, 5)).toBe(5 * (1 + 10 * 3 + 2));
  });

  it("answer a tap on a finished survey's keyboard the same way", async () => {
    const bots = VARIANTS.map((v) => makeBot(v, 1, true));
    for (const bot of bots) await playAll(bot, 3, 1, 1);
    // A stale tap (the finished survey's first keyboard) is answered as closed by all, and only that.
    for (const bot of bots) {
      // Chat 1's first message (id 1) carried the rating keyboard.
      const first = JSON.parse(bot.api.calls?.[0]?.body ?? "{}") as { reply_markup: InlineKeyboardMarkup };
      bot.api.lastKeyboard.set(1, [1, first.reply_markup]);
      const tap = new ChatDriver(1).tap(bot.api, 0);
      await bot.handleUpdate({ ...tap, update_id: 9_999, callback_query: { ...tap.callback_query!, id: "q9999" } });
    }
    const [a, ...others] = bots.map((bot) => bot.api.calls);
    for (const calls of others) expect(calls).toEqual(a);
    expect(a?.length).toBe(3 * 6 + 1);
    expect(a?.at(-1)).toEqual({ method: "answerCallbackQuery", body: JSON.stringify({ callback_query_id: "q9999", text: "This survey is closed" }) });
  });

  it("finish every survey with 100 chats in flight", async () => {
    for (const variant of VARIANTS) {
      const bot = makeBot(variant, 1);
      expect(await playAll(bot, 300, 1, 100)).toBe(900);
      expect(bot.surveys()).toBe(300);
      expect(bot.api.count).toBe(300 * 6);
    }
  });
});
