/**
 * The pure side of Teams invokes and shared conversations: which events an `adaptiveCard/action`
 * and a channel mention make, whose survey a conversation is, and the invoke responses.
 */
import { describe, expect, it } from "vitest";
import { invokeResponse } from "../../channels/teams/invoke-response.ts";
import { closedCard } from "../../channels/teams/adaptive-card.ts";
import { conversationIdOf, isOtherMembersCard, ownerOf, parseActivity, type TeamsActivity } from "../../channels/teams/parse-activity.ts";
import { fixture } from "./teams-harness.ts";

const off = { startOnInstall: false };

describe("Teams invokes and channel threads, parsed", () => {
  it("reads an Action.Execute invoke on a botflow card as the choice it carries; other invokes make no event", () => {
    const a = fixture("invoke-adaptive-card-action") as TeamsActivity;
    expect(parseActivity(a, off)).toMatchObject({ ok: true, events: [{ kind: "choice", promptId: "p1", buttonIndex: 3, dedupeKey: a.id, conversationId: a.conversation?.id }] });
    expect(parseActivity({ ...a, value: { action: { type: "Action.Execute", data: { verb: "x" } } } }, off)).toEqual({ ok: true, events: [] });
    expect(parseActivity({ ...a, name: "task/fetch", value: { data: { botflow: 1, promptId: "p1", index: 0 } } }, off)).toEqual({ ok: true, events: [] });
    expect(parseActivity({ ...a, value: { action: { data: { botflow: 1, promptId: "p1", index: "3" } } } }, off)).toMatchObject({ ok: false });
  });

  it("gives each member of a channel thread or group chat a conversation of their own; a bare mention starts", () => {
    const m = fixture("message-channel-mention") as TeamsActivity;
    const id = `${m.conversation?.id}|${m.from?.id}`;
    expect(conversationIdOf(m)).toBe(id);
    expect(ownerOf(id)).toBe(m.from?.id);
    expect(parseActivity(m, off)).toMatchObject({ ok: true, events: [{ kind: "text", text: "", startIfIdle: true, conversationId: id, userId: m.from?.id }] });
    const group = { ...m, conversation: { ...m.conversation, conversationType: "groupChat" } };
    expect(conversationIdOf(group)).toBe(`${m.conversation?.id}|${m.from?.id}`);
    const personal = fixture("message-personal") as TeamsActivity;
    expect(conversationIdOf(personal)).toBe(personal.conversation?.id);
    expect(ownerOf(conversationIdOf(personal))).toBeUndefined();
  });

  it("tells a tap on another member's card from a tap on one's own", () => {
    const m = fixture("message-channel-mention") as TeamsActivity;
    const data = { botflow: 1, promptId: "p1", index: 0, value: 1, for: m.from?.id };
    const own: TeamsActivity = { ...m, value: data };
    const other: TeamsActivity = { ...m, from: { id: "29:someone-else" }, value: data };
    expect(isOtherMembersCard(own)).toBe(false);
    expect(isOtherMembersCard(other)).toBe(true);
    expect(parseActivity(other, off)).toEqual({ ok: true, events: [] });
    expect(parseActivity(own, off)).toMatchObject({ ok: true, events: [{ kind: "choice", promptId: "p1", buttonIndex: 0 }] });
  });

  it("answers adaptiveCard/action with the card or a message, and any other invoke with an empty 200", () => {
    const card = closedCard("Rate us", "Your answer: 4");
    expect(invokeResponse("adaptiveCard/action", { card }, true)).toEqual({ status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.card.adaptive", value: card } });
    expect(invokeResponse("adaptiveCard/action", { text: "This survey is closed" }, true)).toEqual({ status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: "This survey is closed" } });
    expect(invokeResponse("adaptiveCard/action", {}, true).body).toMatchObject({ value: "Thank you, your answer is recorded." });
    expect(invokeResponse("adaptiveCard/action", {}, false).body).toMatchObject({ value: "This bot does not handle that action." });
    expect(invokeResponse("composeExtension/query", undefined, false)).toEqual({ status: 200, body: {} });
  });
});
