/**
 * The trigger API through the whole web process on the web chat: a visitor with an open session
 * (a real WebSocket that said hello and nothing more) is sent the rating question unprompted, their
 * tap and typed comment (protocol frames as a browser sends them) complete the survey with the
 * trigger's variables recorded; a visitor with no open session is a 404 that records nothing.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { ChatClient, conversationIdOf } from "../app/ws-client.ts";
import { API_TOKEN, expectNothingRecorded, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";
const COMMENT = "The chat answered before I finished typing";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.dispose();
  t = undefined;
});

async function start(): Promise<{ app: TestApp; url: string }> {
  t = await startTestApp({ BOTFLOW_TOKEN: API_TOKEN }, { surveyStore: store });
  return { app: t, url: (await t.app.listen()).url };
}

/** A visitor with an open session: connected and said hello, nothing else. Returns the socket and the visitor id. */
async function visitor(url: string): Promise<{ c: ChatClient; id: string }> {
  const c = await ChatClient.connect(url);
  clients.push(c);
  c.send({ type: "hello" });
  return { c, id: conversationIdOf((await c.next())[0]) };
}

describe("POST /api/dialogues on the web chat", () => {
  it("sends the rating question unprompted to a visitor with an open session; the tap and the comment complete the survey with the trigger's variables and id", async () => {
    const { app, url } = await start();
    const { c, id: to } = await visitor(url);
    expect(c.pending()).toEqual([]);

    const key = `T-${randomUUID()}`;
    const variables = { agent: "olena", page: "/checkout", ticket: key };
    const answer = await trigger(url, { channel: "webchat", to, scenario: "csat", key, variables });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ result: "started", channel: "webchat", to, scenario: "csat", key, variables });
    const id = answer.body.id as string;

    const [question] = await c.next();
    expect(question).toMatchObject({ type: "message", promptId: "p1", text: RATING_TEXT });
    await untilState(url, id, "sent");

    c.send({ type: "choice", id: "m1", promptId: "p1", index: 3 });
    expect(await c.next(3)).toEqual([
      { type: "edit", promptId: "p1", reason: "answered", answer: "4" },
      expect.objectContaining({ type: "message", promptId: "p2", text: COMMENT_TEXT }),
      { type: "ack", id: "m1", status: "processed" },
    ]);
    c.send({ type: "text", id: "m2", text: COMMENT });
    expect(await c.next(3)).toEqual([
      { type: "edit", promptId: "p2", reason: "answered", answer: COMMENT },
      { type: "message", text: "Thank you for your feedback!" },
      { type: "ack", id: "m2", status: "processed" },
    ]);

    const row = await until(() => storedDialogue(store, to).then((r) => (r?.completed ? r : undefined)));
    expect(row).toMatchObject({ channel: "webchat", conversationId: to, scenarioId: "csat", score: 4, comment: COMMENT, completed: true, triggerId: id, context: variables });
    expect(await triggerState(url, id)).toMatchObject({ id, state: "completed", key });
    expect(await app.app.services.triggerStore?.byKey(key)).toMatchObject({ id }); // what the refusal test finds absent
  });

  it("answers 404 for a visitor with no open session, and records and sends nothing", async () => {
    const { app, url } = await start();
    const { c } = await visitor(url); // someone else is online; the trigger must not reach them
    const to = randomUUID().replace(/-/g, "").slice(0, 24); // well-formed, never issued
    const key = `T-${randomUUID()}`;
    const answer = await trigger(url, { channel: "webchat", to, scenario: "csat", key, variables: { agent: "olena" } });
    expect(answer).toMatchObject({ status: 404, body: { error: "unknown_recipient", field: "to", message: "this visitor has no open web chat session" } });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.pending()).toEqual([]);
    await expectNothingRecorded(app.app, store, key, to);
  });
});
