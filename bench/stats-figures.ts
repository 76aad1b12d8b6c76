/**
 * The figures query for a 90-day period over N stored surveys (default 10 million), read
 * from the hourly rollups (what `botflow stats` and the API do) beside the naive aggregate
 * over the raw survey rows, in the same run on the same data. Not a test.
 *
 * The data is generated in PostgreSQL with generate_series in its own schema (dropped
 * after): 100 days, 3 scenarios (one with a 👍/👎 0–100 scale), 3 channels, 4 bots; 20% of
 * dialogues without a survey, 10% declined, 5% pending, 65% completed. The rollups are
 * built from those rows with one GROUP BY … CUBE that mirrors what `apply` maintains, and
 * the run checks that both paths give identical figures before it times them.
 *
 *   npx tsx bench/stats-figures.ts [--surveys=10000000] [--rounds=7] [--database=postgres://…] [--keep]
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { FiguresQuery } from "../stats/figures-query.ts";
import { PgSurveyStore } from "../stats/store/pg-survey-store.ts";

function arg(args: string[], name: string, fallback: string): string {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await fn();
  return [result, performance.now() - t0];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, "surveys", "10000000"));
  const rounds = Number(arg(args, "rounds", "7"));
  const url = arg(args, "database", process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
  const schema = `bench_${randomUUID().replaceAll("-", "")}`;
  const store = new PgSurveyStore({ connectionString: url, schema, maxConnections: 2 });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const s = `"${schema}"`;
  try {
    await store.migrate();
    console.log(`generating ${n.toLocaleString("en-US")} surveys in schema ${schema} ...`);
    const [, genMs] = await timed(async () => {
      // Bulk load: build the secondary indexes once at the end instead of row by row.
      await admin.query("SET maintenance_work_mem = '512MB'");
      await admin.query(`DROP INDEX ${s}.survey_started_idx, ${s}.survey_scenario_started_idx`);
      await admin.query("SELECT setseed(0.42)");
      await admin.query(
        `INSERT INTO ${s}.survey (survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id, dialogue_started_at,
                                 offered, accepted, denied, denied_reason, completed, score, scale, comment)
         SELECT 'b' || i, sc, 'v1', ch, bot, 'c' || i, started,
                r >= 0.2, r >= 0.35, r >= 0.2 AND r < 0.3, CASE WHEN r >= 0.2 AND r < 0.3 THEN 'timeout' END, r >= 0.35,
                CASE WHEN r >= 0.35 THEN (CASE WHEN sc = 'thumbs' THEN (CASE WHEN v < 0.7 THEN 100 ELSE 0 END) ELSE 1 + floor(v * 5) END) END,
                CASE WHEN r >= 0.35 THEN (CASE WHEN sc = 'thumbs' THEN '0-100' ELSE '1-5' END) ELSE '' END,
                CASE WHEN r >= 0.8 THEN 'a comment' WHEN r >= 0.35 THEN '' END
         FROM (SELECT i, (ARRAY['csat', 'support', 'thumbs'])[1 + i % 3] AS sc, (ARRAY['telegram', 'teams', 'whatsapp'])[1 + (i / 3) % 3] AS ch,
                      (ARRAY['', 'b1', 'b2', 'b3'])[1 + (i / 9) % 4] AS bot,
                      timestamptz '2026-01-01 00:00:00+00' + floor(random() * 100 * 86400) * interval '1 second' AS started,
                      random() AS r, random() AS v
               FROM generate_series(1, $1::int) AS i) AS g`,
        [n],
      );
      await admin.query(`CREATE INDEX survey_started_idx ON ${s}.survey (dialogue_started_at, survey_id)`);
      await admin.query(`CREATE INDEX survey_scenario_started_idx ON ${s}.survey (scenario_id, dialogue_started_at, survey_id)`);
      // The rollups apply() maintains: 8 groupings (CUBE of the filter dimensions) per hour × rated value.
      await admin.query(
        `INSERT INTO ${s}.survey_rollup (dims, scenario_id, channel, bot_id, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
         SELECT (1 - GROUPING(scenario_id)) | ((1 - GROUPING(channel)) << 1) | ((1 - GROUPING(bot_id)) << 2),
                coalesce(scenario_id, ''), coalesce(channel, ''), coalesce(bot_id, ''), hour, rscale, rated, rscore,
                count(*), count(*) FILTER (WHERE offered), count(*) FILTER (WHERE accepted), count(*) FILTER (WHERE denied),
                count(*) FILTER (WHERE completed), count(*) FILTER (WHERE completed AND comment <> '')
         FROM (SELECT *, date_bin('1 hour', dialogue_started_at, timestamptz '2000-01-01 00:00:00+00') AS hour,
                      (completed AND score IS NOT NULL) AS rated,
                      CASE WHEN completed AND score IS NOT NULL THEN scale ELSE '' END AS rscale,
                      CASE WHEN completed AND score IS NOT NULL THEN score ELSE 0 END AS rscore
               FROM ${s}.survey) AS x
         GROUP BY hour, rscale, rated, rscore, CUBE (scenario_id, channel, bot_id)`,
      );
      await admin.query(`VACUUM ANALYZE ${s}.survey`);
      await admin.query(`VACUUM ANALYZE ${s}.survey_rollup`);
    });
    const sizes = await admin.query<{ rows: string; rollups: string }>(`SELECT (SELECT count(*) FROM ${s}.survey) AS rows, (SELECT count(*) FROM ${s}.survey_rollup) AS rollups`);
    console.log(`generated in ${(genMs / 1000).toFixed(0)} s: ${Number(sizes.rows[0]!.rows).toLocaleString("en-US")} survey rows, ${Number(sizes.rows[0]!.rollups).toLocaleString("en-US")} rollup rows`);

    const queries: { name: string; q: FiguresQuery }[] = [
      { name: "90 days, all, UTC", q: { from: "2026-01-05", to: "2026-04-05" } },
      { name: "90 days, all, Europe/Kyiv", q: { from: "2026-01-05", to: "2026-04-05", timeZone: "Europe/Kyiv" } },
      { name: "90 days, scenario+channel, America/New_York", q: { from: "2026-01-05", to: "2026-04-05", timeZone: "America/New_York", scenarioId: "csat", channel: "teams" } },
    ];
    console.log("");
    console.log(`${"query".padEnd(46)} ${"rollups ms".padStart(11)} ${"naive ms".padStart(10)} ${"speed-up".padStart(9)}  same figures`);
    for (const { name, q } of queries) {
      const fast = await store.figures(q);
      const naive = await store.figures({ ...q, source: "surveys" });
      const same = JSON.stringify({ ...fast, source: "" }) === JSON.stringify({ ...naive, source: "" });
      if (fast.source !== "rollups") throw new Error(`${name}: expected the rollup path, got ${fast.source}`);
      const fastMs: number[] = [];
      const naiveMs: number[] = [];
      for (let r = 0; r < rounds; r++) {
        fastMs.push((await timed(() => store.figures(q)))[1]);
        if (r < Math.min(rounds, 3)) naiveMs.push((await timed(() => store.figures({ ...q, source: "surveys" })))[1]);
      }
      const f = median(fastMs);
      const nv = median(naiveMs);
      console.log(`${name.padEnd(46)} ${f.toFixed(1).padStart(11)} ${nv.toFixed(0).padStart(10)} ${`${(nv / f).toFixed(0)}x`.padStart(9)}  ${same ? "yes" : "NO"} (${fast.surveys.toLocaleString("en-US")} surveys)`);
    }
    console.log("");
    console.log("rollups: median figures() call end to end (2 queries: the period with its day cuts, then the aggregate); naive: the same call scanning the survey rows.");
  } finally {
    if (!args.includes("--keep")) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await admin.end();
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.argv.slice(2));
}
