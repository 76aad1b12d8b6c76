/**
 * Teams `invoke` activities through the whole web process: real Activity JSON (an
 * `adaptiveCard/action` from an Action.Execute, and invokes botflow does not handle) posted to
 * POST /api/messages, the real CloudAdapter (Emulator mode), and the fake connector recording
 * what the bot sends. Every invoke is answered 200 with an invoke response, never 501.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { storedDialogue } from "../app/app-harness.ts";
import { useTeamsApp } from "./teams-app.ts";
import { activity, cardOf, newConversationId, post, rowsOf, textsOf, type CardJson, type Json } from "./teams-harness.ts";

const RATING_TEXT = "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).";
const COMMENT_TEXT = "Thank you! Would you like to add a comment to your rating?";

const teams = useTeamsApp();
const start = () => teams.start();

/** Posts an invoke; returns its HTTP answer (parsed) and the connector calls it caused. */
async function invoke(url: string, body: Json) {
  const before = teams.connector.calls.length;
  const res = await post(url, body);
  return { status: res.status, body: res.text === "" ? undefined : (JSON.parse(res.text) as Json), calls: teams.connector.calls.slice(before) };
}

/** An Action.Execute on the card `replyToId`, carrying `data`. */
function execute(conversationId: string, replyToId: string, data: Json): Json {
  const a = activity("invoke-adaptive-card-action", conversationId, teams.connector.url, { id: `f:${randomUUID()}`, replyToId });
  return { ...a, value: { ...(a.value as Json), action: { ...((a.value as Json).action as Json), data } } };
}

describe("Teams invokes", () => {
  it("answers an adaptiveCard/action on a question card with the closed card as its response, and goes on with the survey", async () => {
    const url = await start();
    const conv = newConversationId();
    const hello = await post(url, activity("message-personal", conv, teams.connector.url));
    expect(hello.status).toBe(200);
    const ratingCardId = teams.connector.calls[0]?.answeredId as string;

    const tap = await invoke(url, execute(conv, ratingCardId, { botflow: 1, promptId: "p1", index: 3, value: 4 }));
    expect(tap.status).toBe(200);
    expect(tap.body).toMatchObject({ statusCode: 200, type: "application/vnd.microsoft.card.adaptive" });
    const closed = tap.body?.value as CardJson;
    expect(closed).toMatchObject({ type: "AdaptiveCard", version: "1.2" });
    expect(textsOf(closed)).toEqual([RATING_TEXT, "Your answer: 4"]);
    expect(rowsOf(closed)).toEqual([]);
    // Teams puts the response's card in place of the tapped one: no separate update call, only the next question.
    expect(tap.calls.map((c) => c.method)).toEqual(["POST"]);
    expect(textsOf(cardOf(tap.calls[0]))).toEqual([COMMENT_TEXT]);

    // The same card tapped again (a double tap): a short message, nothing sent to the chat.
    const again = await invoke(url, execute(conv, ratingCardId, { botflow: 1, promptId: "p1", index: 4, value: 5 }));
    expect(again).toMatchObject({ status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: "This survey is closed" }, calls: [] });

    // The survey carries on with a typed comment and is stored with the invoked rating.
    const comment = await post(url, activity("message-personal", conv, teams.connector.url, { text: "via Action.Execute" }));
    expect(comment.status).toBe(200);
    expect(await storedDialogue(teams.store, conv)).toMatchObject({ channel: "teams", score: 4, comment: "via Action.Execute" });
  });

  it("answers an adaptiveCard/action on someone else's card with a short message, and changes nothing", async () => {
    const url = await start();
    const conv = newConversationId();
    const res = await invoke(url, execute(conv, "1764234765001", { verb: "approve", requestId: 17 }));
    expect(res).toMatchObject({ status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: "This bot does not handle that action." }, calls: [] });
    // A botflow card's data botflow cannot read (a broken index) is answered the same way, never 400 or 501.
    const broken = await invoke(url, execute(conv, "1764234765001", { botflow: 1, promptId: "p1", index: -3 }));
    expect(broken).toMatchObject({ status: 200, body: { value: "This bot does not handle that action." }, calls: [] });
    expect(teams.logs.join("\n")).toContain("a Teams invoke botflow cannot read was answered 200");
  });

  it("answers every other invoke 200 with an empty body", async () => {
    const url = await start();
    const conv = newConversationId();
    const base = activity("invoke-adaptive-card-action", conv, teams.connector.url);
    for (const [name, value] of [
      ["composeExtension/query", { commandId: "search", parameters: [{ name: "query", value: "csat" }] }],
      ["task/fetch", { data: { type: "task/fetch" } }],
      ["signin/verifyState", { state: "123456" }],
      ["actionableMessage/executeAction", { actionId: "a1" }],
    ] as const) {
      const res = await invoke(url, { ...base, id: `f:${randomUUID()}`, name, value });
      expect({ name, ...res }).toEqual({ name, status: 200, body: {}, calls: [] });
    }
  });
});
