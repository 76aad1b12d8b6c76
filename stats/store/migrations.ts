/**
 * The statistics schema, as numbered migrations. Each runs once per schema, recorded in
 * `survey_migration`; `runMigrations` holds a transaction-scoped advisory lock so several
 * processes starting at once apply each migration exactly once.
 *
 * Tables:
 * - `survey`: one row per dialogue (= survey). `events` holds the applied events per kind;
 *   the other columns are derived from it (stats/store/survey-state.ts).
 * - `survey_rollup`: counters per UTC hour × (scenario, channel, bot) × rated value, for each
 *   of the 8 combinations of kept filter dimensions (`dims` bit 1 scenario, 2 channel, 4 bot;
 *   a dimension not kept is stored as ''). A figures query with any filter reads one key
 *   range: hours × values rows, whatever the number of scenarios, channels and bots.
 *   Hours (not days) because days are cut in the caller's time zone at query time.
 * - `survey_trigger`: the trigger API's record of each trigger (migration 5).
 * - `erased_at` on both (migration 7): when retention or a person's erasure cleared the row's
 *   personal data (stats/store/erase-surveys.ts, triggers/erase-triggers.ts).
 * - `survey_dim_rollup` (hourly) and `survey_dim_day` (UTC days) per survey dimension value
 *   (migrations 6 and 10): the figures grouped by agent, team or tag. `survey_dim_day.rated`
 *   counts completed surveys by rating slot, numbered in `survey_rating_slot` (migration 11).
 */
import type { SqlQueryable } from "./sql-client.ts";

export interface Migration {
  version: number;
  name: string;
  /** Single statements (PGlite's parameterised query runs one at a time). */
  statements(schema: string): string[];
}

