/**
 * Surveys in a Teams channel thread (and a group chat) through the whole web process: real
 * channel-message Activity JSON with an @mention, the real CloudAdapter (Emulator mode), and the
 * fake teams.connector. Each member who mentions the bot gets a survey of their own in the thread;
 * another member's taps and messages never answer it.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { TeamsChannel } from "../../channels/teams/teams-channel.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { storedDialogue } from "../app/app-harness.ts";
import { useTeamsApp } from "./teams-app.ts";
import { activity, cardOf, fixture, post, rowsOf, textsOf, type Json } from "./teams-harness.ts";

const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const OTHER_MEMBER = "This survey is for the person who asked for it; mention me to get your own.";
const MEGAN = { id: "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrrA8vM06X1-cHHle4zOE6U4ttcc", name: "Megan Bowen", aadObjectId: "6b7b3b38-4d1c-4a5a-8a6e-4c4f0f8f5c21" };
const ALEX = { id: "29:1Yh2kq0W3vB8nM5cR7tF9pL4xZ6dJ1sA3gH8eK0oU2iQ5wE7rT9yN4mB6vC8xZ1lP3kJ5hG7fD9sA2qW4eR6tY8", name: "Alex Wilber", aadObjectId: "2c1b5a4d-3e6f-4a8b-9c0d-1e2f3a4b5c6d" };

const teams = useTeamsApp();
const start = () => teams.start();

function newThread(): string {
  return `19:test-${randomUUID().replace(/-/g, "")}@thread.tacv2;messageid=${Date.now()}`;
}

/** A channel message in `thread` by `from`. */
function mention(thread: string, from: Json, text = "<at>botflow</at>\n"): Json {
  return activity("message-channel-mention", thread, teams.connector.url, { from, text });
}

/** An Action.Submit tap by `from` on the card `cardId` in `thread`, sending the card's `data` back. */
function tap(thread: string, from: Json, cardId: string, data: Json): Json {
  const channel = fixture("message-channel-mention");
  return activity("card-submit", thread, teams.connector.url, { from, conversation: { ...(channel.conversation as Json), id: thread }, replyToId: cardId, value: data });
}

async function send(url: string, body: Json) {
  const before = teams.connector.calls.length;
  const res = await post(url, body);
  expect(res.status, res.text).toBe(200);
  return teams.connector.calls.slice(before);
}

type Action = { title: string; data: Json };
const actionsOf = (card: ReturnType<typeof cardOf>): Action[] => (card?.body ?? []).flatMap((e) => (e.actions ?? []) as Action[]);

