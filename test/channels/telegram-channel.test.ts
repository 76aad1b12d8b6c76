/**
 * The Telegram channel's pieces: Update parsing, callback_data limits, configuration, and the
 * channel driven directly (no web process) against the local fake Bot API.
 */
import { afterEach, describe, expect, it } from "vitest";
import { decodeCallbackData, encodeCallbackData, MAX_CALLBACK_DATA_BYTES } from "../../channels/telegram/callback-data.ts";
import { parseUpdate } from "../../channels/telegram/inbound.ts";
import { inlineKeyboard, telegramText } from "../../channels/telegram/render.ts";
import { parseTelegramConfig } from "../../channels/telegram/telegram-config.ts";
import { TelegramChannel } from "../../channels/telegram/telegram-channel.ts";
import type { OutButton } from "../../engine/types.ts";
import { RecordingLogger } from "../helpers/recorders.ts";
import { fixture, FakeBotApi } from "./telegram-fake-bot-api.ts";
import { startUpdate } from "./telegram-updates.ts";

const TOKEN = "7012345678:AAE-unit_Token_0123456789abcdefghij";

describe("parseUpdate", () => {
  it("turns the real fixtures into start, text and choice events keyed by update_id", () => {
    expect(parseUpdate(fixture("message-start"), { botId: "7012345678" })).toEqual({
      ok: true,
      events: [{ channel: "telegram", botId: "7012345678", dedupeKey: "tg:715300001", conversationId: "381234567", userId: "381234567", locale: "en", kind: "start" }],
    });
    expect(parseUpdate(fixture("message-text"))).toEqual({
      ok: true,
      events: [{ channel: "telegram", dedupeKey: "tg:715300003", conversationId: "381234567", userId: "381234567", locale: "en", kind: "text", text: "Quick and friendly, thank you" }],
    });
    expect(parseUpdate(fixture("callback-query"))).toEqual({
      ok: true,
      events: [{ channel: "telegram", dedupeKey: "tg:715300002", conversationId: "381234567", userId: "381234567", locale: "en", kind: "choice", promptId: "p1", buttonIndex: 3 }],
    });
    expect(parseUpdate(fixture("message-sticker"))).toEqual({ ok: true, events: [] });
  });

  it("reads /start payloads and group commands; in a group the conversation is the member's (telegram-groups.test.ts)", () => {
    const withText = (text: string, chatId = -1001234567890) =>
      fixture("message-start", (u) => {
        if (!u.message) throw new Error("fixture");
        u.message.text = text;
        u.message.chat = { id: chatId, type: "supergroup", title: "Support" };
      });
    const o = { username: "botflow_test_bot", scenarioId: "csat" };
    expect(parseUpdate(withText("/start csat_emoji"), o)).toMatchObject({ events: [{ kind: "start", scenarioId: "csat_emoji", conversationId: "-1001234567890:381234567", userId: "381234567" }] });
    expect(parseUpdate(withText("/start"), o)).toMatchObject({ events: [{ kind: "start", scenarioId: "csat" }] });
    expect(parseUpdate(withText("/start@botflow_test_bot"), o)).toMatchObject({ events: [{ kind: "start" }] });
    expect(parseUpdate(withText("/start@another_bot"), o)).toEqual({ ok: true, events: [] });
    expect(parseUpdate(withText("/start ../../etc"), o)).toMatchObject({ events: [{ kind: "start", scenarioId: "csat" }] });
    const noLang = fixture("message-text", (u) => delete u.message?.from?.language_code);
    expect((parseUpdate(noLang) as { events: object[] }).events[0]).not.toHaveProperty("locale");
    const badLang = fixture("message-text", (u) => {
      if (u.message?.from) u.message.from.language_code = "constructor!";
    });
    expect((parseUpdate(badLang) as { events: object[] }).events[0]).not.toHaveProperty("locale");
  });

  it("gives no event for a tap whose data it did not write, and refuses what is not an Update", () => {
    for (const data of ["-", "4", "p1:x", "p1:3:extra", "rate=4", ""]) {
      expect(parseUpdate(fixture("callback-query", (u) => u.callback_query && (u.callback_query.data = data)))).toEqual({ ok: true, events: [] });
    }
    expect(parseUpdate({} as never)).toEqual({ ok: false, reason: "not a Telegram Update: update_id is missing" });
  });
});

