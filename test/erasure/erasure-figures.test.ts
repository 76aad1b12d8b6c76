/**
 * A person's erasure and the comment retention keep every figure exactly as it was, and leave
 * nothing of the person behind: the real web process (composeApp) over HTTP, embedded (PGlite,
 * memory state and channel storage) and production (PostgreSQL, Redis), each on its own schema and
 * key prefixes. After the erasure, every table of the schema read as text, every Redis key and value
 * of the run, and every captured log line are searched for the person's id and comments.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { ConversationState } from "../../engine/types.ts";
import type { SurveyEvent } from "../../stats/events.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { startTestApp, type TestApp } from "../app/app-harness.ts";
import { PG_URL, pgBackend, pgliteBackend, type StoreBackend } from "../stats/store-harness.ts";

const TOKEN = "erasure-test-token-0123456789";
const AUTH = { authorization: `Bearer ${TOKEN}` };
const DAY0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const DAY = 86_400_000;
const REDIS_URL = "redis://127.0.0.1:6379";

interface Setup {
  name: string;
  backend: StoreBackend;
  production: boolean;
}
const SETUPS: Setup[] = [
  { name: "PGlite, memory state and channel storage", backend: pgliteBackend(), production: false },
  { name: "PostgreSQL, Redis state, channel storage and queue", backend: pgBackend(), production: true },
];
afterAll(async () => {
  for (const s of SETUPS) await s.backend.shutdown();
});

/** A person's completed survey with a comment (or none), started `day` days after DAY0. */
function survey(run: string, user: string, n: number, day: number, score: number, comment: string | undefined): SurveyEvent[] {
  const base = {
    surveyId: `${run}-s${n}`,
    scenarioId: "csat",
    scenarioVersion: "v1",
    channel: "telegram",
    botId: "",
    conversationId: user,
    dialogueStartedAt: DAY0 + day * DAY + n * 60_000,
    at: DAY0 + day * DAY + n * 60_000 + 30_000,
    context: { agent: "olena", team: "billing", name: `Name of ${user}`, email: `${user}@example.test` },
    triggerId: `${run}-trig-${n}`,
  };
  const events: SurveyEvent[] = [
    { ...base, kind: "dialogue_started" },
    // A dimension kept only on the row (group: false) that names the person: erasure drops it.
    { ...base, kind: "offered", scale: { min: 1, max: 5 }, dimensions: { agent: "olena", team: "billing", customer: `Name of ${user}` }, rolledUp: ["agent", "team"] },
    { ...base, kind: "answered", score },
  ];
  if (comment !== undefined) events.push({ ...base, kind: "commented", comment });
  events.push({ ...base, kind: "completed", score, ...(comment !== undefined ? { comment } : {}) });
  return events;
}

/** Every figure the API serves for the period: rollups (UTC), the row scan (Asia/Kolkata), by scenario and by channel. */
async function allFigures(t: TestApp): Promise<unknown[]> {
  const queries = [
    "from=2026-01-01&to=2026-03-31&tz=UTC",
    "from=2026-01-01&to=2026-03-31&tz=UTC&scenario=csat&channel=telegram",
    "from=2026-01-01&to=2026-03-31&tz=Europe/Kyiv",
    "from=2026-01-01&to=2026-03-31&tz=Asia/Kolkata",
    "from=2026-01-01&to=2026-03-31&tz=UTC&dim.agent=olena",
    "from=2026-01-01&to=2026-03-31&tz=UTC&group_by=agent",
    "from=2026-01-01&to=2026-03-31&tz=UTC&group_by=team&channel=telegram",
  ];
  const out: unknown[] = [];
  for (const q of queries) {
    const res = await t.app.server.inject({ url: `/api/stats/figures?${q}`, headers: AUTH });
    expect(res.statusCode, q).toBe(200);
    out.push(res.json());
  }
  return out;
}

