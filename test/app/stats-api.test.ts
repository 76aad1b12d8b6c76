/**
 * The statistics HTTP API and the dashboard's access control, through fastify.inject on the
 * real web process with a PGlite store seeded with survey events.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { useSharedStore, startTestApp, type TestApp } from "./app-harness.ts";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));
let t: TestApp | undefined;
afterEach(async () => {
  await t?.dispose();
  t = undefined;
});

const DAY = "2026-03-10";
const AT = Date.parse(`${DAY}T09:00:00Z`);

/** A completed survey's events, on its own scenario id so tests sharing the store never meet. */
function survey(scenarioId: string, n: number, score: number, comment: string): SurveyEvent[] {
  const base = { surveyId: `${scenarioId}-${n}`, scenarioId, scenarioVersion: "1", channel: "webchat", botId: "", conversationId: `c${n}`, dialogueStartedAt: AT + n * 60_000, at: AT + n * 60_000 };
  return [
    { ...base, kind: "dialogue_started" },
    { ...base, kind: "offered", scale: { min: 1, max: 5 } },
    { ...base, kind: "answered", score },
    { ...base, kind: "completed", score, comment },
  ];
}

async function seeded(): Promise<string> {
  const scenarioId = `api-${randomUUID().slice(0, 8)}`;
  await store.apply([...survey(scenarioId, 1, 4, '=HYPERLINK("http://evil")'), ...survey(scenarioId, 2, 1, ""), ...survey(scenarioId, 3, 5, "Great, \"really\"")]);
  return scenarioId;
}

