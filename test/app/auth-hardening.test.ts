/**
 * The dashboard's login form is rate-limited per client address, and state-changing ops routes
 * refuse cross-site requests (Origin of another host) even with a valid session cookie. Through
 * the whole web process (composeApp, fastify.inject), and the limiter on a simulated clock.
 */
import Fastify from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createAuth } from "../../app/auth.ts";
import { dashboardRoutes } from "../../app/dashboard-routes.ts";
import { LoginLimiter } from "../../app/login-limiter.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { startTestApp, useSharedStore, type TestApp } from "./app-harness.ts";

const TOKEN = "ops-token-0123456789abcdef";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));
let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

describe("LoginLimiter", () => {
  it("blocks an address after 10 wrong tokens for the rest of the window, then lets it try again", () => {
    const clock = new ManualClock(1_000_000);
    const l = new LoginLimiter({ clock, maxFailures: 10, windowMs: 60_000 });
    for (let i = 0; i < 9; i++) l.failed("10.0.0.1");
    expect(l.blockedFor("10.0.0.1")).toBe(0);
    l.failed("10.0.0.1");
    expect(l.blockedFor("10.0.0.1")).toBe(60_000);
    expect(l.blockedFor("10.0.0.2")).toBe(0); // per address
    clock.advance(59_999);
    expect(l.blockedFor("10.0.0.1")).toBe(1);
    clock.advance(1);
    expect(l.blockedFor("10.0.0.1")).toBe(0);
    l.failed("10.0.0.1");
    expect(l.blockedFor("10.0.0.1")).toBe(0); // a fresh window
  });

  it("keeps at most maxAddresses, dropping the oldest", () => {
    const l = new LoginLimiter({ maxFailures: 1, maxAddresses: 3 });
    for (const a of ["a", "b", "c", "d"]) l.failed(a);
    expect(["a", "b", "c", "d"].map((a) => l.blockedFor(a) > 0)).toEqual([false, true, true, true]);
  });
});

describe("the login form", () => {
  it("answers 429 with Retry-After after 10 wrong tokens from one address, even to the right token, until the window ends", async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2));
    const app = Fastify();
    await dashboardRoutes(app, { auth: createAuth(TOKEN), loginLimiter: new LoginLimiter({ clock, windowMs: 15 * 60_000 }) });
    const login = (token: string, ip = "203.0.113.7") => app.inject({ method: "POST", url: "/dashboard/login", payload: `token=${encodeURIComponent(token)}`, headers: FORM, remoteAddress: ip });
    for (let i = 0; i < 10; i++) expect((await login(`guess-${i}`)).statusCode).toBe(401);
    const blocked = await login(TOKEN);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers["retry-after"]).toBe("900");
    expect(blocked.headers["set-cookie"]).toBeUndefined();
    expect(blocked.body).toContain("Too many wrong tokens");
    expect((await login(TOKEN, "198.51.100.1")).statusCode).toBe(303); // another address is not held up
    clock.advance(15 * 60_000);
    const again = await login(TOKEN);
    expect(again.statusCode).toBe(303);
    expect(String(again.headers["set-cookie"])).toMatch(/^botflow_session=/);
    await app.close();
  });

  it("refuses a login posted from another site", async () => {
    t = await startTestApp({ BOTFLOW_TOKEN: TOKEN }, { surveyStore: store });
    const r = await t.app.server.inject({ method: "POST", url: "/dashboard/login", payload: `token=${TOKEN}`, headers: { ...FORM, origin: "https://evil.example", host: "127.0.0.1:3000" } });
    expect(r.statusCode).toBe(403);
    expect(r.headers["set-cookie"]).toBeUndefined();
  });
});

describe("state-changing ops routes", () => {
  async function session(app: TestApp): Promise<string> {
    const ok = await app.app.server.inject({ method: "POST", url: "/dashboard/login", payload: `token=${TOKEN}`, headers: FORM });
    return String(ok.headers["set-cookie"]).split(";")[0] as string;
  }

  it("refuse a cross-site POST with a valid session cookie, and take it from the dashboard's own origin or with the Bearer token", async () => {
    t = await startTestApp({ BOTFLOW_TOKEN: TOKEN }, { surveyStore: store });
    const cookie = await session(t);
    const replay = (headers: Record<string, string>) => t!.app.server.inject({ method: "POST", url: "/api/queue/replay-dead", headers: { host: "127.0.0.1:3000", ...headers } });
    const evil = await replay({ cookie, origin: "https://evil.example" });
    expect(evil.statusCode).toBe(403);
    expect(evil.json()).toMatchObject({ error: "cross_site" });
    expect((await replay({ cookie, origin: "null" })).statusCode).toBe(403);
    expect((await replay({ cookie, "sec-fetch-site": "cross-site" })).statusCode).toBe(403);
    expect((await replay({ cookie, origin: "http://127.0.0.1:3000" })).json()).toEqual({ replayed: 0 });
    expect((await replay({ cookie, origin: "https://ops.example.com", "x-forwarded-host": "ops.example.com" })).statusCode).toBe(200);
    expect((await replay({ authorization: `Bearer ${TOKEN}`, origin: "https://evil.example" })).statusCode).toBe(200);
    // Reading is not state-changing: GETs are unaffected.
    expect((await t.app.server.inject({ url: "/api/queue", headers: { cookie, origin: "https://evil.example" } })).statusCode).toBe(200);
  });

  it("refuse a cross-site POST on the open embedded default too", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const r = await t.app.server.inject({ method: "POST", url: "/api/queue/replay-dead", headers: { host: "127.0.0.1:3000", origin: "https://evil.example" } });
    expect(r.statusCode).toBe(403);
    expect((await t.app.server.inject({ method: "POST", url: "/api/queue/replay-dead" })).statusCode).toBe(200);
  });
});