/** Every row of every table in the schema, as text. */
async function schemaText(store: SqlSurveyStore): Promise<string> {
  const tables = await store.sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [store.schema]);
  let text = "";
  for (const { table_name } of tables) {
    const rows = await store.sql.query<{ t: string }>(`SELECT t::text AS t FROM "${store.schema}"."${table_name}" AS t`);
    text += rows.map((r) => r.t).join("\n");
  }
  return text;
}

async function redisText(redis: Redis, prefixes: readonly string[]): Promise<string> {
  let text = "";
  for (const prefix of prefixes) {
    for (const key of await redis.keys(`${prefix}*`)) {
      text += `\n${key}\t`;
      const type = await redis.type(key);
      if (type === "string") text += await redis.get(key);
      else if (type === "hash") text += JSON.stringify(await redis.hgetall(key));
      else if (type === "zset") text += JSON.stringify(await redis.zrange(key, 0, -1));
      else if (type === "list") text += JSON.stringify(await redis.lrange(key, 0, -1));
      else if (type === "set") text += JSON.stringify(await redis.smembers(key));
      else if (type === "stream") text += JSON.stringify(await redis.xrange(key, "-", "+"));
    }
  }
  return text;
}

function state(user: string): ConversationState {
  return {
    ref: { channel: "telegram", conversationId: user, userId: user },
    scenarioId: "csat",
    scenarioVersion: "v1",
    dialogue: 3,
    seq: 2,
    prompt: { id: "p2", blockId: "ask_comment", attempts: 0, deadline: DAY0 + 3650 * DAY },
    pendingAction: null,
    vars: { quality_comment: `draft of ${user}` },
    locale: "en",
    ended: false,
    startedAt: DAY0,
    updatedAt: DAY0,
  };
}

