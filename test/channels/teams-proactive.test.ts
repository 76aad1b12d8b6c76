/**
 * Teams' proactive delivery (the trigger API), the channel driven directly (Emulator mode, no
 * token) against the local fake connector with real Activities: installing the bot stores the
 * conversation reference (conversationUpdate and installationUpdate alike), `to` resolves to the
 * ref the conversation's later activities produce, and a refusal of the first message is a
 * ChannelError with `recipient` for the trigger to record.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { TeamsChannel } from "../../channels/teams/teams-channel.ts";
import type { VisibleEffect } from "../../channels/port.ts";
import { ChannelError } from "../../engine/errors.ts";
import { conversationKey } from "../../engine/runtime.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { RecordingLogger } from "../helpers/recorders.ts";
import { FakeConnector } from "./teams-fake-connector.ts";
import { activity, newConversationId, type Json } from "./teams-harness.ts";

let connector: FakeConnector;
beforeAll(async () => {
  connector = await FakeConnector.start();
});
afterAll(() => connector.close());

async function open(storage = new MemoryChannelStorage()) {
  const log = new RecordingLogger();
  const ch = new TeamsChannel({ credentials: {}, logger: log, storage });
  const events: InboundEvent[] = [];
  await ch.start(async (e) => {
    events.push(e);
    return { status: "processed" };
  });
  const post = (body: Json) => ch.process({ method: "POST", headers: { "content-type": "application/json" }, body });
  return { ch, log, events, post };
}

const question: VisibleEffect = { type: "send", message: { text: "Please rate us", promptId: "p1", buttons: [{ label: "5", value: 5, index: 0 }] } };

async function triggerStart(ch: TeamsChannel, to: string): Promise<InboundEvent> {
  const target = await ch.proactive.resolve({ to });
  if (!target.ok) throw new Error(target.reason);
  return { ...target.ref, kind: "start", scenarioId: "csat", dedupeKey: "trigger:t1", proactive: { triggerId: "t1" } };
}

async function failure(p: Promise<unknown>): Promise<ChannelError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ChannelError)) throw new Error(`expected a ChannelError, got ${String(err)}`);
  return err;
}

describe("Teams proactive.resolve", () => {
  it.each(["conversation-update-bot-added", "installation-update"])("knows a user who installed the bot (%s) and never wrote, with the ref their later messages produce", async (fixture) => {
    const { ch, post, events } = await open();
    const conversation = newConversationId();
    expect((await post(activity(fixture, conversation, connector.url))).status).toBe(200);
    expect(events).toEqual([]); // installing starts nothing (BOTFLOW_TEAMS_START_ON_INSTALL is off)
    const target = await ch.proactive.resolve({ to: conversation });
    if (!target.ok) throw new Error(target.reason);
    await post(activity("message-personal", conversation, connector.url, { text: "5" }));
    const [later] = events;
    expect(target.ref).toEqual({ channel: "teams", conversationId: conversation, userId: later?.userId, botId: later?.botId });
    expect(conversationKey(target.ref)).toBe(conversationKey(later as InboundEvent));
  });

  it("answers 404 for a conversation the bot never saw, and 422 for options", async () => {
    const { ch, post } = await open();
    expect(await ch.proactive.resolve({ to: newConversationId() })).toEqual({ ok: false, status: 404, problem: "unknown_recipient", reason: "this user has never talked to the bot" });
    expect(await ch.proactive.resolve({ to: "" })).toMatchObject({ ok: false, status: 404 });
    const conversation = newConversationId();
    await post(activity("conversation-update-bot-added", conversation, connector.url));
    expect(await ch.proactive.resolve({ to: conversation, options: { card: true } })).toMatchObject({ ok: false, status: 422, problem: "invalid_options" });
  });

  it("resolves on another instance sharing the storage (another web process, or after a restart)", async () => {
    const storage = new MemoryChannelStorage();
    const a = await open(storage);
    const conversation = newConversationId();
    await a.post(activity("installation-update", conversation, connector.url));
    const b = await open(storage);
    expect(await b.ch.proactive.resolve({ to: conversation })).toMatchObject({ ok: true, ref: { conversationId: conversation } });
  });
});

describe("Teams proactive deliver", () => {
  it("sends the first card through the stored reference (continueConversation), to the installed conversation", async () => {
    const { ch, post } = await open();
    const conversation = newConversationId();
    await post(activity("installation-update", conversation, connector.url));
    const cause = await triggerStart(ch, conversation);
    const before = connector.calls.length;
    await ch.deliver(cause, [question], cause);
    const [call] = connector.calls.slice(before);
    expect(call).toMatchObject({ method: "POST", conversationId: conversation });
    expect(call?.path.startsWith(`/v3/conversations/${encodeURIComponent(conversation)}/activities`)).toBe(true);
    expect(JSON.stringify(call?.body.attachments)).toContain("Please rate us");
  });

  it("makes a 403 (the user blocked or removed the bot) a ChannelError with recipient blocked, not retryable", async () => {
    const { ch, post } = await open();
    const conversation = newConversationId();
    await post(activity("conversation-update-bot-added", conversation, connector.url));
    const cause = await triggerStart(ch, conversation);
    connector.failures.push({ status: 403 });
    expect(await failure(ch.deliver(cause, [question], cause))).toMatchObject({ channel: "teams", status: 403, retryable: false, recipient: "blocked" });
    connector.failures.push({ status: 404 });
    expect(await failure(ch.deliver(cause, [question], cause))).toMatchObject({ status: 404, retryable: false, recipient: "unknown_recipient" });
  });

  it("makes a reference gone since the trigger resolved it (expired) an unknown recipient, not a silent drop", async () => {
    let now = 1_000_000;
    const { ch, post } = await open(new MemoryChannelStorage({ now: () => now }));
    const conversation = newConversationId();
    await post(activity("conversation-update-bot-added", conversation, connector.url));
    const cause = await triggerStart(ch, conversation);
    now += 31 * 86_400_000;
    expect(await failure(ch.deliver(cause, [question], cause))).toMatchObject({ retryable: false, recipient: "unknown_recipient" });
  });

  it("still drops (and logs) a timeout's message the connector refuses for good, as before", async () => {
    const { ch, post, log } = await open();
    const conversation = newConversationId();
    await post(activity("conversation-update-bot-added", conversation, connector.url));
    const target = await ch.proactive.resolve({ to: conversation });
    if (!target.ok) throw new Error(target.reason);
    connector.failures.push({ status: 403 });
    await ch.deliver(target.ref, [question]);
    expect(log.serialized().join("\n")).toContain("Teams refused a message to a conversation outside a turn");
  });
});