describe("callback_data", () => {
  it("stays within 64 bytes whatever the labels, and round-trips", () => {
    const labels = ["👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽👍🏽", "Довгедовгедовгедовгедовгедовгедовгедовгедовгедовгедовге", "x".repeat(64)];
    const buttons: OutButton[] = Array.from({ length: 100 }, (_, i) => ({ label: labels[i % 3] as string, value: i, index: i }));
    const markup = inlineKeyboard({ text: "Rate", promptId: "p99999999999999", buttons, rows: [buttons.slice(0, 50), buttons.slice(50)] });
    const data = markup?.inline_keyboard.flat().map((b) => ("callback_data" in b ? b.callback_data : "")) ?? [];
    expect(data).toHaveLength(100);
    expect(markup?.inline_keyboard.map((r) => r.length)).toEqual([50, 50]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(MAX_CALLBACK_DATA_BYTES);
    expect(data[99]).toBe("p99999999999999:99");
    expect(decodeCallbackData(data[99])).toEqual({ promptId: "p99999999999999", buttonIndex: 99 });
    expect(() => encodeCallbackData("p".repeat(70), 1)).toThrow(/64 bytes/);
  });

  it("sends plain text cut to Telegram's limit without splitting an emoji", () => {
    expect(telegramText("*bold* _x_ <b>")).toBe("*bold* _x_ <b>");
    const long = `${"a".repeat(4094)}👍👍`;
    const cut = telegramText(long);
    expect(cut.length).toBeLessThanOrEqual(4096);
    expect(cut.endsWith("a…")).toBe(true);
  });
});

describe("parseTelegramConfig", () => {
  const parse = (env: Record<string, string>) => {
    const problems: string[] = [];
    const config = parseTelegramConfig((n) => env[n], problems);
    return { config, problems };
  };

  it("is off without a token and refuses webhook mode without a secret unless told it is local", () => {
    expect(parse({})).toEqual({ config: undefined, problems: [] });
    const noSecret = parse({ TELEGRAM_BOT_TOKEN: TOKEN });
    expect(noSecret.config).toBeUndefined();
    expect(noSecret.problems.join("\n")).toMatch(/TELEGRAM_WEBHOOK_SECRET is not set/);
    expect(parse({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_INSECURE: "true" }).config).toEqual({ token: TOKEN, apiRoot: "https://api.telegram.org", mode: "webhook", messagesPerSecond: 30 });
    expect(parse({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_MODE: "polling", TELEGRAM_API_ROOT: "http://127.0.0.1:8081/" }).config).toEqual({ token: TOKEN, apiRoot: "http://127.0.0.1:8081", mode: "polling", messagesPerSecond: 30 });
    expect(parse({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_MODE: "polling", TELEGRAM_MESSAGES_PER_SECOND: "12.5" }).config?.messagesPerSecond).toBe(12.5);
    expect(parse({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_MODE: "polling", TELEGRAM_MESSAGES_PER_SECOND: "fast" }).problems).toEqual([
      'TELEGRAM_MESSAGES_PER_SECOND "fast" is not a rate: use messages per second, a number above 0 and at most 10000 (default 30)',
    ]);
    expect(parse({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_WEBHOOK_SECRET: "abc_DEF-123" }).config).toMatchObject({ mode: "webhook", webhookSecret: "abc_DEF-123" });
  });

  it("reports bad values without echoing a secret", () => {
    const bad = parse({ TELEGRAM_BOT_TOKEN: "12345:short-secret-value", TELEGRAM_MODE: "push", TELEGRAM_WEBHOOK_SECRET: "has spaces in it", TELEGRAM_API_ROOT: "ftp://x" });
    expect(bad.config).toBeUndefined();
    const text = bad.problems.join("\n");
    expect(text).toMatch(/TELEGRAM_BOT_TOKEN does not look like a bot token/);
    expect(text).toMatch(/TELEGRAM_MODE "push"/);
    expect(text).toMatch(/TELEGRAM_WEBHOOK_SECRET is not a valid secret token/);
    expect(text).toMatch(/TELEGRAM_API_ROOT is not an http\(s\) URL/);
    expect(text).not.toContain("short-secret-value");
    expect(text).not.toContain("has spaces in it");
    expect(parse({ TELEGRAM_WEBHOOK_SECRET: "abc" }).problems.join()).toMatch(/TELEGRAM_BOT_TOKEN is not/);
  });
});

describe("TelegramChannel against the fake Bot API", () => {
  let fake: FakeBotApi | undefined;
  let channel: TelegramChannel | undefined;
  afterEach(async () => {
    await channel?.close();
    await fake?.stop();
    channel = undefined;
    fake = undefined;
  });

  it("refuses to start on a token the Bot API rejects, without quoting it", async () => {
    fake = await new FakeBotApi(TOKEN).start();
    const wrong = "7012345678:AAE-wrong_Token_0123456789abcdefghij";
    const log = new RecordingLogger();
    channel = new TelegramChannel({ token: wrong, apiRoot: fake.apiRoot, mode: "webhook", logger: log });
    const err = await channel.start(async () => ({ status: "processed" })).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/refused TELEGRAM_BOT_TOKEN \(401 Unauthorized\)/);
    expect(err?.message).not.toContain(wrong.split(":")[1]);
    expect(log.serialized().join("\n")).not.toContain(wrong.split(":")[1]);
  });

  it("waits out one chat's 429 without holding up another chat", async () => {
    fake = await new FakeBotApi(TOKEN).start();
    const api = fake;
    const slow = 410_000_001;
    const quick = 410_000_002;
    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 1", retryAfter: 1, when: (p) => p.chat_id === slow });
    const log = new RecordingLogger();
    channel = new TelegramChannel({ token: TOKEN, apiRoot: api.apiRoot, mode: "webhook", logger: log });
    const ch = channel;
    await ch.start(async (event) => {
      await ch.deliver(event, [{ type: "send", message: { text: `hello ${event.conversationId}` } }]);
      return { status: "processed" };
    });
    const first = ch.handleUpdate(startUpdate(slow));
    await api.waitUntil(() => api.calls.some((c) => c.status === 429), "429");
    const second = ch.handleUpdate(startUpdate(quick));
    await Promise.all([first, second]);
    const sends = api.calls.filter((c) => c.method === "sendMessage");
    expect(sends.map((c) => [c.payload.chat_id, c.status])).toEqual([
      [slow, 429],
      [quick, 200],
      [slow, 200],
    ]);
    expect((sends[2]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect((sends[1]?.at ?? 0) - (sends[0]?.at ?? 0)).toBeLessThan(900);
    expect(log.serialized().join("\n")).not.toContain(TOKEN.split(":")[1]);
  });
});
