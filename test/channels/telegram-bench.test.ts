/**
 * Keeps bench/telegram-channel.ts honest: botflow's Telegram channel and the hand-written grammY
 * handler it is compared with must make byte-identical Bot API calls and finish every survey,
 * one chat at a time and with chats in flight together. No timing here.
 */
import { describe, expect, it } from "vitest";
import { checkSameCalls, playAll } from "../../bench/telegram-channel.ts";
import { createBotflowBot, createSessionBot, surveyScenario } from "../../bench/telegram-flows.ts";

describe("telegram bench variants", () => {
  it("make the same Bot API calls for the 1- and 10-question surveys", async () => {
    // /start → keyboard; per question: answer, edit, next; comment: edit, thanks.
    expect(await checkSameCalls(1, 10)).toBe(10 * (1 + 3 + 2));
    expect(await checkSameCalls(10, 5)).toBe(5 * (1 + 10 * 3 + 2));
  });

  it("finish every survey with 100 chats in flight", async () => {
    const scenario = surveyScenario(1);
    for (const bot of [createBotflowBot(scenario), createSessionBot(1)]) {
      expect(await playAll(bot, 300, 1, 100)).toBe(900);
      expect(bot.surveys()).toBe(300);
      expect(bot.api.count).toBe(300 * 6);
    }
  });
});
