/**
 * The Teams channel through the whole web process: real Bot Framework Activity JSON posted to
 * POST /api/messages, the real CloudAdapter (Emulator mode: no App ID), and a fake connector
 * on 127.0.0.1 as every activity's serviceUrl, recording what the bot sends and updates.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
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
  // Timeouts are fired by the tests' own sweep() calls, never by the interval.
  t = await startTestApp({ BOTFLOW_TEAMS_EMULATOR: "true", BOTFLOW_SWEEP_INTERVAL: "1h", ...env }, { surveyStore: store, ...(clock ? { clock } : {}) });
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

    // The stored survey's common fields and the logs' lack of comment text are the contract
    // suite's (channel-contract.ts, for every channel); what is Teams' own stays here.
    expect(await storedDialogue(store, conv)).toMatchObject({ channel: "teams", score: 4, comment: COMMENT });
    expect((t as TestApp).logs.join("\n")).toContain("TEAMS AUTHENTICATION IS OFF");
  });
});

describe("Teams channel delivery rules", () => {
  it("processes a redelivered activity once (dedupe on activity.id)", async () => {
    const url = await start();
    const conv = newConversationId();
    const hello = activity("message-personal", conv, connector.url);
    expect(await send(url, hello)).toHaveLength(1);
    expect(await send(url, hello)).toEqual([]);
    const tap = submit(conv, "any", "p1", 4, 5);
    expect((await send(url, tap)).map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(await send(url, tap)).toEqual([]);
  });

  it("answers a tap on a stale card with 'This survey is closed' and changes nothing", async () => {
    const url = await start();
    const conv = newConversationId();
    const [cardCall] = await send(url, activity("message-personal", conv, connector.url));
    const cardId = cardCall?.answeredId as string;
    await send(url, submit(conv, cardId, "p1", 1, 2));
    // A second tap on the rating card (double tap, or a tap after the answer): only the notice.
    const stale = await send(url, submit(conv, cardId, "p1", 4, 5));
    expect(stale.map((c) => [c.method, c.body.text])).toEqual([["POST", "This survey is closed"]]);
    // The comment question is still the one waiting.
    const next = await send(url, activity("message-personal", conv, connector.url, { text: "ok" }));
    expect(next.map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(next[1]?.body.text).toBe("Thank you for your feedback!");
    expect(await storedDialogue(store, conv)).toMatchObject({ score: 2, comment: "ok" });
  });

  it("takes a typed digit as the answer and still updates the card in place", async () => {
    const url = await start();
    const conv = newConversationId();
    const [cardCall] = await send(url, activity("message-personal", conv, connector.url));
    const typed = await send(url, activity("message-personal", conv, connector.url, { text: "5" }));
    expect(typed.map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(typed[0]?.activityId).toBe(cardCall?.answeredId);
    expect(textsOf(cardOf(typed[0]))).toEqual([RATING_TEXT, "Your answer: 5"]);
    // A mention of the bot in a group chat is not part of the answer.
    const mention = await send(url, activity("message-personal", conv, connector.url, { text: "<at>botflow</at> fine" }));
    expect(mention[1]?.body.text).toBe("Thank you for your feedback!");
    expect(await storedDialogue(store, conv)).toMatchObject({ score: 5, comment: "fine" });
  });

  it("picks the translation from activity.locale", async () => {
    const url = await start();
    const conv = newConversationId();
    const [call] = await send(url, activity("message-personal", conv, connector.url, { locale: "uk-UA" }));
    expect(textsOf(cardOf(call))[0]).toMatch(/^Будь ласка, оцініть якість обслуговування/);
    expect(rowsOf(cardOf(call))).toEqual([["1", "2", "3", "4", "5"], ["Пропустити"]]);
  });

  it("retries 429 and 5xx answers of the connector with backoff, and delivers", async () => {
    const url = await start();
    const conv = newConversationId();
    connector.failures.push({ status: 429, retryAfter: "0" }, { status: 503 });
    const calls = await send(url, activity("message-personal", conv, connector.url));
    expect(calls.map((c) => c.method)).toEqual(["POST", "POST", "POST"]);
    expect(new Set(calls.map((c) => c.path)).size).toBe(1);
    expect(cardOf(calls[2])).toMatchObject({ version: "1.2" });
  });

  it("answers 500 when the connector refuses, saves nothing, and takes the redelivery", async () => {
    const url = await start();
    const conv = newConversationId();
    const hello = activity("message-personal", conv, connector.url);
    connector.failures.push({ status: 400 });
    const res = await post(url, hello);
    expect(res.status).toBe(500);
    expect(connector.calls).toHaveLength(1);
    // The Bot Framework redelivers the same activity: it is processed (not a duplicate).
    const again = await send(url, hello);
    expect(again).toHaveLength(1);
    expect(cardOf(again[0])).toMatchObject({ version: "1.2" });
    expect((t as TestApp).logs.join("\n")).toContain("answered 500 so the Bot Framework delivers it again");
  });

  it("replies on each conversation's own serviceUrl, and a timeout closes the card there through the stored reference", async () => {
    const clock = new ManualClock();
    const url = await start({}, clock);
    const other = await FakeConnector.start();
    try {
      const a = newConversationId();
      const b = newConversationId();
      const [cardA] = await send(url, activity("message-personal", a, connector.url));
      const before = other.calls.length;
      expect((await post(url, activity("message-personal", b, other.url))).status).toBe(200);
      expect(other.calls.slice(before).map((c) => c.conversationId)).toEqual([b]);
      expect(connector.calls.map((c) => c.conversationId)).toEqual([a]);

      // No answer for a day: the sweeper fires the timeout, with no inbound request to reply to.
      clock.advance(25 * 3_600_000);
      expect(await (t as TestApp).app.sweep()).toBe(2);
      const closedA = connector.calls.slice(1);
      expect(closedA.map((c) => [c.method, c.activityId])).toEqual([["PUT", cardA?.answeredId]]);
      expect(textsOf(cardOf(closedA[0]))).toEqual([RATING_TEXT, "This survey is closed"]);
      expect(rowsOf(cardOf(closedA[0]))).toEqual([]);
      expect(other.calls.filter((c) => c.method === "PUT").map((c) => c.conversationId)).toEqual([b]);
      expect(await storedDialogue(store, a)).toMatchObject({ offered: true, denied: true });
    } finally {
      await other.close();
    }
  });

  it("drops a timeout's message that the connector refuses for good (403), instead of retrying it forever", async () => {
    const clock = new ManualClock();
    const url = await start({}, clock);
    const conv = newConversationId();
    await send(url, activity("message-personal", conv, connector.url));
    await send(url, submit(conv, "any", "p1", 2, 3));
    const before = connector.calls.length;
    // No comment within the hour: the timeout closes the comment card and sends the thanks; both refused.
    clock.advance(2 * 3_600_000);
    connector.failures.push({ status: 403 }, { status: 403 });
    expect(await (t as TestApp).app.sweep()).toBe(1);
    expect(connector.calls.slice(before).map((c) => c.method)).toEqual(["PUT", "POST"]);
    expect(await (t as TestApp).app.sweep()).toBe(0);
    expect(connector.calls.length).toBe(before + 2);
    expect(await storedDialogue(store, conv)).toMatchObject({ score: 3, completed: true });
    expect((t as TestApp).logs.join("\n")).toContain("it was dropped");
  });

  it("starts the scenario when the bot is added, only when configured", async () => {
    let url = await start();
    const conv = newConversationId();
    expect(await send(url, activity("conversation-update-bot-added", conv, connector.url))).toEqual([]);
    await t?.dispose();
    t = undefined;
    url = await start({ BOTFLOW_TEAMS_START_ON_INSTALL: "true" });
    const [greeting, ...rest] = await send(url, activity("conversation-update-bot-added", conv, connector.url));
    expect(rest).toEqual([]);
    expect(textsOf(cardOf(greeting))).toEqual([RATING_TEXT]);
  });

  it("starts BOTFLOW_TEAMS_SCENARIO instead of BOTFLOW_SCENARIO, wrapping a long row of buttons", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-teams-scenarios-"));
    try {
      await copyFile(new URL("../../scenarios/csat.yaml", import.meta.url), path.join(dir, "csat.yaml"));
      await copyFile(new URL("../fixtures/teams/scenarios/nps.yaml", import.meta.url), path.join(dir, "nps.yaml"));
      const url = await start({ BOTFLOW_SCENARIOS_DIR: dir, BOTFLOW_TEAMS_SCENARIO: "nps" });
      const conv = newConversationId();
      const [call] = await send(url, activity("message-personal", conv, connector.url));
      expect(textsOf(cardOf(call))).toEqual(["How likely are you to recommend us to a friend?"]);
      expect(rowsOf(cardOf(call))).toEqual([["0", "1", "2", "3", "4"], ["5", "6", "7", "8", "9"], ["10"]]);
      const tap = await send(url, submit(conv, call?.answeredId as string, "p1", 10, 10));
      expect(tap.map((c) => c.method)).toEqual(["PUT", "POST"]);
      expect(tap[1]?.body.text).toBe("Thanks!");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start with a scenario whose button labels are too long for Teams", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-teams-scenarios-"));
    try {
      const csat = await readFile(new URL("../../scenarios/csat.yaml", import.meta.url), "utf8");
      const long = "Extremely satisfied with everything today";
      await writeFile(path.join(dir, "csat.yaml"), csat.replace('{ label: "5", value: 5 }', `{ label: "${long}", value: 5 }`));
      // The web chat alone takes it; with Teams enabled the same file is a load error.
      const plain = await startTestApp({ BOTFLOW_SCENARIOS_DIR: dir }, { surveyStore: store });
      await plain.dispose();
      await expect(startTestApp({ BOTFLOW_SCENARIOS_DIR: dir, BOTFLOW_TEAMS_EMULATOR: "true" }, { surveyStore: store })).rejects.toThrow(
        /csat.yaml:24:18: error: block "ask_rating": label "Extremely satisfied with everything toda…" is 41 characters; teams allows 40/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses an activity without an id with 400, and ignores activities it has nothing to do with", async () => {
    const url = await start();
    const conv = newConversationId();
    const noId = activity("message-personal", conv, connector.url);
    delete noId.id;
    expect((await post(url, noId)).status).toBe(400);
    expect(await send(url, activity("message-personal", conv, connector.url, { type: "typing" }))).toEqual([]);
    expect(await send(url, activity("card-submit", conv, connector.url, { value: { action: "someone else's card" } }))).toEqual([]);
    expect(connector.calls).toEqual([]);
  });

  it("runs the Bot Framework Emulator's own message shape", async () => {
    const url = await start();
    const conv = newConversationId();
    const [call] = await send(url, activity("emulator-message", conv, connector.url));
    expect(call?.conversationId).toBe(conv);
    expect(call?.headers.authorization).toBeUndefined();
    expect(textsOf(cardOf(call))).toEqual([RATING_TEXT]);
  });
});
