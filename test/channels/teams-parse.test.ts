/**
 * The Teams channel's pure parts: reading Activities into events, planning cards from
 * effects, and reading its configuration.
 */
import { visibleEffects } from "../../channels/port.ts";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.ts";
import { closedCard, questionCard } from "../../channels/teams/adaptive-card.ts";
import { parseActivity, type TeamsActivity } from "../../channels/teams/parse-activity.ts";
import { planEffects } from "../../channels/teams/render.ts";
import type { OutButton } from "../../engine/types.ts";
import { fixture } from "./teams-harness.ts";

const BOT = "28:0e4a3f3b-4b8f-4a8e-9d5c-3f0c7e1f2a6b";
const off = { startOnInstall: false };

describe("parseActivity", () => {
  it("reads a typed message as a text that starts the scenario when idle, with the user's locale", () => {
    const a = fixture("message-personal") as TeamsActivity;
    expect(parseActivity(a, { ...off, scenarioId: "nps" })).toEqual({
      ok: true,
      events: [
        {
          channel: "teams",
          conversationId: a.conversation?.id,
          userId: a.from?.id,
          botId: BOT,
          dedupeKey: "1764234764395",
          locale: "en-US",
          kind: "text",
          text: "Hi",
          startIfIdle: true,
          scenarioId: "nps",
        },
      ],
    });
  });

  it("reads a card submit as a choice of the prompt and button it carries", () => {
    const r = parseActivity(fixture("card-submit") as TeamsActivity, off);
    expect(r).toMatchObject({ ok: true, events: [{ kind: "choice", promptId: "p1", buttonIndex: 3, dedupeKey: "1764234778120" }] });
  });

  it("refuses malformed botflow submits and activities without ids, ignores other cards' submits", () => {
    const submit = fixture("card-submit") as TeamsActivity;
    expect(parseActivity({ ...submit, value: { botflow: 1, promptId: "p1", index: -1 } }, off)).toMatchObject({ ok: false });
    expect(parseActivity({ ...submit, value: { botflow: 1, index: 2 } }, off)).toMatchObject({ ok: false });
    expect(parseActivity({ ...submit, value: { botflow: 1, promptId: "p1", index: 1.5 } }, off)).toMatchObject({ ok: false });
    expect(parseActivity({ ...submit, value: { verb: "other" } }, off)).toEqual({ ok: true, events: [] });
    expect(parseActivity({ ...submit, id: undefined }, off)).toMatchObject({ ok: false, reason: expect.stringContaining("no id") });
    expect(parseActivity({ ...submit, conversation: {} }, off)).toMatchObject({ ok: false });
    expect(parseActivity({ ...submit, from: undefined }, off)).toMatchObject({ ok: false });
  });

  it("strips bot mentions, ignores empty texts and drops a locale that is not one", () => {
    const a = fixture("message-personal") as TeamsActivity;
    expect(parseActivity({ ...a, text: "<at>botflow</at>  4 " }, off)).toMatchObject({ events: [{ text: "4" }] });
    expect(parseActivity({ ...a, text: "<at>botflow</at>" }, off)).toEqual({ ok: true, events: [] });
    const r = parseActivity({ ...a, locale: "../../etc" }, off);
    expect(r.ok && r.events[0]?.locale).toBeUndefined();
  });

  it("starts on the bot being added only when configured, and not when someone else is added", () => {
    const added = fixture("conversation-update-bot-added") as TeamsActivity;
    expect(parseActivity(added, off)).toEqual({ ok: true, events: [] });
    expect(parseActivity(added, { startOnInstall: true })).toMatchObject({ ok: true, events: [{ kind: "start", dedupeKey: added.id }] });
    expect(parseActivity({ ...added, membersAdded: [{ id: "29:someone" }] }, { startOnInstall: true })).toEqual({ ok: true, events: [] });
  });
});

