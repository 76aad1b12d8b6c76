/**
 * The statistics HTTP API and the dashboard's access control, through fastify.inject on the
 * real web process with a PGlite store seeded with survey events.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import { parseSurveyEvent } from "../../stats/queue/parse-survey-event.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { SurveyStore } from "../../stats/store/survey-store.ts";
import { PG_URL } from "../stats/store-harness.ts";
import { openSharedStore, useSharedStore, startTestApp, type TestApp } from "./app-harness.ts";

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
    expect(f).toMatchObject({ surveys: 3, rated: 3, commented: 2, average: 10 / 3, csat: 2 / 3, cdsat: 1 / 3, nps: (2 - 1) / 3, distribution: { "1": 1, "4": 1, "5": 1 }, scale: "1-5", responseRate: 1 });
    expect(f.trend).toEqual({ granularity: "day", points: [expect.objectContaining({ date: DAY, surveys: 3 })] });
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

  it("lists and exports only the dialogues rated in a range with ?rating=1-2 (the unhappy ones), 4-5 or one value", async () => {
    const scenario = await seeded();
    t = await startTestApp({}, { surveyStore: store });
    const scores = async (q: string) => ((await t!.app.server.inject({ url: `/api/stats/dialogues?scenario=${scenario}&${q}` })).json() as { rows: { score: number }[] }).rows.map((r) => r.score);
    expect(await scores("rating=1-2")).toEqual([1]);
    expect(await scores("rating=4-5")).toEqual([5, 4]);
    expect(await scores("rating=4")).toEqual([4]);
    expect(await scores("rating=2-3")).toEqual([]);
    const csv = (await t.app.server.inject({ url: `/api/stats/export.csv?scenario=${scenario}&rating=1-2` })).body.split("\r\n").filter((l) => l !== "");
    expect(csv).toHaveLength(2);
    expect(csv[1]!.split(",")[12]).toBe("1");
    for (const bad of ["5-4", "low", "1-2-3", "1..2"]) {
      const res = await t.app.server.inject({ url: `/api/stats/dialogues?rating=${bad}` });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json(), bad).toMatchObject({ parameter: "rating", message: expect.stringMatching(/^rating ".*" must be a rating or a range of ratings, lowest first: 1-2, 3 or 4-5$/) });
    }
  });

  it("exports the list as CSV with formulas defused", async () => {
    const scenario = await seeded();
    t = await startTestApp({}, { surveyStore: store });
    const res = await t.app.server.inject({ url: `/api/stats/export.csv?scenario=${scenario}&surveysOnly=1` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="botflow-dialogues-\d{4}-\d{2}-\d{2}\.csv"$/);
    const lines = res.body.split("\r\n");
    expect(lines[0]).toBe("survey_id,dialogue_started_at,scenario_id,scenario_version,channel,bot_id,conversation_id,offered,accepted,denied,denied_reason,completed,csat,scale,client_comment,completed_at,trigger_id,context");
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain(`${scenario}-3,2026-03-10T09:03:00.000Z,${scenario},1,webchat,,c3,true,true,false,,true,5,1-5,"Great, ""really""",`);
    expect(lines[3]).toContain(`,4,1-5,"'=HYPERLINK(""http://evil"")",`);
  });

  it("carries what started a dialogue: triggerId and context in the JSON, trigger_id and context (compact JSON) as the last CSV columns", async () => {
    const scenario = await seeded();
    const context = { agent: "olena", team: "billing", ticket: "T-1234", note: 'said "hi", left' };
    await store.apply(survey(scenario, 4, 2, "slow").map((e) => ({ ...e, context, triggerId: "trg-42" })));
    t = await startTestApp({}, { surveyStore: store });
    const page = (await t.app.server.inject({ url: `/api/stats/dialogues?scenario=${scenario}` })).json() as { rows: { surveyId: string; context: unknown; triggerId: unknown }[] };
    expect(page.rows.map((r) => [r.surveyId, r.triggerId, r.context])).toEqual([
      [`${scenario}-4`, "trg-42", context],
      [`${scenario}-3`, null, null],
      [`${scenario}-2`, null, null],
      [`${scenario}-1`, null, null],
    ]);
    const lines = (await t.app.server.inject({ url: `/api/stats/export.csv?scenario=${scenario}` })).body.split("\r\n");
    expect(lines[0]!.split(",").slice(-3)).toEqual(["completed_at", "trigger_id", "context"]);
    expect(lines[1]!.startsWith(`${scenario}-4,`)).toBe(true);
    const tail = `,slow,2026-03-10T09:04:00.000Z,trg-42,`;
    expect(lines[1]).toContain(tail);
    // The context cell: quoted (it holds quotes and a comma), quotes doubled, compact JSON of the
    // stored object (jsonb keeps keys in its own order, so compare as objects).
    const cell = lines[1]!.slice(lines[1]!.indexOf(tail) + tail.length);
    expect(cell).toMatch(/^"\{.*\}"$/);
    const json = cell.slice(1, -1).replaceAll('""', '"');
    expect(cell.slice(1, -1).replaceAll('""', "")).not.toContain('"'); // every inner quote doubled
    expect(JSON.parse(json)).toEqual(context);
    expect(json).toBe(JSON.stringify(JSON.parse(json)));
    expect(lines[2]).toMatch(/,2026-03-10T09:03:00\.000Z,,$/); // neither: two empty cells
  });

  it("lists only the dialogue a trigger started with ?trigger=<id>, in the JSON and the CSV", async () => {
    const scenario = await seeded();
    // Ids as the trigger API makes them (UUIDs), and the widest the worker accepts (200 of [\w.@+-]).
    const id = randomUUID();
    const wide = `a.b@c+d-${"x".repeat(192)}`;
    // The parameter's rule is the worker's (it has its own copy): what one takes, the other does.
    const [started] = survey(scenario, 5, 3, "");
    expect(parseSurveyEvent({ ...started, triggerId: wide }).triggerId).toBe(wide);
    expect(() => parseSurveyEvent({ ...started, triggerId: `${wide}x` })).toThrow(/triggerId must be 1–200 characters/);
    await store.apply(survey(scenario, 4, 2, "slow").map((e) => ({ ...e, context: { agent: "olena" }, triggerId: id })));
    await store.apply(survey(scenario, 5, 3, "").map((e) => ({ ...e, triggerId: wide })));
    t = await startTestApp({}, { surveyStore: store });
    const list = async (query: string) => (await t!.app.server.inject({ url: `/api/stats/dialogues?${query}` })).json() as { rows: { surveyId: string; triggerId: unknown; context: unknown }[]; nextCursor: unknown };
    expect(await list(`trigger=${id}`)).toEqual({ rows: [expect.objectContaining({ surveyId: `${scenario}-4`, triggerId: id, context: { agent: "olena" } })], nextCursor: null });
    expect((await list(`trigger=${encodeURIComponent(wide)}&scenario=${scenario}&surveysOnly=1`)).rows.map((r) => r.surveyId)).toEqual([`${scenario}-5`]);
    expect((await list(`trigger=${id}&scenario=other`)).rows).toEqual([]);
    expect((await list(`trigger=${randomUUID()}`)).rows).toEqual([]);
    expect((await list(`scenario=${scenario}`)).rows).toHaveLength(5); // without it, every dialogue
    const lines = (await t.app.server.inject({ url: `/api/stats/export.csv?trigger=${id}` })).body.split("\r\n");
    expect(lines).toHaveLength(3); // header, the one row, the final empty string
    expect(lines[1]).toMatch(new RegExp(`^${scenario}-4,.*,${id},"\\{""agent"":""olena""\\}"$`));
  });

  it("offers the loaded scenarios and enabled channels as filters", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const options = (await t.app.server.inject({ url: "/api/stats/options" })).json() as { scenarios: { id: string; name: string }[]; channels: string[]; dimensions: string[] };
    expect(options.scenarios.map((s) => s.id)).toEqual(["csat", "csat_branching", "csat_emoji", "support"]);
    expect(options.scenarios[0]).toEqual({ id: "csat", name: "Customer satisfaction survey" });
    expect(options.channels).toEqual(["webchat"]);
    // The bundled csat declares agent, team, tags and ticket; ticket is not rolled up, so not offered to group by.
    expect(options.dimensions).toEqual(["agent", "tags", "team"]);
  });

  it("answers 400 for a forged cursor", async () => {
    t = await startTestApp({}, { surveyStore: store });
    const forged = await t.app.server.inject({ url: "/api/stats/dialogues?cursor=bm90LWEtY3Vyc29y" });
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toMatchObject({ error: "bad_request", parameter: "cursor", message: expect.stringContaining("cursor") });
  });
});

/** Every bad parameter of the API: [endpoint and query, parameter named, message]. */
const BAD: [string, string, string | RegExp][] = [
  ["figures?from=2026-13-45", "from", 'from "2026-13-45" is not a calendar day'],
  ["figures?from=2020-02-31", "from", 'from "2020-02-31" is not a calendar day'],
  ["figures?to=2021-02-29", "to", 'to "2021-02-29" is not a calendar day'],
  ["figures?from=-000001-01-01T00:00:00Z", "from", /^from "-000001-01-01T00:00:00Z" must be a day \(YYYY-MM-DD\) or an ISO timestamp with an offset/],
  ["figures?from=%2B275760-09-13T00:00:00Z", "from", /^from "\+275760-09-13T00:00:00Z" must be a day/],
  ["figures?from=2026-03-01T25:00:00Z", "from", 'from "2026-03-01T25:00:00Z" is not a valid time of day or offset'],
  ["figures?from=2026-03-01T09:00:00", "from", /^from "2026-03-01T09:00:00" must be a day \(YYYY-MM-DD\) or an ISO timestamp with an offset/],
  ["figures?to=yesterday", "to", /^to "yesterday" must be a day/],
  ["figures?from=0100-01-01&to=2100-12-31", "from", 'from "0100-01-01" is outside the years 1970–2999 the statistics cover'],
  ["figures?from=1969-12-31", "from", 'from "1969-12-31" is outside the years 1970–2999 the statistics cover'],
  ["figures?to=3000-01-01", "to", 'to "3000-01-01" is outside the years 1970–2999 the statistics cover'],
  ["figures?from=2026-03-10&to=2026-03-09", "to", 'to "2026-03-09" is not after from "2026-03-10": the period is empty'],
  ["figures?from=2026-03-10T12:00:00Z&to=2026-03-10T12:00:00Z", "to", /^to "2026-03-10T12:00:00Z" is not after from/],
  ["figures?from=2000-01-01&to=2026-03-10", "from", /^the period from 2000-01-01 to 2026-03-10 is longer than the 3653 days \(ten years\) the figures cover/],
  // Only `from`: the default end (today) makes it too long; the store says so.
  ["figures?from=2001-01-01", "from", /^the period from 2001-01-01 to \d{4}-\d{2}-\d{2} is longer than the 3653 days/],
  ["figures?tz=Mars/Olympus", "tz", 'tz "Mars/Olympus" is not an IANA time zone such as UTC or Europe/Kyiv'],
  ["figures?tz=UTC&tz=Europe/Kyiv", "tz", "tz must be given once"],
  ["figures?scenario=a%20b", "scenario", "scenario must be an id (letters, digits, _ . : -)"],
  ["figures?channel=%3Cscript%3E", "channel", "channel must be an id (letters, digits, _ . : -)"],
  ["figures?scenrio=csat", "scenrio", 'unknown parameter "scenrio": this endpoint takes from, to, tz, scenario, channel, bot, compare, group_by, limit and dim.<name> (a survey dimension such as dim.agent)'],
  ["figures?limit=10", "limit", /^limit applies to grouped figures: give group_by too$/],
  ["figures?group_by=agent&limit=0", "limit", /^limit must be a whole number of groups from 1 to 10000$/],
  ["figures?group_by=bad-name", "group_by", /^group_by must name a survey dimension/],
  ["figures?compare=last", "compare", /^compare must be "previous"/],
  ["figures?dim.agent=a&dim.agent=b", "dim.agent", /^dim.agent must be given once$/],
  ["figures?dim.a=1&dim.b=1&dim.c=1&dim.d=1&dim.e=1&dim.f=1", "dim.f", /^dim.f: at most 5 dimension filters/],
  ["figures?trigger=trg-1", "trigger", /^unknown parameter "trigger": this endpoint takes from, to, tz, scenario, channel, bot, compare, group_by, limit and dim/],
  ["dialogues?limit=0", "limit", "limit must be a whole number from 1 to 500"],
  ["dialogues?limit=501", "limit", "limit must be a whole number from 1 to 500"],
  ["dialogues?limit=abc", "limit", "limit must be a whole number from 1 to 500"],
  ["dialogues?limit=1e2", "limit", "limit must be a whole number from 1 to 500"],
  ["dialogues?limit=99999999999999999999", "limit", "limit must be a whole number from 1 to 500"],
  ["dialogues?cursor=not%20a%20cursor", "cursor", "cursor must be the nextCursor of a previous page"],
  ["dialogues?surveysOnly=maybe", "surveysOnly", "surveysOnly must be 1, true, 0 or false"],
  ["dialogues?from=2020-02-31", "from", 'from "2020-02-31" is not a calendar day'],
  ["dialogues?from=2026-03-10&to=2026-03-01", "to", /is not after from/],
  ["dialogues?sort=score", "sort", /^unknown parameter "sort": this endpoint takes from, to, tz, scenario, channel, bot, surveysOnly, trigger, rating, limit, cursor and dim.<name> \(a survey dimension such as dim.agent\)$/],
  ["dialogues?trigger=a%20b", "trigger", 'trigger "a b" must be a trigger id: 1–200 characters of A-Z a-z 0-9 _ . @ + -'],
  ["dialogues?trigger=a+b", "trigger", /^trigger "a b" must be a trigger id/], // an unencoded + is a space
  ["dialogues?trigger=trg%2F1", "trigger", /^trigger "trg\/1" must be a trigger id/],
  [`dialogues?trigger=${"x".repeat(201)}`, "trigger", /^trigger "x{64}…" must be a trigger id: 1–200 characters/],
  ["dialogues?trigger=a&trigger=b", "trigger", "trigger must be given once"],
  ["export.csv?trigger=%3Cscript%3E", "trigger", /^trigger "<script>" must be a trigger id/],
  ["export.csv?cursor=abc", "cursor", /^unknown parameter "cursor": this endpoint takes from, to, tz, scenario, channel, bot, surveysOnly, trigger, rating and dim.<name> \(a survey dimension such as dim.agent\)$/],
  ["export.csv?from=2020-02-31", "from", 'from "2020-02-31" is not a calendar day'],
  ["export.csv?limit=10", "limit", /^unknown parameter "limit"/],
  ["export.csv?tz=Moon/Base", "tz", /^tz "Moon\/Base" is not an IANA time zone/],
];

