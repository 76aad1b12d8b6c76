/**
 * With MICROSOFT_APP_ID set, the SDK's own Bot Framework token validation guards
 * /api/messages: a request without a valid token gets 401 and changes nothing — no event
 * reaches the runtime, no conversation state, no call to the connector.
 *
 * The refusals tested here happen before the SDK would fetch Microsoft's OpenID signing keys:
 * no Authorization header fails at once, and a token that does not decode, or whose issuer is
 * not a Bot Framework one, is refused before any key is looked up. Every outgoing HTTP(S)
 * request is watched to prove that nothing left 127.0.0.1. (A token with a genuine issuer but a
 * forged signature would need those keys from the internet, so it is not tested here.)
 */
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import http from "node:http";
import https from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { conversationKey } from "../../engine/runtime.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { openSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { FakeConnector } from "./teams-fake-connector.ts";
import { activity, newConversationId, post } from "./teams-harness.ts";

const APP_ID = "0e4a3f3b-4b8f-4a8e-9d5c-3f0c7e1f2a6b";
const APP_PASSWORD = "test-app-password-Zq8~x7Yk2Lm9Nc4Vb6";

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
  vi.restoreAllMocks();
  await t?.dispose();
  t = undefined;
});

/** An HS256 JWT signed with a key of our own, claiming a foreign issuer. */
function forgedToken(issuer: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = enc({ alg: "HS256", typ: "JWT" });
  const body = enc({ iss: issuer, aud: APP_ID, serviceurl: connector.url, exp: Math.floor(Date.now() / 1000) + 600 });
  const sig = createHmac("sha256", "not-microsoft").update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${sig}`;
}

describe("Teams channel with an App ID", () => {
  it("answers 401 to requests without a valid Bot Framework token and changes nothing", async () => {
    t = await startTestApp({ MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: APP_PASSWORD }, { surveyStore: store });
    const { url } = await t.app.listen();
    const handle = vi.spyOn(t.app.runtime, "handle");
    const outbound: string[] = [];
    const watch = (mod: typeof http | typeof https) => {
      const original = mod.request.bind(mod) as (...args: unknown[]) => http.ClientRequest;
      vi.spyOn(mod, "request").mockImplementation(((...args: unknown[]) => {
        const first = args[0];
        const host = typeof first === "string" ? new URL(first).hostname : first instanceof URL ? first.hostname : ((first as { hostname?: string; host?: string }).hostname ?? (first as { host?: string }).host ?? "");
        outbound.push(host);
        return original(...args);
      }) as typeof mod.request);
    };
    watch(http);
    watch(https);
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      outbound.push(new URL(input instanceof Request ? input.url : String(input)).hostname);
      return realFetch(input, init);
    });
    // The SDK prints its AuthenticationError with console.error: what it prints must hold no secret either.
    const printed: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void printed.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message} ${JSON.stringify(a)}` : String(a))).join(" ")));
    // The watch itself works: a request through node-fetch, which the SDK fetches its signing keys with, is seen.
    const nodeFetch = createRequire(import.meta.url)("node-fetch") as (url: string) => Promise<{ text(): Promise<string> }>;
    await (await nodeFetch(`${connector.url}probe`)).text();
    expect(outbound).toEqual(["127.0.0.1"]);
    connector.calls.length = 0;
    const conv = newConversationId();
    const cases: [string, Record<string, string>][] = [
      ["no Authorization header", {}],
      ["a token that is not a JWT", { authorization: "Bearer not-a-token" }],
      ["a self-signed token from a foreign issuer", { authorization: `Bearer ${forgedToken("https://evil.example/")}` }],
      ["a Basic credential", { authorization: `Basic ${Buffer.from(`${APP_ID}:${APP_PASSWORD}`).toString("base64")}` }],
    ];
    for (const [what, headers] of cases) {
      const res = await post(url, activity("message-personal", conv, connector.url), headers);
      expect(res.status, what).toBe(401);
    }

    expect(handle).not.toHaveBeenCalled();
    expect(connector.calls).toEqual([]);
    expect(outbound.filter((h) => h !== "127.0.0.1" && h !== "localhost")).toEqual([]);
    // No conversation state was written: the store hands out the conversation's lock with no state.
    const key = conversationKey({ channel: "teams", conversationId: conv, userId: "", botId: "28:0e4a3f3b-4b8f-4a8e-9d5c-3f0c7e1f2a6b" });
    const begun = await t.app.services.state.begin(key, "probe", 1000);
    expect(begun).toMatchObject({ status: "acquired", state: null });
    if (begun.status === "acquired") await t.app.services.state.release(key, begun.token);
    expect(await storedDialogue(store, conv)).toBeUndefined();

    const logs = t.logs.join("\n");
    expect(logs).toContain("without a valid Bot Framework token");
    expect(logs).not.toContain(APP_PASSWORD);
    expect(logs).not.toContain("not-a-token");
    expect(logs).not.toContain("TEAMS AUTHENTICATION IS OFF");
    // Only a call that carries a Bearer token reaches the SDK; the others were refused from their headers.
    expect(printed.length).toBe(1);
    expect(logs).toContain("the request came without a Bot Framework token");
    for (const line of printed) {
      expect(line).toMatch(/Unauthorized/);
      expect(line).not.toContain(APP_PASSWORD);
      expect(line).not.toContain("not-a-token");
    }
  });

  it("refuses to start with an App ID but no password, without echoing anything secret", async () => {
    await expect(startTestApp({ MICROSOFT_APP_ID: APP_ID })).rejects.toThrow(/MICROSOFT_APP_PASSWORD is not/);
    await expect(startTestApp({ MICROSOFT_APP_ID: "not-a-guid", MICROSOFT_APP_PASSWORD: APP_PASSWORD })).rejects.toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(APP_PASSWORD) }),
    );
    await expect(startTestApp({ MICROSOFT_APP_PASSWORD: APP_PASSWORD })).rejects.toThrow(/MICROSOFT_APP_ID is not/);
  });
});
