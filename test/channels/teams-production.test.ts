/**
 * Teams across two web processes in production mode (real Redis and PostgreSQL): the
 * conversation reference and the question cards live in ChannelStorage (Redis here), so a card sent by one process
 * is updated in place by the other when the user answers by typing there.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../app/app-harness.ts";
import { productionEnv } from "../helpers/production-env.ts";
import { FakeConnector } from "./teams-fake-connector.ts";
import { activity, cardOf, newConversationId, post, rowsOf, textsOf } from "./teams-harness.ts";

const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const prod = productionEnv();
const env = { ...prod.env, BOTFLOW_TEAMS_EMULATOR: "true" };

let connector: FakeConnector;
const apps: TestApp[] = [];
beforeAll(async () => {
  connector = await FakeConnector.start();
});
afterAll(async () => {
  for (const t of apps) await t.dispose();
  await connector?.close();
  await prod.cleanup();
});

describe("Teams on two web processes (production mode)", () => {
  it("updates a card sent by one process when the answer is typed to the other", async () => {
    const a = await startTestApp(env);
    apps.push(a);
    const b = await startTestApp(env);
    apps.push(b);
    const urlA = (await a.app.listen()).url;
    const urlB = (await b.app.listen()).url;
    const conv = newConversationId();

    expect((await post(urlA, activity("message-personal", conv, connector.url))).status).toBe(200);
    const [cardCall] = connector.calls;
    expect(cardOf(cardCall)).toMatchObject({ version: "1.2" });

    expect((await post(urlB, activity("message-personal", conv, connector.url, { text: "3" }))).status).toBe(200);
    const [update, comment] = connector.calls.slice(1);
    expect(update).toMatchObject({ method: "PUT", conversationId: conv, activityId: cardCall?.answeredId });
    expect(rowsOf(cardOf(update))).toEqual([]);
    expect(textsOf(cardOf(update))[1]).toBe("Your answer: 3");
    expect(rowsOf(cardOf(comment))).toEqual([["No comment"]]);

    // The comment card, sent by B, is closed by A.
    expect((await post(urlA, activity("message-personal", conv, connector.url, { text: "fine" }))).status).toBe(200);
    const [closeComment, thanks] = connector.calls.slice(3);
    expect(closeComment).toMatchObject({ method: "PUT", activityId: comment?.answeredId });
    expect(thanks?.body.text).toBe("Thank you for your feedback!");
  });
});