const COUNTERS = ["dialogues", "offered", "answered", "declined", "surveys", "commented"] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "survey rows and hourly rollups",
    statements: (s) => [
      `CREATE TABLE ${s}.survey (
        survey_id text PRIMARY KEY,
        scenario_id text NOT NULL,
        scenario_version text NOT NULL,
        channel text NOT NULL,
        bot_id text NOT NULL,
        conversation_id text NOT NULL,
        dialogue_started_at timestamptz NOT NULL,
        events jsonb NOT NULL DEFAULT '{}'::jsonb,
        offered boolean NOT NULL DEFAULT false,
        accepted boolean NOT NULL DEFAULT false,
        denied boolean NOT NULL DEFAULT false,
        denied_reason text,
        completed boolean NOT NULL DEFAULT false,
        score double precision,
        scale text NOT NULL DEFAULT '',
        comment text,
        offered_at timestamptz,
        answered_at timestamptz,
        declined_at timestamptz,
        completed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      // The dialogue list (newest first, keyset) and the naive figures scan a period.
      `CREATE INDEX survey_started_idx ON ${s}.survey (dialogue_started_at, survey_id)`,
      `CREATE INDEX survey_scenario_started_idx ON ${s}.survey (scenario_id, dialogue_started_at, survey_id)`,
      `CREATE TABLE ${s}.survey_rollup (
        dims smallint NOT NULL,
        scenario_id text NOT NULL,
        channel text NOT NULL,
        bot_id text NOT NULL,
        hour timestamptz NOT NULL,
        scale text NOT NULL,
        rated boolean NOT NULL,
        score double precision NOT NULL,
        ${COUNTERS.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(",\n        ")},
        PRIMARY KEY (dims, scenario_id, channel, bot_id, hour, scale, rated, score)
      )`,
    ],
  },
  {
    version: 2,
    name: "rollup key covers the counters (index-only figures scans)",
    // A survey's rollup rows are written hour by hour, interleaved with every other filter
    // combination, so reading one combination's 90 days from the heap touches thousands of
    // pages. With the counters in the key's index the figures read one contiguous index range.
    statements: (s) => [
      `ALTER TABLE ${s}.survey_rollup DROP CONSTRAINT survey_rollup_pkey`,
      `ALTER TABLE ${s}.survey_rollup ADD CONSTRAINT survey_rollup_pkey PRIMARY KEY (dims, scenario_id, channel, bot_id, hour, scale, rated, score)
         INCLUDE (${COUNTERS.join(", ")})`,
    ],
  },
  {
    version: 3,
    name: "survey says when its comment had to be cleaned to be stored",
    statements: (s) => [`ALTER TABLE ${s}.survey ADD COLUMN comment_sanitized boolean NOT NULL DEFAULT false`],
  },
  {
    version: 4,
    name: "survey records the variables its dialogue started with and the trigger that started it",
    // context: the start variables (a trigger's agent, team, ticket), kept apart from what the
    // dialogue saved; trigger_id: the trigger API call behind the dialogue. Both null when the
    // user started the dialogue. Figures by context (agent, team) come later; a lookup by trigger now.
    statements: (s) => [
      `ALTER TABLE ${s}.survey ADD COLUMN context jsonb`,
      `ALTER TABLE ${s}.survey ADD COLUMN trigger_id text`,
      `CREATE INDEX survey_trigger_idx ON ${s}.survey (trigger_id) WHERE trigger_id IS NOT NULL`,
    ],
  },
  {
    version: 5,
    name: "triggered surveys (the trigger API): one row per trigger, its key unique",
    // triggers/sql-trigger-store.ts reads and writes it; the unique idempotency_key is what makes
    // one key start one dialogue across processes. Its state joins survey by survey_id.
    statements: (s) => [
      `CREATE TABLE ${s}.survey_trigger (
        trigger_id text PRIMARY KEY,
        idempotency_key text UNIQUE,
        channel text NOT NULL,
        recipient text NOT NULL,
        scenario_id text NOT NULL,
        variables jsonb NOT NULL DEFAULT '{}'::jsonb,
        locale text,
        options jsonb,
        status text NOT NULL,
        reason text,
        run_at timestamptz NOT NULL,
        expire_after_ms bigint,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        expires_at timestamptz,
        survey_id text,
        ref jsonb,
        updated_at timestamptz NOT NULL
      )`,
      `CREATE INDEX survey_trigger_recipient_idx ON ${s}.survey_trigger (channel, recipient, created_at)`,
      `CREATE INDEX survey_trigger_scheduled_idx ON ${s}.survey_trigger (run_at) WHERE status = 'scheduled'`,
      `CREATE INDEX survey_trigger_expiring_idx ON ${s}.survey_trigger (expires_at) WHERE status = 'sent'`,
    ],
  },
  {
    version: 6,
    name: "survey dimensions (agent, team, tags, ticket) frozen at the offer, and their hourly rollups",
    // dimensions: the values as recorded (display, export); dim_keys: every value as "name=value"
    // (a list dimension one entry per item), searched with @> through the GIN index; rolled_keys:
    // the subset whose dimension is rolled up, which is what the survey's contribution to
    // survey_dim_rollup is keyed by. All three are written once, from the first offered event.
    statements: (s) => [
      `ALTER TABLE ${s}.survey ADD COLUMN dimensions jsonb`,
      `ALTER TABLE ${s}.survey ADD COLUMN dim_keys text[]`,
      `ALTER TABLE ${s}.survey ADD COLUMN rolled_keys text[]`,
      `CREATE INDEX survey_dim_keys_idx ON ${s}.survey USING gin (dim_keys)`,
      `CREATE TABLE ${s}.survey_dim_rollup (
        dim text NOT NULL,
        value text NOT NULL,
        hour timestamptz NOT NULL,
        scale text NOT NULL,
        rated boolean NOT NULL,
        score double precision NOT NULL,
        ${COUNTERS.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(",\n        ")},
        PRIMARY KEY (dim, value, hour, scale, rated, score) INCLUDE (${COUNTERS.join(", ")})
      )`,
    ],
  },
  {
    version: 7,
    name: "survey and trigger rows say when their personal data was erased (retention, a person's erasure)",
    // erased_at: when stats/store/erase-surveys.ts cleared the comment, the conversation id and the
    // identifying start variables; the retention sweep reads the rows not erased yet, oldest first,
    // from the partial index (rows it already cleared leave the index, so each sweep starts where
    // the last one stopped). Triggers alike (triggers/erase-triggers.ts).
    statements: (s) => [
      `ALTER TABLE ${s}.survey ADD COLUMN erased_at timestamptz`,
      `CREATE INDEX survey_retention_idx ON ${s}.survey (dialogue_started_at) WHERE erased_at IS NULL`,
      `ALTER TABLE ${s}.survey_trigger ADD COLUMN erased_at timestamptz`,
      `CREATE INDEX survey_trigger_retention_idx ON ${s}.survey_trigger (created_at) WHERE erased_at IS NULL`,
    ],
  },
  {
    version: 8,
    name: "further metrics (NPS 0-10, CES 1-7, yes/no) beside the CSAT rating, and their hourly rollups",
    // survey_metric: one answer per survey and metric (the first recorded wins: the insert's
    // conflict is the redelivered job). survey_metric_rollup: responses per UTC hour × metric ×
    // value, for the same 8 (scenario, channel, bot) groupings as survey_rollup; a metric answer
    // never changes once recorded, so it is added once, when its row is inserted.
    statements: (s) => [
      `CREATE TABLE ${s}.survey_metric (
        survey_id text NOT NULL,
        metric text NOT NULL,
        scale text NOT NULL,
        value double precision NOT NULL,
        scenario_id text NOT NULL,
        channel text NOT NULL,
        bot_id text NOT NULL,
        dialogue_started_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        PRIMARY KEY (survey_id, metric)
      )`,
      `CREATE INDEX survey_metric_started_idx ON ${s}.survey_metric (metric, dialogue_started_at)`,
      `CREATE TABLE ${s}.survey_metric_rollup (
        metric text NOT NULL,
        dims smallint NOT NULL,
        scenario_id text NOT NULL,
        channel text NOT NULL,
        bot_id text NOT NULL,
        hour timestamptz NOT NULL,
        scale text NOT NULL,
        value double precision NOT NULL,
        responses bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (metric, dims, scenario_id, channel, bot_id, hour, scale, value) INCLUDE (responses)
      )`,
    ],
  },
  {
    version: 9,
    name: "read-only report views for BI tools (Metabase, Grafana), with column comments",
    // The views are the stable interface for people's own reports: the tables behind them may
    // change between versions (a migration adds what it needs), the views' columns do not.
    // docs/bi.md shows the read-only role to give a BI tool.
    statements: (s) => [
      `CREATE VIEW ${s}.survey_report AS
        SELECT survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id, dialogue_started_at AS started_at,
               offered, accepted AS answered, denied AS declined, denied_reason AS declined_reason, completed, score, scale, comment, completed_at,
               dimensions->>'agent' AS agent, dimensions->>'team' AS team, dimensions->>'ticket' AS ticket,
               ARRAY(SELECT substr(k, 6) FROM unnest(dim_keys) AS k WHERE left(k, 5) = 'tags=') AS tags,
               dimensions, context, trigger_id
        FROM ${s}.survey`,
      `CREATE VIEW ${s}.survey_metric_report AS
        SELECT survey_id, metric, scale, value, scenario_id, channel, bot_id, dialogue_started_at AS started_at, recorded_at
        FROM ${s}.survey_metric`,
      `COMMENT ON VIEW ${s}.survey_report IS 'One row per survey (dialogue) for BI tools: read it, never write. Figures are per started_at; a survey counts when completed.'`,
      `COMMENT ON VIEW ${s}.survey_metric_report IS 'One row per further metric answer (NPS, CES, yes/no) for BI tools; join survey_report on survey_id.'`,
      `COMMENT ON COLUMN ${s}.survey_report.survey_id IS 'The survey''s id (one per dialogue; a hash, stable across redeliveries).'`,
      `COMMENT ON COLUMN ${s}.survey_report.scenario_id IS 'The scenario the dialogue ran.'`,
      `COMMENT ON COLUMN ${s}.survey_report.scenario_version IS 'The scenario''s version (file version + content hash) when the dialogue started.'`,
      `COMMENT ON COLUMN ${s}.survey_report.channel IS 'The channel: telegram, teams, whatsapp, whatsapp-cloud, webchat.'`,
      `COMMENT ON COLUMN ${s}.survey_report.bot_id IS 'The bot on that channel; empty when the channel has one bot.'`,
      `COMMENT ON COLUMN ${s}.survey_report.conversation_id IS 'The chat on the channel (personal data: emptied by erasure and retention).'`,
      `COMMENT ON COLUMN ${s}.survey_report.started_at IS 'When the dialogue started: the time every figure files the survey under.'`,
      `COMMENT ON COLUMN ${s}.survey_report.offered IS 'The rating question was offered (or answered, or declined).'`,
      `COMMENT ON COLUMN ${s}.survey_report.answered IS 'A rating was given.'`,
      `COMMENT ON COLUMN ${s}.survey_report.declined IS 'The rating was skipped, timed out or refused, and never given.'`,
      `COMMENT ON COLUMN ${s}.survey_report.declined_reason IS 'Why it was declined: skipped, timeout or invalid.'`,
      `COMMENT ON COLUMN ${s}.survey_report.completed IS 'statistic__set recorded the survey: what the figures count as a survey.'`,
      `COMMENT ON COLUMN ${s}.survey_report.score IS 'The rating (numeric value of the button), null without one.'`,
      `COMMENT ON COLUMN ${s}.survey_report.scale IS 'min-max of the rating keyboard (1-5, 0-100); empty when not known.'`,
      `COMMENT ON COLUMN ${s}.survey_report.comment IS 'The client''s comment (personal data; emptied by erasure and retention).'`,
      `COMMENT ON COLUMN ${s}.survey_report.completed_at IS 'When statistic__set recorded the survey.'`,
      `COMMENT ON COLUMN ${s}.survey_report.agent IS 'The agent dimension, frozen when the rating was offered.'`,
      `COMMENT ON COLUMN ${s}.survey_report.team IS 'The team dimension, frozen when the rating was offered.'`,
      `COMMENT ON COLUMN ${s}.survey_report.ticket IS 'The helpdesk ticket dimension.'`,
      `COMMENT ON COLUMN ${s}.survey_report.tags IS 'The tags dimension, one array item per tag.'`,
      `COMMENT ON COLUMN ${s}.survey_report.dimensions IS 'Every dimension the scenario declared, as recorded (JSON).'`,
      `COMMENT ON COLUMN ${s}.survey_report.context IS 'The variables the dialogue started with (a trigger''s), JSON.'`,
      `COMMENT ON COLUMN ${s}.survey_report.trigger_id IS 'The trigger API call that started the dialogue; null when the user did.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.survey_id IS 'The survey the answer belongs to (survey_report.survey_id).'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.metric IS 'The metric''s name (statistic__set {type: metric, name}).'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.scale IS 'nps_0_10, ces_1_7, yes_no (1 yes, 0 no) or csat_1_5.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.value IS 'The answer on that scale.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.scenario_id IS 'The scenario the dialogue ran.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.channel IS 'The channel.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.bot_id IS 'The bot on that channel; empty when the channel has one bot.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.started_at IS 'When the dialogue started.'`,
      `COMMENT ON COLUMN ${s}.survey_metric_report.recorded_at IS 'When the answer was recorded.'`,
      `COMMENT ON TABLE ${s}.survey IS 'botflow''s survey rows (written by the workers): read survey_report instead, whose columns do not change between versions.'`,
      `COMMENT ON TABLE ${s}.survey_rollup IS 'Hourly counters behind the figures (written by the workers; internal layout).'`,
      `COMMENT ON TABLE ${s}.survey_dim_rollup IS 'Hourly counters per survey dimension value (written by the workers; internal layout).'`,
      `COMMENT ON TABLE ${s}.survey_metric_rollup IS 'Hourly counters per further metric value (written by the workers; internal layout).'`,
    ],
  },
  {
    version: 10,
    name: "daily rollups per survey dimension value, the rating distribution folded in (figures grouped by agent over long periods)",
    // Grouped figures over a 90-day period read one row per value and UTC day here instead of one
    // per value, hour and rated value in survey_dim_rollup (10 M surveys, 1,000 agents: 90 k rows
    // instead of 6 M); the period's partial days at its edges still come from the hourly rows.
    // dist: "scale|score" → completed surveys rated so, merged by dist_add on upsert.
    statements: (s) => [
      `CREATE FUNCTION ${s}.dist_add(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT COALESCE(jsonb_object_agg(k, n), '{}'::jsonb) FROM (
          SELECT k, sum(n) AS n FROM (
            SELECT key AS k, value::text::float8 AS n FROM jsonb_each(a)
            UNION ALL SELECT key, value::text::float8 FROM jsonb_each(b)
          ) AS x GROUP BY k HAVING sum(n) <> 0
        ) AS y
      $$`,
      `CREATE TABLE ${s}.survey_dim_day (
        dim text NOT NULL,
        value text NOT NULL,
        day date NOT NULL,
        ${COUNTERS.map((c) => `${c} bigint NOT NULL DEFAULT 0`).join(",\n        ")},
        dist jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (dim, value, day)
      )`,
      `COMMENT ON TABLE ${s}.survey_dim_day IS 'Daily (UTC) counters per survey dimension value, rating distribution folded in (written by the workers; internal layout).'`,
      // Existing hourly rows folded into days, so a store upgraded with data reads the same figures.
      dimDayBackfill(s),
    ],
  },
  {
    version: 11,
    name: "the daily rating distribution as counts by rating slot (grouped figures summed in SQL, not jsonb merged in the caller)",
    // jsonb has no sum: grouping 1,000 agents over 90 days sent 90 k rows of jsonb to be merged by
    // the caller (about 1.3 s), and jsonb_each in SQL costs as much. Each rated value ("scale",
    // "score") gets a small, fixed slot number in survey_rating_slot instead, and survey_dim_day
    // keeps `rated[slot]` = completed surveys rated so: sum(rated[1]), sum(rated[2]), … is a plain
    // aggregate (about 45 ms for the same rows). Slots are only ever added, never renumbered.
    statements: (s) => [
      `CREATE TABLE ${s}.survey_rating_slot (
        slot integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        scale text NOT NULL,
        score double precision NOT NULL,
        UNIQUE (scale, score)
      )`,
      `COMMENT ON TABLE ${s}.survey_rating_slot IS 'Rated values (scale, score) numbered for survey_dim_day.rated (written by the workers; internal layout).'`,
      // The dense array of counts by slot from parallel arrays of slots and counts (zeros between).
      `CREATE FUNCTION ${s}.rating_slots_dense(slots integer[], counts bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
        SELECT COALESCE(array_agg(COALESCE((SELECT sum(counts[i]) FROM generate_subscripts(slots, 1) AS i WHERE slots[i] = g), 0)::bigint ORDER BY g), '{}')
        FROM generate_series(1, COALESCE((SELECT max(x) FROM unnest(slots) AS x), 0)) AS g
      $$`,
      // One expression without an aggregate, so the planner inlines it into the upsert.
      `CREATE FUNCTION ${s}.rating_slots_add(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
        SELECT ARRAY(SELECT COALESCE(a[g], 0) + COALESCE(b[g], 0) FROM generate_series(1, greatest(cardinality(a), cardinality(b))) AS g)
      $$`,
      `INSERT INTO ${s}.survey_rating_slot (scale, score)
       SELECT DISTINCT regexp_replace(key, '[|][^|]*$', ''), substring(key FROM '[^|]*$')::float8 FROM ${s}.survey_dim_day, jsonb_each(dist) ORDER BY 1, 2`,
      `ALTER TABLE ${s}.survey_dim_day ADD COLUMN rated bigint[] NOT NULL DEFAULT '{}'`,
      `UPDATE ${s}.survey_dim_day AS d SET rated = (
         SELECT ${s}.rating_slots_dense(array_agg(sl.slot), array_agg(e.value::text::float8::bigint))
         FROM jsonb_each(d.dist) AS e
         JOIN ${s}.survey_rating_slot AS sl ON sl.scale = regexp_replace(e.key, '[|][^|]*$', '') AND sl.score = substring(e.key FROM '[^|]*$')::float8)
       WHERE d.dist <> '{}'::jsonb`,
      `ALTER TABLE ${s}.survey_dim_day DROP COLUMN dist`,
      `DROP FUNCTION ${s}.dist_add(jsonb, jsonb)`,
      `COMMENT ON TABLE ${s}.survey_dim_day IS 'Daily (UTC) counters per survey dimension value, completed surveys by rating slot in rated (written by the workers; internal layout).'`,
    ],
  },
];

/** Applies the migrations `schema` lacks; call inside a transaction. */
export async function runMigrations(q: SqlQueryable, schema: string, quoted: string): Promise<void> {
  await q.query("SELECT pg_advisory_xact_lock(hashtext($1)::bigint)", [`botflow.survey-store.${schema}`]);
  await q.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
  await q.query(`CREATE TABLE IF NOT EXISTS ${quoted}.survey_migration (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const rows = await q.query<{ version: number }>(`SELECT version FROM ${quoted}.survey_migration ORDER BY version`);
  const applied = new Set(rows.map((r) => Number(r.version)));
  const known = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
  const newest = Math.max(0, ...applied);
  if (newest > known) {
    throw new Error(
      `statistics schema "${schema}" is at version ${newest}, newer than this botflow knows (${known}); upgrade botflow before running it against this database`,
    );
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    for (const sql of m.statements(quoted)) await q.query(sql);
    await q.query(`INSERT INTO ${quoted}.survey_migration (version, name) VALUES ($1, $2)`, [m.version, m.name]);
  }
}

/**
 * Folds survey_dim_rollup's hourly rows into survey_dim_day as the current layout keeps it (the
 * rated values numbered in survey_rating_slot first): for benchmarks and tests that build the
 * rollups in bulk, two statements.
 */
export function dimDayFold(s: string): string[] {
  return [
    `INSERT INTO ${s}.survey_rating_slot (scale, score)
     SELECT DISTINCT scale, score FROM ${s}.survey_dim_rollup WHERE rated ORDER BY 1, 2 ON CONFLICT DO NOTHING`,
    `INSERT INTO ${s}.survey_dim_day (dim, value, day, ${COUNTERS.join(", ")}, rated)
     SELECT dim, value, day, ${COUNTERS.map((c) => `sum(${c})`).join(", ")},
            ${s}.rating_slots_dense(COALESCE(array_agg(slot) FILTER (WHERE slot IS NOT NULL AND n <> 0), '{}'), COALESCE(array_agg(n) FILTER (WHERE slot IS NOT NULL AND n <> 0), '{}'))
     FROM (SELECT r.dim, r.value, (r.hour AT TIME ZONE 'UTC')::date AS day, sl.slot,
                  ${COUNTERS.map((c) => `sum(r.${c}) AS ${c}`).join(", ")}, sum(r.surveys) FILTER (WHERE r.rated)::bigint AS n
           FROM ${s}.survey_dim_rollup AS r LEFT JOIN ${s}.survey_rating_slot AS sl ON r.rated AND sl.scale = r.scale AND sl.score = r.score
           GROUP BY 1, 2, 3, 4) AS h
     GROUP BY dim, value, day`,
  ];
}

/** Folds survey_dim_rollup's hourly rows into survey_dim_day as migration 10 laid it out (a jsonb dist), for that migration only. */
export function dimDayBackfill(s: string): string {
  return `INSERT INTO ${s}.survey_dim_day (dim, value, day, ${COUNTERS.join(", ")}, dist)
        SELECT dim, value, day, ${COUNTERS.map((c) => `sum(${c})`).join(", ")},
               COALESCE(jsonb_object_agg(k, n) FILTER (WHERE k IS NOT NULL AND n <> 0), '{}'::jsonb)
        FROM (SELECT dim, value, (hour AT TIME ZONE 'UTC')::date AS day, CASE WHEN rated THEN scale || '|' || score::text END AS k,
                     ${COUNTERS.map((c) => `sum(${c}) AS ${c}`).join(", ")}, sum(surveys) FILTER (WHERE rated) AS n
              FROM ${s}.survey_dim_rollup GROUP BY 1, 2, 3, 4) AS h
        GROUP BY dim, value, day`;
}