for (const backend of [
  { name: "PGlite", open: async () => ({ store: await openSharedStore(), drop: async () => {} }) },
  {
    name: "PostgreSQL",
    open: async () => {
      const s = new PgSurveyStore({ connectionString: PG_URL, schema: `test_${randomUUID().replaceAll("-", "")}` });
      await s.migrate();
      return { store: s, drop: () => s.dropSchema() };
    },
  },
]) {
  describe(`bad statistics parameters answer 400 naming the parameter: ${backend.name}`, () => {
    let app: TestApp;
    let opened: { store: SurveyStore; drop(): Promise<void> };
    beforeAll(async () => {
      opened = await backend.open();
      app = await startTestApp({}, { surveyStore: opened.store });
    });
    afterAll(async () => {
      await app.dispose();
      await opened.drop();
      await opened.store.close();
    });

    it.each(BAD)("%s → 400 naming %s", async (url, parameter, message) => {
      const res = await app.app.server.inject({ url: `/api/stats/${url}` });
      expect(res.statusCode).toBe(400);
      const body = res.json() as { error: string; parameter: string; message: string };
      expect(body).toMatchObject({ error: "bad_request", parameter });
      if (typeof message === "string") expect(body.message).toBe(message);
      else expect(body.message).toMatch(message);
      expect(body.message).toContain(parameter);
    });

    it("answers the longest period (ten years) with monthly points, and a quarter with daily ones", async () => {
      const ten = await app.app.server.inject({ url: "/api/stats/figures?from=2016-01-01&to=2025-12-31&tz=Europe/Kyiv" });
      expect(ten.statusCode).toBe(200);
      expect(ten.json()).toMatchObject({ trend: { granularity: "month", points: expect.any(Array) } });
      expect((ten.json() as { trend: { points: unknown[] } }).trend.points).toHaveLength(120);
      const quarter = (await app.app.server.inject({ url: "/api/stats/figures?from=2026-01-01&to=2026-04-02" })).json() as { trend: { granularity: string; points: unknown[] } };
      expect(quarter.trend).toMatchObject({ granularity: "day" });
      expect(quarter.trend.points).toHaveLength(92);
      const year = (await app.app.server.inject({ url: "/api/stats/figures?from=2025-01-01&to=2025-12-31" })).json() as { trend: { granularity: string; points: unknown[] } };
      expect(year.trend.granularity).toBe("week");
      expect(year.trend.points).toHaveLength(53);
      expect((await app.app.server.inject({ url: "/api/stats/dialogues?limit=500&surveysOnly=0" })).statusCode).toBe(200);
    });
  });
}

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