describe("statistics API", () => {
  it("answers the figures of a period and filter", async () => {
    const scenario = await seeded();
    t = await startTestApp({}, { surveyStore: store });
    const res = await t.app.server.inject({ url: `/api/stats/figures?from=${DAY}&to=${DAY}&scenario=${scenario}&tz=UTC` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const f = res.json() as Record<string, unknown>;
    expect(f).toMatchObject({ surveys: 3, rated: 3, commented: 2, average: 10 / 3, cdsat: 1 / 3, nps: (2 - 1) / 3, distribution: { "1": 1, "4": 1, "5": 1 }, scale: "1-5", responseRate: 1 });
    expect((f.trend as { days: { date: string; surveys: number }[] }).days).toEqual([expect.objectContaining({ date: DAY, surveys: 3 })]);
    const other = await t.app.server.inject({ url: `/api/stats/figures?from=${DAY}&to=${DAY}&scenario=${scenario}&channel=telegram` });
    expect(other.json()).toMatchObject({ surveys: 0, average: null });
  });

  it("pages the dialogue list newest first with the CSAT and comment columns", async () => {
    const scenario = await seeded();
    t = await startTestApp({}, { surveyStore: store });
    const first = (await t.app.server.inject({ url: `/api/stats/dialogues?scenario=${scenario}&limit=2` })).json() as { rows: { score: number; comment: string }[]; nextCursor: string };
    expect(first.rows.map((r) => [r.score, r.comment])).toEqual([
      [5, 'Great, "really"'],
      [1, ""],
    ]);
    const second = (await t.app.server.inject({ url: `/api/stats/dialogues?scenario=${scenario}&limit=2&cursor=${first.nextCursor}` })).json() as { rows: { score: number }[]; nextCursor: null };
    expect(second).toEqual({ rows: [expect.objectContaining({ score: 4, comment: '=HYPERLINK("http://evil")' })], nextCursor: null });
  });

  it("exports the list as CSV with formulas defused", async () => {
    const scenario = await seeded();
    t = await startTestApp({}, { surveyStore: store });
    const res = await t.app.server.inject({ url: `/api/stats/export.csv?scenario=${scenario}&surveysOnly=1` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="botflow-dialogues-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = res.body.split("\r\n");
    expect(lines[0]).toBe("survey_id,dialogue_started_at,scenario_id,scenario_version,channel,bot_id,conversation_id,offered,accepted,denied,denied_reason,completed,csat,scale,client_comment,completed_at");
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain(`${scenario}-3,2026-03-10T09:03:00.000Z,${scenario},1,webchat,,c3,true,true,false,,true,5,1-5,"Great, ""really""",`);
    expect(lines[3]).toContain(`,4,1-5,"'=HYPERLINK(""http://evil"")",`);
  });

  it("offers the loaded scenarios and enabled channels as filters", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const options = (await t.app.server.inject({ url: "/api/stats/options" })).json() as { scenarios: { id: string; name: string }[]; channels: string[] };
    expect(options.scenarios.map((s) => s.id)).toEqual(["csat", "csat_branching", "csat_emoji"]);
    expect(options.scenarios[0]).toEqual({ id: "csat", name: "Customer satisfaction survey" });
    expect(options.channels).toEqual(["webchat"]);
  });

  it.each([
    ["from=2026-13-45", "from \"2026-13-45\" is not a calendar day"],
    ["to=yesterday", "to \"yesterday\" must be a day (YYYY-MM-DD) or an ISO timestamp"],
    ["tz=Mars/Olympus", "tz \"Mars/Olympus\" is not an IANA time zone such as UTC or Europe/Kyiv"],
    ["scenario=a%20b", "scenario must be an id (letters, digits, _ . : -)"],
  ])("answers 400 with what is wrong for %s", async (qs, message) => {
    t = await startTestApp({}, { surveyStore: store });
    const res = await t.app.server.inject({ url: `/api/stats/figures?${qs}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "bad_request", message });
  });

  it("answers 400 for a bad page size or a forged cursor", async () => {
    t = await startTestApp({}, { surveyStore: store });
    expect((await t.app.server.inject({ url: "/api/stats/dialogues?limit=0" })).json()).toEqual({ error: "bad_request", message: "limit must be a whole number from 1 to 500" });
    const forged = await t.app.server.inject({ url: "/api/stats/dialogues?cursor=bm90LWEtY3Vyc29y" });
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toMatchObject({ message: expect.stringContaining("cursor") });
  });
});

describe("BOTFLOW_TOKEN", () => {
  const TOKEN = "correct-horse-battery-staple-42";

  it("guards the API, /metrics and the dashboard, and trades the token for a session cookie", async () => {
    t = await startTestApp({ BOTFLOW_TOKEN: TOKEN }, { surveyStore: store });
    const s = t.app.server;
    const denied = await s.inject({ url: "/api/stats/figures" });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers["www-authenticate"]).toBe('Bearer realm="botflow"');
    expect((await s.inject({ url: "/metrics" })).statusCode).toBe(401);
    expect((await s.inject({ url: "/api/stats/figures", headers: { authorization: "Bearer wrong-token-of-some-length" } })).statusCode).toBe(401);
    expect((await s.inject({ url: "/api/stats/figures", headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
    expect((await s.inject({ url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);

    const page = await s.inject({ url: "/dashboard", headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe("/dashboard/login");
    expect((await s.inject({ url: "/dashboard/login" })).body).toContain('<input id="token" name="token" type="password"');

    const wrong = await s.inject({ method: "POST", url: "/dashboard/login", payload: "token=guess", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("That is not the token.");
    expect(wrong.headers["set-cookie"]).toBeUndefined();

    const ok = await s.inject({ method: "POST", url: "/dashboard/login", payload: `token=${encodeURIComponent(TOKEN)}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/dashboard");
    const cookie = String(ok.headers["set-cookie"]);
    expect(cookie).toMatch(/^botflow_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=2592000$/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(";")[0] as string;
    expect((await s.inject({ url: "/dashboard", headers: { cookie: session, accept: "text/html" } })).statusCode).toBe(200);
    expect((await s.inject({ url: "/api/stats/dialogues", headers: { cookie: session } })).statusCode).toBe(200);
    expect((await s.inject({ url: "/api/stats/dialogues", headers: { cookie: "botflow_session=forged" } })).statusCode).toBe(401);

    expect((await s.inject({ url: "/api/queue" })).statusCode).toBe(401);
    expect((await s.inject({ method: "POST", url: "/api/queue/replay-dead" })).statusCode).toBe(401);
    expect((await s.inject({ url: "/api/queue", headers: { cookie: session } })).json()).toEqual({ mode: "in-process", counts: { dead: 0 }, dead: [] });

    // The web chat and the probes stay open: users and load balancers carry no token.
    expect((await s.inject({ url: "/chat" })).statusCode).toBe(200);
    expect((await s.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect(t.logs.join("\n")).not.toContain(TOKEN);
  });

  it("leaves everything open without a token, and the login page sends you on", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const page = await t.app.server.inject({ url: "/dashboard" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<script src="/dashboard/dashboard.js" defer></script>');
    expect((await t.app.server.inject({ url: "/dashboard/login" })).headers.location).toBe("/dashboard");
  });
});