describe.each(SETUPS)("erasure and retention keep every figure: $name", ({ backend, production }) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(extra: Record<string, string> = {}) {
    const run = randomUUID().slice(0, 8);
    const opened = await backend.open();
    cleanups.push(() => opened.cleanup());
    const prefixes = { BOTFLOW_STATE_PREFIX: `test-${run}:`, BOTFLOW_QUEUE_PREFIX: `test-${run}-q`, BOTFLOW_QUEUE: `surveys-${run}` };
    const env: Record<string, string> = {
      BOTFLOW_TOKEN: TOKEN,
      ...(production ? { REDIS_URL, DATABASE_URL: PG_URL, BOTFLOW_DB_SCHEMA: opened.store.schema, ...prefixes } : {}),
      ...extra,
    };
    const t = await startTestApp(env, { surveyStore: opened.store });
    cleanups.push(() => t.dispose());
    const redis = production ? new Redis(REDIS_URL) : undefined;
    if (redis) {
      cleanups.push(async () => {
        const keys = [...(await redis.keys(`${prefixes.BOTFLOW_STATE_PREFIX}*`)), ...(await redis.keys(`${prefixes.BOTFLOW_QUEUE_PREFIX}*`))];
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      });
      // A worker stores what the web process queues, as in production.
      const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
      const worker = new SurveyWorker({
        connection,
        store: new PgSurveyStore({ connectionString: PG_URL, schema: opened.store.schema }),
        settings: { name: prefixes.BOTFLOW_QUEUE, prefix: prefixes.BOTFLOW_QUEUE_PREFIX },
      });
      await worker.start();
      cleanups.push(async () => {
        await worker.close();
        await connection.quit();
      });
    }
    return { run, t, store: opened.store, redis, redisPrefixes: [prefixes.BOTFLOW_STATE_PREFIX, prefixes.BOTFLOW_QUEUE_PREFIX] };
  }

  /** Surveys of three people (the events through the app's queue, so production keeps the jobs in Redis), their triggers, state and channel memory. */
  async function seed(run: string, t: TestApp, store: SqlSurveyStore) {
    const people = ["7001", "7002", "7003"];
    const secrets = new Map<string, string[]>();
    const surveyIds = new Map<string, string[]>();
    let n = 0;
    for (const [index, user] of people.entries()) {
      surveyIds.set(user, [0, 1, 2, 3].map((i) => `${run}-s${n + i}`));
      const comments = [`secret comment ${run} ${user} one`, `secret comment ${run} ${user} two`];
      secrets.set(user, comments);
      const plan: [number, number, string | undefined][] = [
        [1, 5, comments[0]],
        [20, 2, comments[1]],
        [40, 4, undefined],
        [60, 1, ""],
      ];
      for (const [day, score, comment] of plan) for (const e of survey(run, user, n++, day, score, comment)) await t.app.services.surveys.add(e);
      await store.sql.query(
        `INSERT INTO "${store.schema}".survey_trigger (trigger_id, channel, recipient, scenario_id, variables, status, run_at, created_at, updated_at, ref)
         VALUES ($1, 'telegram', $2, 'csat', $3::jsonb, $4, now(), to_timestamp($5::float8 / 1000), now(), $6::jsonb)`,
        [`${run}-t${index}`, user, JSON.stringify({ agent: "olena", name: `Name of ${user}` }), user === "7001" ? "scheduled" : "sent", DAY0, JSON.stringify({ channel: "telegram", conversationId: user, userId: user })],
      );
      const s = t.app.services.state;
      const begun = await s.begin(`telegram::${user}`, `d-${user}`, 10_000);
      if (begun.status !== "acquired") throw new Error("state lock");
      await s.commit(`telegram::${user}`, begun.token, state(user), `d-${user}`, { stateTtlMs: 600_000, dedupeTtlMs: 600_000 });
      await t.app.services.channelStorage.scope("telegram:").set(`prompt:${user}:p2`, [9001, 1], 600_000);
    }
    await waitForStored(store, people.length * 4);
    return { secrets, surveyIds };
  }

  async function waitForStored(store: SqlSurveyStore, surveys: number) {
    for (let i = 0; i < 200; i++) {
      const [row] = await store.sql.query<{ n: number }>(`SELECT count(*) FILTER (WHERE completed)::int AS n FROM "${store.schema}".survey`);
      if (row && row.n >= surveys) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the surveys were not stored in time");
  }

  it("DELETE /api/users/telegram/7001 erases one person everywhere; every figure stays; the others keep theirs", async () => {
    const { run, t, store, redis, redisPrefixes } = await start();
    const { secrets, surveyIds } = await seed(run, t, store);
    const before = await allFigures(t);

    expect((await t.app.server.inject({ method: "DELETE", url: "/api/users/telegram/7001" })).statusCode).toBe(401);
    expect((await t.app.server.inject({ method: "DELETE", url: "/api/users/telegram/7001", headers: { authorization: "Bearer wrong-token-wrong-token" } })).statusCode).toBe(401);
    const bad = await t.app.server.inject({ method: "DELETE", url: "/api/users/carrier-pigeon/7001", headers: AUTH });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: "bad_request", message: expect.stringContaining("unknown channel") });
    expect((await t.app.server.inject({ method: "DELETE", url: "/api/users/telegram/%207001", headers: AUTH })).statusCode).toBe(400);

    const res = await t.app.server.inject({ method: "DELETE", url: "/api/users/telegram/7001", headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      erased: { surveys: 4, triggers: 1, conversations: 1, channelEntries: 1, queueJobs: production ? 19 : 0, queued: 0 },
    });
    expect(await allFigures(t)).toEqual(before);

    // Nothing of 7001 is left: not its id, not its comments, not its name or email.
    const needles = ["7001", ...(secrets.get("7001") ?? []), "Name of 7001", "7001@example.test"];
    const tables = await schemaText(store);
    for (const needle of needles) expect(tables, needle).not.toContain(needle);
    if (redis) {
      const keys = await redisText(redis, redisPrefixes);
      for (const needle of needles) expect(keys, needle).not.toContain(needle);
    }
    for (const needle of needles) expect(t.logs.filter((l) => l.includes(needle)).map((l) => l.slice(0, 300)), needle).toEqual([]);
    // The others keep theirs; what the figures are read by (agent, team) stays on the erased rows.
    for (const comment of secrets.get("7002") ?? []) expect(tables).toContain(comment);
    const rows = (await t.app.server.inject({ url: "/api/stats/dialogues?limit=100", headers: AUTH })).json() as { rows: { surveyId: string; conversationId: string; comment: string | null; context: unknown }[] };
    const erased = rows.rows.filter((r) => surveyIds.get("7001")?.includes(r.surveyId));
    expect(erased).toHaveLength(4);
    for (const r of erased) {
      expect(r.conversationId).toBe("");
      expect(r.comment === null || r.comment === "").toBe(true);
      expect(r.context).toEqual({ agent: "olena", team: "billing" });
    }
    await expect(t.app.services.state.dueTimeouts(DAY0 + 4000 * DAY, 10)).resolves.toEqual([
      expect.objectContaining({ key: "telegram::7002" }),
      expect.objectContaining({ key: "telegram::7003" }),
    ]);
    expect(await t.app.services.channelStorage.scope("telegram:").get("prompt:7002:p2")).toEqual([9001, 1]);
    // The scheduled trigger is not sent any more.
    const [trigger] = await store.sql.query<{ status: string; reason: string }>(`SELECT status, reason FROM "${store.schema}".survey_trigger WHERE trigger_id = $1`, [`${run}-t0`]);
    expect(trigger).toEqual({ status: "failed", reason: "erased" });

    // Again: nothing left, zeros, figures still the same.
    const again = await t.app.server.inject({ method: "DELETE", url: "/api/users/telegram/7001", headers: AUTH });
    expect(again.json()).toEqual({ erased: { surveys: 0, triggers: 0, conversations: 0, channelEntries: 0, queueJobs: 0, queued: 0 } });
    expect(await allFigures(t)).toEqual(before);
  });

  it("BOTFLOW_RETENTION_COMMENTS clears comments and identifiers of surveys started before the period, on the sweep; figures stay", async () => {
    // The app's clock is real time: surveys of January 2026 are older than a day by now only in the
    // future, so the retention is set short enough that the ones older than day 30 of the plan fall out.
    const sinceDay30 = Math.ceil((Date.now() - (DAY0 + 30 * DAY)) / DAY) * DAY;
    const { run, t, store } = await start({ BOTFLOW_RETENTION_COMMENTS: `${sinceDay30 / DAY}d` });
    const { secrets } = await seed(run, t, store);
    const before = await allFigures(t);
    // The surveys of days 1 and 20 of each person, and the two triggers created on day 0 that are not scheduled any more.
    expect(await t.app.sweep()).toBe(3 * 2 + 2);
    expect(await allFigures(t)).toEqual(before);
    const tables = await schemaText(store);
    for (const comments of secrets.values()) for (const c of comments) expect(tables).not.toContain(c);
    // The erased rows keep agent and team only; 7001's trigger is still scheduled, so retention leaves it whole.
    const contexts = await store.sql.query<{ c: string | null }>(`SELECT context::text AS c FROM "${store.schema}".survey WHERE erased_at IS NOT NULL`);
    expect(contexts.map((r) => r.c)).toEqual(Array(6).fill('{"team": "billing", "agent": "olena"}'));
    const triggers = await store.sql.query<{ recipient: string; v: string }>(`SELECT recipient, variables::text AS v FROM "${store.schema}".survey_trigger ORDER BY trigger_id`);
    expect(triggers).toEqual([{ recipient: "7001", v: '{"name": "Name of 7001", "agent": "olena"}' }, { recipient: "", v: '{"agent": "olena"}' }, { recipient: "", v: '{"agent": "olena"}' }]);
    const rows = await store.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store.schema}".survey WHERE erased_at IS NULL AND conversation_id <> ''`);
    expect(rows[0]?.n).toBe(6); // days 40 and 60 are within the period
    expect(await t.app.sweep()).toBe(0);
  });
});
