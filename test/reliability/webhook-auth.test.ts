/**
 * Authentication before work, on every webhook channel: a call without the secret (Telegram), the
 * Bearer token (Teams with an App ID) or the signature (WhatsApp Cloud API) is answered 401 whatever
 * its body — malformed JSON, {}, [], 5 MB, or a perfectly valid payload — and neither the JSON parser
 * nor the channel (grammY, botbuilder) ever sees it. With the credentials, a body over the channel's
 * limit is 413.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { CloudAdapter } from "botbuilder";
import { TeamsChannel } from "../../channels/teams/teams-channel.ts";
import { TelegramChannel } from "../../channels/telegram/telegram-channel.ts";
import { WhatsappCloudChannel } from "../../channels/whatsapp-cloud/whatsapp-cloud-channel.ts";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { activity, newConversationId } from "../channels/teams-harness.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat, startUpdate } from "../channels/telegram-updates.ts";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));
let t: TestApp | undefined;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await t?.dispose();
  t = undefined;
  for (const s of stops.splice(0)) await s();
});

const MARK = "auth-before-work-marker";
/** The bodies of the issue, each carrying MARK so a spy can tell whether anything read it. */
function bodies(valid: unknown): [string, string][] {
  return [
    ["malformed JSON", `{"${MARK}": `],
    ["{}", "{}"],
    ["[]", "[]"],
    ["5 MB", JSON.stringify({ [MARK]: "x".repeat(5 * 1024 * 1024) })],
    ["a valid payload", JSON.stringify({ ...(valid as object), [MARK]: true })],
  ];
}

/** Spies that prove nothing parsed a body: JSON.parse never got one of ours. */
function watchParsing(): { parsedOurs: () => number } {
  const parse = vi.spyOn(JSON, "parse");
  return { parsedOurs: () => parse.mock.calls.filter(([text]) => typeof text === "string" && (text.includes(MARK) || text === "{}" || text === "[]")).length };
}

/**
 * Posts every body with `headers` and expects 401 — or, for the 5 MB one when the headers passed
 * the header check (a well-formed but wrong signature), 413: the body is then read up to the limit.
 */
async function refusedAll(path: string, valid: unknown, headers: Record<string, string>, channelSpies: { mock: { calls: unknown[] } }[], bigStatus = 401): Promise<void> {
  const parsing = watchParsing();
  for (const [what, body] of bodies(valid)) {
    const res = await t!.app.server.inject({ method: "POST", url: path, headers: { "content-type": "application/json", ...headers }, payload: body });
    expect(res.statusCode, what).toBe(what === "5 MB" ? bigStatus : 401);
    expect(res.body, what).not.toContain(MARK);
  }
  expect(parsing.parsedOurs(), "bodies JSON.parse saw").toBe(0);
  for (const spy of channelSpies) expect(spy.mock.calls).toHaveLength(0);
}

describe("authentication before work", () => {
  it("Telegram: without the secret token every body gets 401 and nothing reads it; with it, over 1 MiB is 413", async () => {
    const SECRET = "auth-secret_5f2c9d1e";
    const TOKEN = "7012345678:AAE-auth_Token_0123456789abcdefXYZ";
    const api = await new FakeBotApi(TOKEN).start();
    stops.push(() => api.stop());
    const handle = vi.spyOn(TelegramChannel.prototype, "handleUpdate");
    t = await startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET }, { surveyStore: store });
    const valid = startUpdate(newChat());
    await refusedAll("/telegram/webhook", valid, {}, [handle]);
    await refusedAll("/telegram/webhook", valid, { "x-telegram-bot-api-secret-token": `${SECRET}-wrong` }, [handle]);
    const big = await t.app.server.inject({ method: "POST", url: "/telegram/webhook", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, payload: bodies(valid)[3]![1] });
    expect(big.statusCode).toBe(413);
    expect(handle).not.toHaveBeenCalled();
  });

  it("Teams with an App ID: without a Bearer token every body gets 401 and neither JSON.parse nor botbuilder sees it", async () => {
    const adapter = vi.spyOn(CloudAdapter.prototype, "process");
    const channel = vi.spyOn(TeamsChannel.prototype, "process");
    t = await startTestApp({ MICROSOFT_APP_ID: "0e4a3f3b-4b8f-4a8e-9d5c-3f0c7e1f2a6b", MICROSOFT_APP_PASSWORD: "auth-app-password-Zq8~x7Yk2Lm9Nc4Vb6" }, { surveyStore: store });
    const valid = activity("message-personal", newConversationId(), "https://smba.trafficmanager.net/emea/");
    await refusedAll("/api/messages", valid, {}, [adapter, channel]);
    await refusedAll("/api/messages", valid, { authorization: "Basic dXNlcjpwYXNz" }, [adapter, channel]);
  });

  it("WhatsApp Cloud API: without a signature every body gets 401 unread; a wrong signature is checked on the raw bytes and nothing parses them", async () => {
    const APP_SECRET = "app-secret-auth-5aa765d61d8327deb882cf99";
    const parse = vi.spyOn(WhatsappCloudChannel.prototype, "parseInbound");
    t = await startTestApp(
      {
        WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-auth-access-token-d41d8cd98f00b204",
        WHATSAPP_CLOUD_PHONE_NUMBER_ID: "106540352242922",
        WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
        WHATSAPP_CLOUD_VERIFY_TOKEN: "verify-auth",
      },
      { surveyStore: store },
    );
    const valid = { object: "whatsapp_business_account", entry: [] };
    await refusedAll("/whatsapp/webhook", valid, {}, [parse]);
    await refusedAll("/whatsapp/webhook", valid, { "x-hub-signature-256": signBody("something else", APP_SECRET) }, [parse], 413);
    const big = JSON.stringify({ ...valid, pad: "x".repeat(4 * 1024 * 1024) });
    const res = await t.app.server.inject({ method: "POST", url: "/whatsapp/webhook", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(big, APP_SECRET) }, payload: big });
    expect(res.statusCode).toBe(413);
    expect(parse).not.toHaveBeenCalled();
  });
});
