/**
 * The data set of bench/stats-figures.ts, generated in PostgreSQL with generate_series in the
 * bench's schema: `n` survey rows over `days` days from START_DAY, and the rollups built from
 * those rows with SQL that mirrors what `apply` (stats/store/apply-survey-events.ts) maintains.
 *
 * Rows: 3 scenarios (one with a 👍/👎 0–100 scale), 3 channels, 4 bots; 20% of dialogues
 * without a survey (never offered, so no dimensions either: they come with the offered event),
 * 10% declined, 5% pending, 65% completed. Every offered survey carries the dimensions a
 * scenario with `dimensions: [agent, team, {name: ticket, group: false}, {name: tags, list: true}]`
 * freezes: one of AGENTS agents, its team (agent → team fixed: agent number mod TEAMS), a
 * ticket id of its own (not rolled up), and 0–3 distinct tags of TAGS (no `tags` key for 0).
 */
import { dimDayFold } from "../stats/store/migrations.ts";
import type pg from "pg";

export const START_DAY = "2026-01-05";
export const AGENTS = 1000;
export const TEAMS = 50;
export const TAGS = 200;

/** The rated value a row counts under, as `apply`'s contribution: rated only when completed with a score. */
const RATED_COLUMNS = `date_bin('1 hour', dialogue_started_at, timestamptz '2000-01-01 00:00:00+00') AS hour,
                      (completed AND score IS NOT NULL) AS rated,
                      CASE WHEN completed AND score IS NOT NULL THEN scale ELSE '' END AS rscale,
                      CASE WHEN completed AND score IS NOT NULL THEN score ELSE 0 END AS rscore`;

/** The contribution's counters (stats/store/survey-state.ts contributionOf): every row is a dialogue. */
const COUNTERS = `count(*), count(*) FILTER (WHERE offered), count(*) FILTER (WHERE accepted), count(*) FILTER (WHERE denied),
                  count(*) FILTER (WHERE completed), count(*) FILTER (WHERE completed AND comment <> '')`;

/** Fills `s` (a quoted, migrated schema) through `admin`; returns nothing, the caller counts. */
export async function generateSurveys(admin: pg.Client, s: string, n: number, days: number): Promise<void> {
  // Bulk load: drop the survey table's secondary indexes (whatever the migrations made) and
  // rebuild them from their own definitions once the rows are in, instead of row by row.
  const indexes = await admin.query<{ name: string; def: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace
     WHERE t.relname = 'survey' AND ns.nspname = $1 AND NOT x.indisprimary`,
    [s.slice(1, -1)],
  );
  await admin.query("SET maintenance_work_mem = '1GB'");
  await admin.query("SET work_mem = '1GB'");
  for (const { name } of indexes.rows) await admin.query(`DROP INDEX ${s}."${name}"`);
  await admin.query("SELECT setseed(0.42)");
  const tag = (k: number) => `'tag-' || ((t0 + ${k}) % ${TAGS})`;
  await admin.query(
    `INSERT INTO ${s}.survey (survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id, dialogue_started_at,
                             offered, accepted, denied, denied_reason, completed, score, scale, comment, dimensions, dim_keys, rolled_keys)
     SELECT 'b' || i, sc, 'v1', ch, bot, 'c' || i, started,
            r >= 0.2, r >= 0.35, r >= 0.2 AND r < 0.3, CASE WHEN r >= 0.2 AND r < 0.3 THEN 'timeout' END, r >= 0.35,
            CASE WHEN r >= 0.35 THEN (CASE WHEN sc = 'thumbs' THEN (CASE WHEN v < 0.7 THEN 100 ELSE 0 END) ELSE 1 + floor(v * 5) END) END,
            CASE WHEN r >= 0.35 THEN (CASE WHEN sc = 'thumbs' THEN '0-100' ELSE '1-5' END) ELSE '' END,
            CASE WHEN r >= 0.8 THEN 'a comment' WHEN r >= 0.35 THEN '' END,
            CASE WHEN r >= 0.2 THEN jsonb_build_object('agent', agent, 'team', team, 'ticket', ticket)
                                    || CASE WHEN nt > 0 THEN jsonb_build_object('tags', to_jsonb(tags)) ELSE '{}'::jsonb END END,
            CASE WHEN r >= 0.2 THEN ARRAY['agent=' || agent, 'team=' || team, 'ticket=' || ticket] || tag_keys END,
            CASE WHEN r >= 0.2 THEN ARRAY['agent=' || agent, 'team=' || team] || tag_keys END
     FROM (SELECT *, ARRAY(SELECT 'tags=' || t FROM unnest(tags) AS t) AS tag_keys
           FROM (SELECT *, 'a-' || a AS agent, 't-' || (a % ${TEAMS}) AS team, 'T-' || i AS ticket,
                        (ARRAY[${tag(0)}, ${tag(37)}, ${tag(101)}])[1:nt] AS tags
                 FROM (SELECT i, (ARRAY['csat', 'support', 'thumbs'])[1 + i % 3] AS sc, (ARRAY['telegram', 'teams', 'whatsapp'])[1 + (i / 3) % 3] AS ch,
                              (ARRAY['', 'b1', 'b2', 'b3'])[1 + (i / 9) % 4] AS bot,
                              $2::date::timestamptz + floor(random() * $3::int * 86400) * interval '1 second' AS started,
                              random() AS r, random() AS v, floor(random() * ${AGENTS})::int AS a,
                              floor(random() * ${TAGS})::int AS t0, floor(random() * 4)::int AS nt
                       FROM generate_series(1, $1::int) AS i) AS g) AS g2) AS g3`,
    [n, START_DAY, days],
  );
  for (const { def } of indexes.rows) await admin.query(def);
  // survey_rollup: the 8 groupings (CUBE of the filter dimensions) per hour × rated value.
  await admin.query(
    `INSERT INTO ${s}.survey_rollup (dims, scenario_id, channel, bot_id, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     SELECT (1 - GROUPING(scenario_id)) | ((1 - GROUPING(channel)) << 1) | ((1 - GROUPING(bot_id)) << 2),
            coalesce(scenario_id, ''), coalesce(channel, ''), coalesce(bot_id, ''), hour, rscale, rated, rscore, ${COUNTERS}
     FROM (SELECT *, ${RATED_COLUMNS} FROM ${s}.survey) AS x
     GROUP BY hour, rscale, rated, rscore, CUBE (scenario_id, channel, bot_id)`,
  );
  // survey_dim_rollup: the same contribution once per rolled-up value ("name=value", split at
  // the first "="), keyed by hour × rated value; a survey without rolled_keys adds nothing.
  await admin.query(
    `INSERT INTO ${s}.survey_dim_rollup (dim, value, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     SELECT split_part(k, '=', 1), substr(k, strpos(k, '=') + 1), hour, rscale, rated, rscore, ${COUNTERS}
     FROM (SELECT *, ${RATED_COLUMNS} FROM ${s}.survey WHERE rolled_keys IS NOT NULL) AS x, unnest(x.rolled_keys) AS k
     GROUP BY 1, 2, hour, rscale, rated, rscore`,
  );
  // survey_dim_day: the hourly dimension rows folded into UTC days, the rated values counted by
  // rating slot (dimDayFold: the layout apply maintains, as the figures suite checks).
  await admin.query(`DELETE FROM ${s}.survey_dim_day`);
  for (const sql of dimDayFold(s)) await admin.query(sql);
  for (const table of ["survey", "survey_rollup", "survey_dim_rollup", "survey_dim_day"]) await admin.query(`VACUUM ANALYZE ${s}.${table}`);
}
