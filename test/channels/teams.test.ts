/**
 * The Teams channel through the whole web process: real Bot Framework Activity JSON posted to
 * POST /api/messages, the real CloudAdapter (Emulator mode: no App ID), and a fake connector
 * on 127.0.0.1 as every activity's serviceUrl, recording what the bot sends and updates.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { FakeConnector } from "./teams-fake-connector.ts";
import { activity, cardOf, newConversationId, post, rowsOf, textsOf, type Json } from "./teams-harness.ts";

const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const COMMENT = "Quick and friendly, thank you";

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
  connector.calls.length = 0;
  connector.failures.length = 0;
});

async function start(env: Record<string, string> = {}, clock?: ManualClock): Promise<string> {
  t = await startTestApp({ BOTFLOW_TEAMS_EMULATOR: "true", ...env }, { surveyStore: store, ...(clock ? { clock } : {}) });
  return (await t.app.listen()).url;
}

/** Posts and expects 200, returning the connector calls the activity caused. */
async function send(url: string, body: Json) {
  const before = connector.calls.length;
  const res = await post(url, body);
  expect(res.status, res.text).toBe(200);
  return connector.calls.slice(before);
}

function submit(conversationId: string, cardActivityId: string, promptId: string, index: number, value: number | string) {
  return activity("card-submit", conversationId, connector.url, { replyToId: cardActivityId, value: { botflow: 1, promptId, index, value } });
}

describe("Teams channel over the Bot Framework protocol", () => {
  it("runs the CSAT survey with Adaptive Cards, updates each card in place and stores the survey", async () => {
    const url = await start();
    const conv = newConversationId();

    const [first, ...restFirst] = await send(url, activity("message-personal", conv, connector.url));
    expect(restFirst).toEqual([]);
    // The reply goes to this conversation on the activity's serviceUrl, threaded to the user's message.
    expect(first).toMatchObject({ method: "POST", conversationId: conv });
    const card = cardOf(first);
    expect(card).toMatchObject({ type: "AdaptiveCard", version: "1.2" });
    expect(textsOf(card)).toEqual([RATING_TEXT]);
    expect(rowsOf(card)).toEqual([["1", "2", "3", "4", "5"], ["Skip"]]);
    const actions = card?.body.flatMap((e) => e.actions ?? []) ?? [];
    expect(actions.map((a) => a.type)).toEqual(Array(6).fill("Action.Submit"));
    expect(actions.map((a) => a.data)).toEqual([
      { botflow: 1, promptId: "p1", index: 0, value: 1 },
      { botflow: 1, promptId: "p1", index: 1, value: 2 },
      { botflow: 1, promptId: "p1", index: 2, value: 3 },
      { botflow: 1, promptId: "p1", index: 3, value: 4 },
      { botflow: 1, promptId: "p1", index: 4, value: 5 },
      { botflow: 1, promptId: "p1", index: 5, value: "" }, // the skip button records no value
    ]);
    const ratingCardId = first?.answeredId as string;
    expect(first?.body.type).toBe("message");

    // Tap 4: the rating card is updated in place (no buttons, the answer shown), then the comment question.
    const afterTap = await send(url, submit(conv, ratingCardId, "p1", 3, 4));
    expect(afterTap.map((c) => c.method)).toEqual(["PUT", "POST"]);
    const [update, commentCall] = afterTap;
    expect(update).toMatchObject({ conversationId: conv, activityId: ratingCardId });
    expect(update?.path).toBe(`/v3/conversations/${encodeURIComponent(conv)}/activities/${ratingCardId}`);
    expect(update?.body.id).toBe(ratingCardId);
    expect(cardOf(update)).toMatchObject({ version: "1.2" });
    expect(rowsOf(cardOf(update))).toEqual([]);
    expect(textsOf(cardOf(update))).toEqual([RATING_TEXT, "Your answer: 4"]);
    expect(textsOf(cardOf(commentCall))).toEqual([COMMENT_TEXT]);
    expect(rowsOf(cardOf(commentCall))).toEqual([["No comment"]]);

    // The comment is typed: the comment card loses its button, then the thanks.
    const afterComment = await send(url, activity("message-personal", conv, connector.url, { text: COMMENT }));
    expect(afterComment.map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(rowsOf(cardOf(afterComment[0]))).toEqual([]);
    expect(afterComment[1]?.body).toMatchObject({ type: "message", text: "Thank you for your feedback!" });

    expect(await storedDialogue(store, conv)).toMatchObject({
      scenarioId: "csat",
      channel: "teams",
      conversationId: conv,
      offered: true,
      accepted: true,
      completed: true,
      score: 4,
      scale: "1-5",
      comment: COMMENT,
    });
    const logs = (t as TestApp).logs.join("\n");
    expect(logs).toContain("TEAMS AUTHENTICATION IS OFF");
    expect(logs).not.toContain(COMMENT);
  });
});