describe("Teams surveys in a channel thread", () => {
  it("runs a survey for the member who mentions the bot; another member's tap is told so and changes nothing; their mention starts their own", async () => {
    const url = await start();
    const thread = newThread();

    // Megan mentions the bot in the thread: the rating card goes to the thread, made out to her.
    const [card] = await send(url, mention(thread, MEGAN));
    expect(card).toMatchObject({ method: "POST", conversationId: thread });
    expect(textsOf(cardOf(card))).toEqual([RATING_TEXT]);
    expect(rowsOf(cardOf(card))).toEqual([["1", "2", "3", "4", "5"], ["Skip"]]);
    const actions = actionsOf(cardOf(card));
    expect(actions.every((a) => a.data.for === MEGAN.id)).toBe(true);
    const cardId = card?.answeredId as string;

    // Alex taps 1 on Megan's card: a notice in the thread, her card and survey untouched.
    const alexTap = await send(url, tap(thread, ALEX, cardId, actions[0]?.data as Json));
    expect(alexTap.map((c) => [c.method, c.body.text])).toEqual([["POST", OTHER_MEMBER]]);

    // The same as an Action.Execute invoke: the notice is the invoke's response, only Alex sees it.
    const execute = activity("invoke-adaptive-card-action", thread, teams.connector.url, {
      from: ALEX,
      conversation: { ...(fixture("message-channel-mention").conversation as Json), id: thread },
      replyToId: cardId,
      value: { action: { type: "Action.Execute", verb: "botflow.answer", data: actions[0]?.data }, trigger: "manual" },
    });
    const before = teams.connector.calls.length;
    const invoked = await post(url, execute);
    expect(invoked.status).toBe(200);
    expect(JSON.parse(invoked.text)).toEqual({ statusCode: 200, type: "application/vnd.microsoft.activity.message", value: OTHER_MEMBER });
    expect(teams.connector.calls.slice(before)).toEqual([]);

    // Alex mentions the bot with a "5": it does not answer Megan's question; Alex gets his own card.
    const [alexCard, ...rest] = await send(url, mention(thread, ALEX, "<at>botflow</at> 5"));
    expect(rest).toEqual([]);
    expect(textsOf(cardOf(alexCard))).toEqual([RATING_TEXT]);
    expect(actionsOf(cardOf(alexCard)).every((a) => a.data.for === ALEX.id)).toBe(true);

    // Megan taps 4 on her card: her card is closed in place, the comment question follows.
    const meganTap = await send(url, tap(thread, MEGAN, cardId, actions[3]?.data as Json));
    expect(meganTap.map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(meganTap[0]?.activityId).toBe(cardId);
    expect(textsOf(cardOf(meganTap[0]))).toEqual([RATING_TEXT, "Your answer: 4"]);
    // Her comment, mentioning the bot as every channel message to it must.
    const comment = await send(url, mention(thread, MEGAN, "<at>botflow</at> quick and friendly"));
    expect(comment.map((c) => c.method)).toEqual(["PUT", "POST"]);

    // Each member's survey is stored on its own: the thread and the member.
    expect(await storedDialogue(teams.store, `${thread}|${MEGAN.id}`)).toMatchObject({ channel: "teams", score: 4, comment: "quick and friendly" });
    expect(await storedDialogue(teams.store, `${thread}|${ALEX.id}`)).toMatchObject({ channel: "teams", score: null });
  });

  it("does the same in a group chat, and leaves personal chats' cards without an owner", async () => {
    const url = await start();
    const chat = `19:test-${randomUUID().replace(/-/g, "")}@thread.v2`;
    const group = { conversationType: "groupChat", isGroup: true, tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47", id: chat };
    const [card] = await send(url, activity("message-channel-mention", chat, teams.connector.url, { conversation: group, from: MEGAN }));
    expect(card?.conversationId).toBe(chat);
    const actions = actionsOf(cardOf(card));
    expect(actions.every((a) => a.data.for === MEGAN.id)).toBe(true);
    const alexTap = await send(url, activity("card-submit", chat, teams.connector.url, { conversation: group, from: ALEX, replyToId: card?.answeredId, value: actions[1]?.data }));
    expect(alexTap.map((c) => c.body.text)).toEqual([OTHER_MEMBER]);

    const personal = await send(url, activity("message-personal", `a:test-${randomUUID()}`, teams.connector.url));
    expect(actionsOf(cardOf(personal[0])).every((a) => !("for" in a.data))).toBe(true);
  });

  it("makes a trigger's (or a timeout's) card in a thread out to the member, through the stored reference", async () => {
    const ch = new TeamsChannel({ credentials: {}, storage: new MemoryChannelStorage() });
    const events: InboundEvent[] = [];
    await ch.start(async (e) => (events.push(e), { status: "processed" as const }));
    const thread = newThread();
    expect((await ch.process({ method: "POST", headers: {}, body: mention(thread, MEGAN) })).status).toBe(200);
    const to = `${thread}|${MEGAN.id}`;
    expect(events[0]?.conversationId).toBe(to);
    const target = await ch.proactive.resolve({ to });
    if (!target.ok) throw new Error(target.reason);
    expect(target.ref).toMatchObject({ conversationId: to, userId: MEGAN.id });
    const before = teams.connector.calls.length;
    await ch.deliver(target.ref, [{ type: "send", message: { text: "Rate us", promptId: "p9", buttons: [{ label: "5", value: 5, index: 0 }] } }], {
      ...target.ref,
      kind: "start",
      dedupeKey: "trigger:t1",
      proactive: { triggerId: "t1" },
    });
    const [call] = teams.connector.calls.slice(before);
    // Posted to the thread itself, the card made out to Megan.
    expect(call?.conversationId).toBe(thread);
    expect(actionsOf(cardOf(call)).map((a) => a.data)).toEqual([{ botflow: 1, promptId: "p9", index: 0, value: 5, for: MEGAN.id }]);
    await ch.close();
  });
});
