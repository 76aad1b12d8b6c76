/**
 * The report views BI tools read (migration 9, docs/bi.md), on PGlite and PostgreSQL: one row per
 * survey with its dimensions as columns and one per further metric answer, every column described
 * by a comment; and on PostgreSQL the read-only role docs/bi.md creates reads the views and
 * nothing else.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import { PG_URL, pgBackend, pgliteBackend } from "./store-harness.ts";

const T0 = Date.parse("2026-05-04T09:00:00Z");

function survey(id: string, o: { agent: string; tags?: string[]; score: number; comment: string; nps?: number }): SurveyEvent[] {
  const base = { surveyId: id, scenarioId: "csat", scenarioVersion: "v1", channel: "telegram", botId: "", conversationId: `c-${id}`, dialogueStartedAt: T0, at: T0 + 1000, triggerId: `trg-${id}` };
  const dims: Record<string, string | string[]> = { agent: o.agent, team: "billing", ticket: `T-${id}`, ...(o.tags ? { tags: o.tags } : {}) };
  const events: SurveyEvent[] = [
    { ...base, kind: "offered", scale: { min: 1, max: 5 }, dimensions: dims, rolledUp: ["agent", "team", ...(o.tags ? ["tags"] : [])], context: { agent: o.agent } },
    { ...base, kind: "answered", score: o.score },
    { ...base, kind: "completed", score: o.score, comment: o.comment, at: T0 + 5000 },
  ];
  if (o.nps !== undefined) events.push({ ...base, kind: "metric", metric: { name: "nps", scale: "nps_0_10", value: o.nps } });
  return events;
}

for (const backend of [pgliteBackend(), pgBackend()]) {
  describe(`report views for BI tools: ${backend.name}`, () => {
    afterAll(() => backend.shutdown());

    it("survey_report has one row per survey with its dimensions as columns; survey_metric_report one per answer; every column is described", async () => {
      const { store, cleanup } = await backend.open();
      try {
        await store.apply([...survey("a", { agent: "olena", tags: ["vip", "refund"], score: 5, comment: "great", nps: 10 }), ...survey("b", { agent: "taras", score: 2, comment: "" })]);
        const rows = await store.sql.query(
          `SELECT survey_id, agent, team, ticket, tags, score, scale, completed, answered, declined, comment, trigger_id, (extract(epoch FROM started_at) * 1000)::float8 AS started
           FROM ${store.schema}.survey_report ORDER BY survey_id`,
        );
        expect(rows).toEqual([
          { survey_id: "a", agent: "olena", team: "billing", ticket: "T-a", tags: ["vip", "refund"], score: 5, scale: "1-5", completed: true, answered: true, declined: false, comment: "great", trigger_id: "trg-a", started: T0 },
          { survey_id: "b", agent: "taras", team: "billing", ticket: "T-b", tags: [], score: 2, scale: "1-5", completed: true, answered: true, declined: false, comment: "", trigger_id: "trg-b", started: T0 },
        ]);
        expect(await store.sql.query(`SELECT survey_id, metric, scale, value FROM ${store.schema}.survey_metric_report`)).toEqual([{ survey_id: "a", metric: "nps", scale: "nps_0_10", value: 10 }]);
        for (const view of ["survey_report", "survey_metric_report"]) {
          const columns = await store.sql.query<{ name: string; description: string | null }>(
            `SELECT a.attname AS name, col_description(a.attrelid, a.attnum) AS description FROM pg_attribute a
             WHERE a.attrelid = ($1 || '.' || $2)::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
            [store.schema, view],
          );
          expect(columns.length).toBeGreaterThan(5);
          expect(columns.filter((c) => !c.description).map((c) => c.name)).toEqual([]);
        }
      } finally {
        await cleanup();
      }
    });
  });
}

describe("the read-only role of docs/bi.md (PostgreSQL)", () => {
  const backend = pgBackend();
  afterAll(() => backend.shutdown());

  it("reads the report views and cannot read or write the tables behind them", async () => {
    const { store, cleanup } = await backend.open();
    const role = `bi_${randomUUID().slice(0, 8)}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const s = store.schema;
    try {
      await store.apply(survey("a", { agent: "olena", score: 4, comment: "ok" }));
      // The statements of docs/bi.md, with this run's role and schema.
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
      await admin.query(`GRANT SELECT ON ${s}.survey_report, ${s}.survey_metric_report TO ${role}`);
      const bi = new pg.Client({ connectionString: PG_URL.replace("postgres@", `${role}@`) });
      await bi.connect();
      try {
        expect((await bi.query(`SELECT agent, score FROM ${s}.survey_report`)).rows).toEqual([{ agent: "olena", score: 4 }]);
        await expect(bi.query(`SELECT * FROM ${s}.survey`)).rejects.toMatchObject({ code: "42501" });
        await expect(bi.query(`UPDATE ${s}.survey_report SET score = 1`)).rejects.toMatchObject({ code: "42501" });
        await expect(bi.query(`DELETE FROM ${s}.survey_rollup`)).rejects.toMatchObject({ code: "42501" });
      } finally {
        await bi.end();
      }
    } finally {
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
      await cleanup();
    }
  });
});
