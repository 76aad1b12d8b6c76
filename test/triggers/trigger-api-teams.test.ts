/**
 * The trigger API through the whole web process on Microsoft Teams (Emulator mode, the real
 * CloudAdapter): a user who installed the bot is sent the rating card unprompted through the
 * stored conversation reference at the local fake connector, their real card submit and typed
 * comment complete the survey with the trigger's variables recorded, and a conversation the bot
 * never saw is a 404 that records nothing.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { FakeConnector } from "../channels/teams-fake-connector.ts";
import { activity, cardOf, newConversationId, post, rowsOf, textsOf } from "../channels/teams-harness.ts";
import { API_TOKEN, expectNothingRecorded, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const COMMENT = "Solved on the first call";

let store: PgliteSurveyStore;
let connector: FakeConnector;
beforeAll(async () => {
  store = await openSharedStore();
  connector = await FakeConnector.start();
});
afterAll(async () => {
  await connector?.close();
  await store?.close();
});

let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

async function start(): Promise<{ app: TestApp; url: string }> {
  t = await startTestApp({ BOTFLOW_TEAMS_EMULATOR: "true", BOTFLOW_SWEEP_INTERVAL: "1h", BOTFLOW_TOKEN: API_TOKEN }, { surveyStore: store });
  return { app: t, url: (await t.app.listen()).url };
}

/** Posts an activity to /api/messages and expects 200. */
async function send(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await post(url, body);
  expect(res.status, res.text).toBe(200);
}

const callsTo = (conversationId: string) => connector.calls.filter((c) => c.conversationId === conversationId && c.answeredId !== undefined);

describe("POST /api/dialogues on Teams", () => {
  it("sends the rating card unprompted to a user who installed the bot; the submit and the comment complete the survey with the trigger's variables and id", async () => {
    const { app, url } = await start();
    const conv = newConversationId();
    // Installing the bot stores the conversation reference and starts nothing.
    await send(url, activity("installation-update", conv, connector.url));
    expect(callsTo(conv)).toEqual([]);

    const key = `T-${randomUUID()}`;
    const variables = { agent: "olena", team: "billing", ticket: key };
    const answer = await trigger(url, { channel: "teams", to: conv, scenario: "csat", key, variables });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ result: "started", channel: "teams", to: conv, scenario: "csat", key, variables });
    const id = answer.body.id as string;

    // The first card goes through the stored reference (continueConversation) to that conversation.
    const first = await until(() => callsTo(conv)[0]);
    expect(first.method).toBe("POST");
    expect(first.path.startsWith(`/v3/conversations/${encodeURIComponent(conv)}/activities`)).toBe(true);
    expect(textsOf(cardOf(first))).toEqual([RATING_TEXT]);
    expect(rowsOf(cardOf(first))).toEqual([["1", "2", "3", "4", "5"], ["Skip"]]);
    await untilState(url, id, "sent");

    // The user taps 4 on that card: the card is updated in place, then the comment card.
    const cardId = first.answeredId as string;
    await send(url, activity("card-submit", conv, connector.url, { replyToId: cardId, value: { botflow: 1, promptId: "p1", index: 3, value: 4 } }));
    const afterTap = await until(() => (callsTo(conv).length >= 3 ? callsTo(conv).slice(1) : undefined));
    expect(afterTap.map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(afterTap[0]?.activityId).toBe(cardId);
    expect(textsOf(cardOf(afterTap[1]))).toEqual([COMMENT_TEXT]);

    await send(url, activity("message-personal", conv, connector.url, { text: COMMENT }));
    const thanks = await until(() => callsTo(conv)[4]);
    expect(thanks.body).toMatchObject({ type: "message", text: "Thank you for your feedback!" });

    const row = await until(() => storedDialogue(store, conv).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "teams", conversationId: conv, scenarioId: "csat", score: 4, comment: COMMENT, completed: true, triggerId: id, context: variables });
    expect(await triggerState(url, id)).toMatchObject({ id, state: "completed", key, channel: "teams", to: conv });
    expect(await app.app.services.triggerStore?.byKey(key)).toMatchObject({ id }); // what the refusal test finds absent
  });

  it("answers 404 'never talked' for a conversation the bot never saw, and records and sends nothing", async () => {
    const { app, url } = await start();
    const conv = newConversationId();
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "teams", to: conv, scenario: "csat", key, variables: { agent: "olena" } });
    expect(answer).toMatchObject({ status: 404, body: { error: "unknown_recipient", field: "to", message: "this user has never talked to the bot" } });
    await new Promise((r) => setTimeout(r, 200));
    expect(connector.calls.filter((c) => c.conversationId === conv)).toEqual([]);
    await expectNothingRecorded(app.app, store, key, conv);
  });
});
