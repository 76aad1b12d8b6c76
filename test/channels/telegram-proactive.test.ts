/**
 * Telegram's proactive delivery (the trigger API), the channel driven directly against the local
 * fake Bot API: which `to` resolves, that its ref is the one a later answer from the chat
 * produces, and what each refusal of a first message becomes (a blocked user, a chat that does
 * not exist, a rate limit) — never swallowed, never a long sleep inside the request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseUpdate } from "../../channels/telegram/inbound.ts";
import { TelegramChannel } from "../../channels/telegram/telegram-channel.ts";
import type { VisibleEffect } from "../../channels/port.ts";
import { ChannelError } from "../../engine/errors.ts";
import { conversationKey } from "../../engine/runtime.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { RecordingLogger } from "../helpers/recorders.ts";
import { FakeBotApi } from "./telegram-fake-bot-api.ts";
import { newChat, textUpdate } from "./telegram-updates.ts";

const TOKEN = "7012345678:AAE-proactive_Token_0123456789abcdef";
let fake: FakeBotApi | undefined;
let channel: TelegramChannel | undefined;
afterEach(async () => {
  await channel?.close();
  await fake?.stop();
  channel = undefined;
  fake = undefined;
});

async function open(): Promise<{ api: FakeBotApi; ch: TelegramChannel; log: RecordingLogger }> {
  const api = (fake = await new FakeBotApi(TOKEN).start());
  const log = new RecordingLogger();
  const ch = (channel = new TelegramChannel({ token: TOKEN, apiRoot: api.apiRoot, mode: "webhook", logger: log }));
  await ch.start(async () => ({ status: "processed" }));
  return { api, ch, log };
}

const question: VisibleEffect = { type: "send", message: { text: "Please rate us", promptId: "p1", buttons: [{ label: "5", value: 5, index: 0 }] } };

async function triggerStart(ch: TelegramChannel, to: string): Promise<InboundEvent> {
  const target = await ch.proactive.resolve({ to });
  if (!target.ok) throw new Error(target.reason);
  return { ...target.ref, kind: "start", scenarioId: "csat", dedupeKey: "trigger:t1", proactive: { triggerId: "t1" } };
}

async function failure(p: Promise<unknown>): Promise<ChannelError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ChannelError)) throw new Error(`expected a ChannelError, got ${String(err)}`);
  return err;
}

describe("Telegram proactive.resolve", () => {
  it("takes a private chat id or a group member's <group>:<user>, and its ref is the conversation a later answer lands in", async () => {
    const { ch } = await open();
    const chat = newChat();
    const target = await ch.proactive.resolve({ to: String(chat) });
    expect(target).toEqual({ ok: true, ref: { channel: "telegram", conversationId: String(chat), userId: String(chat), botId: "7012345678" } });
    const answer = parseUpdate(textUpdate(chat, "5"), { botId: "7012345678" });
    if (!answer.ok || !target.ok) throw new Error("unexpected");
    const [event] = answer.events;
    expect(conversationKey(event as InboundEvent)).toBe(conversationKey(target.ref));
    expect(await ch.proactive.resolve({ to: "-1001234567890:381234567" })).toEqual({
      ok: true,
      ref: { channel: "telegram", conversationId: "-1001234567890:381234567", userId: "381234567", botId: "7012345678" },
    });
    // A group alone names nobody to answer.
    expect(await ch.proactive.resolve({ to: "-1001234567890" })).toMatchObject({ ok: false, status: 422, problem: "unknown_recipient", reason: expect.stringMatching(/one member's/) });
  });

  it("refuses what is not a chat id with a 422 and a reason, and options it cannot use", async () => {
    const { ch } = await open();
    for (const to of ["", "@botflow_user", "12.5", "0", "-0", "1e9", "99999999999999999999", "381 234 567", " 381234567", "381234567:42", "-100123:", "-100123:-42", "-100123:42:7"]) {
      const t = await ch.proactive.resolve({ to });
      expect(t).toMatchObject({ ok: false, status: 422, problem: "unknown_recipient" });
    }
    expect(await ch.proactive.resolve({ to: "381234567", options: { template: "x" } })).toMatchObject({ ok: false, status: 422, problem: "invalid_options" });
  });
});

describe("Telegram proactive deliver", () => {
  it("sends the first message unprompted, with its keyboard", async () => {
    const { api, ch } = await open();
    const chat = newChat();
    const cause = await triggerStart(ch, String(chat));
    await ch.deliver(cause, [question], cause);
    expect(api.payloads("sendMessage")).toEqual([expect.objectContaining({ chat_id: chat, text: "Please rate us", reply_markup: { inline_keyboard: [[expect.objectContaining({ text: "5" })]] } })]);
  });

  it("makes a 403 from a user who blocked the bot a ChannelError with recipient blocked, not retryable", async () => {
    const { api, ch, log } = await open();
    const chat = newChat();
    api.fail("sendMessage", { status: 403, description: "Forbidden: bot was blocked by the user" });
    const cause = await triggerStart(ch, String(chat));
    const err = await failure(ch.deliver(cause, [question], cause));
    expect(err).toMatchObject({ channel: "telegram", operation: "sendMessage", status: 403, retryable: false, recipient: "blocked" });
    expect(api.calls.filter((c) => c.method === "sendMessage")).toHaveLength(1);
    expect(log.serialized().join("\n")).not.toContain(TOKEN.split(":")[1]);
    expect(err.message).not.toContain(TOKEN.split(":")[1]);
  });

  it("tells a deactivated user, a chat that does not exist and a user who never started the bot apart", async () => {
    const { api, ch } = await open();
    const cases = [
      [403, "Forbidden: user is deactivated", "blocked"],
      [400, "Bad Request: chat not found", "unknown_recipient"],
      [403, "Forbidden: bot can't initiate conversation with a user", "not_allowed"],
    ] as const;
    for (const [status, description, recipient] of cases) {
      api.fail("sendMessage", { status, description });
      const cause = await triggerStart(ch, String(newChat()));
      expect(await failure(ch.deliver(cause, [question], cause))).toMatchObject({ status, retryable: false, recipient });
    }
  });

  it("makes a long 429 a retryable ChannelError with retryAfterMs at once, and waits out only a short one", async () => {
    const { api, ch } = await open();
    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 300", retryAfter: 300 });
    const cause = await triggerStart(ch, String(newChat()));
    const started = Date.now();
    const err = await failure(ch.deliver(cause, [question], cause));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 300_000 });
    expect(err.recipient).toBeUndefined();

    api.fail("sendMessage", { status: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    await ch.deliver(cause, [question], cause);
    const sends = api.calls.filter((c) => c.method === "sendMessage");
    expect(sends.map((c) => c.status)).toEqual([429, 429, 200]);
    expect((sends[2]?.at as number) - (sends[1]?.at as number)).toBeGreaterThanOrEqual(900);
  });

  it("makes a 5xx a retryable ChannelError without retrying inside the request (the outbox retries)", async () => {
    const { api, ch } = await open();
    api.fail("sendMessage", { status: 502, description: "Bad Gateway" });
    const cause = await triggerStart(ch, String(newChat()));
    expect(await failure(ch.deliver(cause, [question], cause))).toMatchObject({ status: 502, retryable: true });
    expect(api.calls.filter((c) => c.method === "sendMessage")).toHaveLength(1);
  });

  it("still drops (and logs) a blocked chat's message that is not a trigger's, as before", async () => {
    const { api, ch, log } = await open();
    const chat = newChat();
    api.fail("sendMessage", { status: 403, description: "Forbidden: bot was blocked by the user" });
    const ref = { channel: "telegram", conversationId: String(chat), userId: String(chat), botId: "7012345678" };
    await ch.deliver(ref, [question]);
    expect(log.serialized().join("\n")).toContain("telegram refused a message to this chat");
  });
});