describe("Adaptive Cards", () => {
  const buttons = (n: number): OutButton[] => Array.from({ length: n }, (_, i) => ({ label: String(i), value: i, index: i }));

  it("cuts a scenario row wider than five into rows of five", () => {
    const b = buttons(7);
    const card = questionCard({ text: "Q", promptId: "p3", buttons: b, rows: [b] });
    expect(card.version).toBe("1.2");
    const sets = card.body.filter((e) => e.type === "ActionSet");
    expect(sets.map((s) => (s.type === "ActionSet" ? s.actions.map((x) => x.data.index) : []))).toEqual([[0, 1, 2, 3, 4], [5, 6]]);
  });

  it("closes a card with its question and status and no actions", () => {
    expect(closedCard("Q", "Your answer: 4").body).toEqual([
      { type: "TextBlock", text: "Q", wrap: true },
      { type: "TextBlock", text: "Your answer: 4", wrap: true, isSubtle: true, weight: "Bolder" },
    ]);
  });

  it("plans cards for keyboards, plain messages for texts, closing lines per reason, notices for ignored taps", () => {
    const b = buttons(2);
    expect(
      planEffects(visibleEffects([
        { type: "close", promptId: "p1", reason: "answered", answer: { label: "x".repeat(200), value: "x" } },
        { type: "close", promptId: "p2", reason: "timeout" },
        { type: "close", promptId: "p3", reason: "reprompt" },
        { type: "send", message: { text: "plain", promptId: "p4", expectsText: true } },
        { type: "send", message: { text: "keys", promptId: "p5", buttons: b, rows: [b] } },
        { type: "ignored", reason: "stale_prompt", promptId: "p1" },
        { type: "ignored", reason: "unknown_button", promptId: "p5" },
        { type: "track", event: { type: "dialogue_started" } },
      ])),
    ).toEqual([
      { kind: "close", promptId: "p1", status: `Your answer: ${"x".repeat(79)}…` },
      { kind: "close", promptId: "p2", status: "This survey is closed" },
      { kind: "close", promptId: "p3" },
      { kind: "send", text: "plain" },
      { kind: "send", text: "keys", promptId: "p5", card: questionCard({ text: "keys", promptId: "p5", buttons: b, rows: [b] }) },
      { kind: "notice", text: "This survey is closed" },
      { kind: "notice", text: "That button is not part of the question." },
    ]);
  });
});

describe("Teams configuration", () => {
  const ID = "0e4a3f3b-4b8f-4a8e-9d5c-3f0c7e1f2a6b";
  const SECRET = "s3cr3t-Value~that-must-not-leak";
  const load = (env: Record<string, string>) => loadConfig(env, { cwd: "/tmp" });
  const problems = (env: Record<string, string>): string => {
    try {
      load(env);
      return "";
    } catch (err) {
      return (err as Error).message;
    }
  };

  it("is off without its variables, on with an App ID and password, or in Emulator mode", () => {
    expect(load({}).channels.teams).toBeUndefined();
    expect(load({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_PASSWORD: SECRET }).channels.teams).toEqual({ appId: ID, appPassword: SECRET, startOnInstall: false });
    expect(load({ BOTFLOW_TEAMS_EMULATOR: "true", BOTFLOW_TEAMS_START_ON_INSTALL: "yes" }).channels.teams).toEqual({ startOnInstall: true });
    expect(load({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_TYPE: "singletenant", MICROSOFT_APP_TENANT_ID: "contoso.onmicrosoft.com", MICROSOFT_APP_PASSWORD: SECRET }).channels.teams).toMatchObject({
      appType: "SingleTenant",
      tenantId: "contoso.onmicrosoft.com",
    });
    expect(load({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_TYPE: "UserAssignedMSI", MICROSOFT_APP_TENANT_ID: ID }).channels.teams).toMatchObject({ appType: "UserAssignedMSI" });
    expect(load({ BOTFLOW_TEAMS_EMULATOR: "true", BOTFLOW_TEAMS_SCENARIO: "nps" }).channelScenarios).toEqual({ teams: "nps" });
  });

  it("says what is wrong, never quoting the password", () => {
    expect(problems({ MICROSOFT_APP_PASSWORD: SECRET })).toMatch(/MICROSOFT_APP_PASSWORD is set but MICROSOFT_APP_ID is not/);
    expect(problems({ MICROSOFT_APP_ID: ID })).toMatch(/MICROSOFT_APP_PASSWORD is not/);
    expect(problems({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_PASSWORD: SECRET, MICROSOFT_APP_TYPE: "SingleTenant" })).toMatch(/needs MICROSOFT_APP_TENANT_ID/);
    expect(problems({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_PASSWORD: SECRET, MICROSOFT_APP_TYPE: "Personal" })).toMatch(/is not an app type/);
    expect(problems({ MICROSOFT_APP_ID: ID, MICROSOFT_APP_PASSWORD: SECRET, BOTFLOW_TEAMS_EMULATOR: "true" })).toMatch(/turns authentication off/);
    expect(problems({ BOTFLOW_TEAMS_EMULATOR: "maybe" })).toMatch(/BOTFLOW_TEAMS_EMULATOR "maybe" is not a boolean/);
    const bad = problems({ MICROSOFT_APP_ID: SECRET, MICROSOFT_APP_PASSWORD: SECRET, BOTFLOW_TEAMS_SCENARIO: "no such!" });
    expect(bad).toMatch(/MICROSOFT_APP_ID is not an App ID/);
    expect(bad).toMatch(/BOTFLOW_TEAMS_SCENARIO "no such!" is not a scenario id/);
    expect(bad).not.toContain(SECRET);
  });
});
