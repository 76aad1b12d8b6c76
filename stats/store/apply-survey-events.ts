/**
 * `SurveyStore.apply` in SQL both drivers run: one transaction, a fixed number of
 * multi-row statements whatever the batch size.
 *
 * 1. Insert the batch's surveys as complete rows (folded from the batch's events alone),
 *    in survey-id order, skipping ids that already exist. An inserted row is new: its
 *    rollup contribution before was nothing, and nobody else can see it until we commit.
 * 2. Lock the rows that already existed (`FOR UPDATE`, survey-id order) and read their
 *    event sets. Skipped when every survey of the batch was new.
 * 3. In TypeScript: add the new events (kinds already present are skipped: that is the
 *    processed-event record, keyed by survey id + kind = the job id) and derive the row.
 * 4. Update the changed rows from arrays (`unnest`).
 *    The start context and trigger id (`context`, `trigger_id`) come from the events that were
 *    applied (never from a redelivered one) and only fill a gap: the first writer wins, and a
 *    later event without them leaves them as they are.
 *    The survey's dimensions (`dimensions`, `dim_keys`, `rolled_keys`) likewise come from the
 *    first applied event carrying them (the offered one: frozen when the rating was offered).
 * 5. Add to the rollups the difference between each survey's new and old contribution,
 *    summed per survey key, then expanded to the 8 groupings and summed per rollup key (zero
 *    deltas dropped at both steps), upserted in key order. The same difference goes to
 *    `survey_dim_rollup` once per rolled-up dimension value of the survey, keyed by the values
 *    it had before and after (none until its offered event is stored).
 *
 * No deadlocks: inserts take their ids in order and wait only on another transaction's
 * uncommitted insert of the same id (which that transaction made in its own step 1, in the
 * same order); the locks of step 2 are taken in order on rows that were committed before it;
 * rollup keys come last, in order. A survey's rollup contribution is always moved under its
 * row lock (or its uncommitted insert), so the rollups never count a survey twice, whatever
 * the interleaving or redelivery. Statements are prepared once per connection (`prepare`).
 */
import { cleanSurveyEvent } from "../clean-survey-event.ts";
import type { SurveyEvent } from "../events.ts";
import type { SqlQueryable } from "./sql-client.ts";
import type { RatingSlotTx } from "./rating-slots.ts";
import { contributionOf, deriveSurvey, mergeEvents, type Contribution, type StoredEvents } from "./survey-state.ts";

const HOUR_MS = 3_600_000;
/** Rollup groupings: bit 1 keeps the scenario, 2 the channel, 4 the bot. */
const GROUPINGS = [0, 1, 2, 3, 4, 5, 6, 7] as const;
const PREPARED = { prepare: true } as const;

/** What the rollups need to know of a survey row besides its event sets. */
interface SurveyKey {
  scenario_id: string;
  channel: string;
  bot_id: string;
  started_ms: number;
  /** "name=value" of each rolled-up dimension value; null or empty: none. */
  rolled_keys: string[] | null;
}

interface DimDelta {
  dim: string;
  value: string;
  hour: number;
  scale: string;
  rated: boolean;
  score: number;
  counts: [number, number, number, number, number, number];
}

interface LockedRow extends SurveyKey {
  survey_id: string;
  events: StoredEvents;
}

interface RollupDelta {
  dims: number;
  scenarioId: string;
  channel: string;
  botId: string;
  hour: number;
  scale: string;
  rated: boolean;
  score: number;
  counts: [number, number, number, number, number, number];
}

/** The start context (as JSON for `::jsonb`), trigger id and dimensions a batch writes on a survey row; null: none. */
interface StartColumns {
  context: string | null;
  triggerId: string | null;
  /** The dimension values as JSON; `dimKeys` and `rolledKeys` as JSON arrays of "name=value". */
  dimensions: string | null;
  dimKeys: string | null;
  rolledKeys: string[] | null;
}

interface UpdatedRow extends StartColumns {
  id: string;
  events: StoredEvents;
}

interface FreshRow extends UpdatedRow {
  first: SurveyEvent;
}

const NO_START: StartColumns = { context: null, triggerId: null, dimensions: null, dimKeys: null, rolledKeys: null };

/**
 * The first context, trigger id and dimensions among the events that `mergeEvents` applies (first
 * of each kind not in `before`), so a redelivered event never changes the row, as for every other column.
 */
function startOf(before: StoredEvents, events: readonly SurveyEvent[]): StartColumns {
  if (!events.some((e) => e.context !== undefined || e.triggerId !== undefined || e.dimensions !== undefined)) return NO_START;
  const out: StartColumns = { ...NO_START };
  const seen = new Set<string>();
  for (const e of events) {
    if (e.kind === "metric" || before[e.kind] !== undefined || seen.has(e.kind)) continue;
    seen.add(e.kind);
    if (out.context === null && e.context !== undefined && Object.keys(e.context).length > 0) out.context = JSON.stringify(e.context);
    if (out.triggerId === null && e.triggerId !== undefined) out.triggerId = e.triggerId;
    if (out.dimensions === null && e.dimensions !== undefined && Object.keys(e.dimensions).length > 0) {
      const all: string[] = [];
      const rolled: string[] = [];
      const rolledUp = new Set(e.rolledUp ?? []);
      for (const [name, v] of Object.entries(e.dimensions)) {
        for (const item of typeof v === "string" ? [v] : v) {
          all.push(`${name}=${item}`);
          if (rolledUp.has(name)) rolled.push(`${name}=${item}`);
        }
      }
      out.dimensions = JSON.stringify(e.dimensions);
      out.dimKeys = JSON.stringify([...new Set(all)]);
      out.rolledKeys = [...new Set(rolled)];
    }
  }
  return out;
}

function checkEvent(e: SurveyEvent): void {
  if (typeof e.surveyId !== "string" || e.surveyId === "") throw new Error(`survey event without a surveyId (kind ${String(e.kind)}); the producer must set one`);
  if (!Number.isFinite(e.dialogueStartedAt) || !Number.isFinite(e.at)) {
    throw new Error(`survey event ${e.surveyId}.${e.kind} has no valid dialogueStartedAt/at (epoch ms); the producer must set both`);
  }
}

/** Applies one batch inside the caller's transaction. */
export async function applySurveyEvents(q: SqlQueryable, s: string, input: readonly SurveyEvent[], slots: RatingSlotTx): Promise<void> {
  if (input.length === 0) return;
  const bySurvey = new Map<string, SurveyEvent[]>();
  const metrics: SurveyEvent[] = [];
  for (const raw of input) {
    checkEvent(raw);
    // Defense in depth: a string the database cannot hold is cleaned here whoever produced it.
    const e = cleanSurveyEvent(raw);
    if (e.kind === "metric") {
      metrics.push(e);
      continue;
    }
    const list = bySurvey.get(e.surveyId);
    if (list) list.push(e);
    else bySurvey.set(e.surveyId, [e]);
  }
  if (bySurvey.size === 0) {
    if (metrics.length > 0) await applyMetricEvents(q, s, metrics);
    return;
  }
  // Code-unit order, the same in every process; PostgreSQL's lock order below is its own ORDER BY.
  const ids = [...bySurvey.keys()].sort();
  const sums = new Map<string, RollupDelta>();
  const dimSums = new Map<string, DimDelta>();

  const fresh: FreshRow[] = [];
  for (const id of ids) {
    const list = bySurvey.get(id)!;
    fresh.push({ id, first: list[0]!, events: mergeEvents({}, list)!, ...startOf({}, list) });
  }
  const inserted = new Set((await insertSurveys(q, s, fresh)).map((r) => r.survey_id));
  for (const f of fresh) {
    if (!inserted.has(f.id)) continue;
    const key: SurveyKey = { scenario_id: f.first.scenarioId, channel: f.first.channel, bot_id: f.first.botId, started_ms: f.first.dialogueStartedAt, rolled_keys: f.rolledKeys };
    addContribution(sums, dimSums, key, contributionOf(f.events), +1);
  }

  const existing = inserted.size === ids.length ? [] : ids.filter((id) => !inserted.has(id));
  if (existing.length > 0) {
    const locked = await q.query<LockedRow>(
      `SELECT survey_id, scenario_id, channel, bot_id, (extract(epoch FROM dialogue_started_at) * 1000)::float8 AS started_ms, events, rolled_keys
       FROM ${s}.survey WHERE survey_id = ANY($1::text[]) ORDER BY survey_id FOR UPDATE`,
      [existing],
      PREPARED,
    );
    const updates: UpdatedRow[] = [];
    for (const row of locked) {
      const before = row.events ?? {};
      const list = bySurvey.get(row.survey_id) ?? [];
      const after = mergeEvents(before, list);
      if (!after) continue; // every event of this survey was applied before
      const start = startOf(before, list);
      updates.push({ id: row.survey_id, events: after, ...start });
      addContribution(sums, dimSums, row, contributionOf(before), -1);
      // The dimensions are written once (COALESCE below): the row's, or this batch's when it had none.
      const keys = row.rolled_keys ?? start.rolledKeys;
      addContribution(sums, dimSums, keys === row.rolled_keys ? row : { ...row, rolled_keys: keys }, contributionOf(after), +1);
    }
    if (updates.length > 0) await updateSurveys(q, s, updates);
  }

  if (metrics.length > 0) await applyMetricEvents(q, s, metrics);
  const changed = rollupDeltas(sums);
  if (changed.length > 0) await upsertRollups(q, s, changed);
  const dimChanged = [...dimSums.values()].filter((d) => d.counts.some((n) => n !== 0));
  if (dimChanged.length > 0) {
    await upsertDimRollups(q, s, dimChanged);
    await upsertDimDays(q, s, dayDeltas(dimChanged), slots);
  }
}

/**
 * Adds a survey's contribution (sign -1: its old one) to the batch's per-survey-key sums.
 * Only the net sums are expanded into the 8 groupings (rollupDeltas): an old and a new
 * contribution on one key cancel out before they cost 8 keys each.
 */
function addContribution(sums: Map<string, RollupDelta>, dimSums: Map<string, DimDelta>, row: SurveyKey, c: Contribution, sign: 1 | -1): void {
  if (c.dialogues === 0) return;
  if (row.rolled_keys && row.rolled_keys.length > 0) addDimContribution(dimSums, row, c, sign);
  const hour = Math.floor(Number(row.started_ms) / HOUR_MS) * HOUR_MS;
  const rated = c.score !== null;
  const score = c.score ?? 0;
  // NUL cannot occur in PostgreSQL text, so NUL-joined parts are an unambiguous key (cheaper
  // than JSON.stringify on the hot path); a value with a NUL fails the statement anyway.
  const key = `${row.scenario_id}\0${row.channel}\0${row.bot_id}\0${hour}\0${c.scale}\0${rated}\0${score}`;
  let d = sums.get(key);
  if (!d) sums.set(key, (d = { dims: 7, scenarioId: row.scenario_id, channel: row.channel, botId: row.bot_id, hour, scale: c.scale, rated, score, counts: [0, 0, 0, 0, 0, 0] }));
  const counts = d.counts;
  counts[0] += sign * c.dialogues;
  counts[1] += sign * c.offered;
  counts[2] += sign * c.answered;
  counts[3] += sign * c.declined;
  counts[4] += sign * c.surveys;
  counts[5] += sign * c.commented;
}

/** The same contribution once per rolled-up dimension value of the survey ("name=value", split at the first "="). */
function addDimContribution(dimSums: Map<string, DimDelta>, row: SurveyKey, c: Contribution, sign: 1 | -1): void {
  const hour = Math.floor(Number(row.started_ms) / HOUR_MS) * HOUR_MS;
  const rated = c.score !== null;
  const score = c.score ?? 0;
  for (const k of row.rolled_keys ?? []) {
    const key = `${k}\0${hour}\0${c.scale}\0${rated}\0${score}`;
    let d = dimSums.get(key);
    if (!d) {
      const eq = k.indexOf("=");
      dimSums.set(key, (d = { dim: k.slice(0, eq), value: k.slice(eq + 1), hour, scale: c.scale, rated, score, counts: [0, 0, 0, 0, 0, 0] }));
    }
    d.counts[0] += sign * c.dialogues;
    d.counts[1] += sign * c.offered;
    d.counts[2] += sign * c.answered;
    d.counts[3] += sign * c.declined;
    d.counts[4] += sign * c.surveys;
    d.counts[5] += sign * c.commented;
  }
}

interface DayDelta {
  dim: string;
  value: string;
  day: number;
  counts: [number, number, number, number, number, number];
  /** "scale|score" → change in completed surveys rated so. */
  dist: Record<string, number>;
}

/** The hourly dimension deltas folded into UTC days, the rated value into `dist` (survey_dim_day). */
function dayDeltas(hourly: readonly DimDelta[]): DayDelta[] {
  const days = new Map<string, DayDelta>();
  for (const h of hourly) {
    const day = Math.floor(h.hour / 86_400_000) * 86_400_000;
    const key = `${h.dim}\0${h.value}\0${day}`;
    let d = days.get(key);
    if (!d) days.set(key, (d = { dim: h.dim, value: h.value, day, counts: [0, 0, 0, 0, 0, 0], dist: {} }));
    for (let i = 0; i < 6; i++) d.counts[i]! += h.counts[i]!;
    if (h.rated && h.counts[4] !== 0) {
      const k = `${h.scale}|${h.score}`;
      d.dist[k] = (d.dist[k] ?? 0) + h.counts[4];
    }
  }
  return [...days.values()].filter((d) => d.counts.some((n) => n !== 0) || Object.values(d.dist).some((n) => n !== 0));
}

async function upsertDimDays(q: SqlQueryable, s: string, deltas: DayDelta[], slots: RatingSlotTx): Promise<void> {
  if (deltas.length === 0) return;
  const keys = new Set<string>();
  for (const d of deltas) for (const k in d.dist) keys.add(k);
  const slotOf = await slots.slotsFor(q, s, [...keys]);
  // Each row's counts by slot as an int8[] literal (unnest takes no ragged 2-D array).
  const rated = deltas.map((d) => {
    const counts: number[] = [];
    for (const k in d.dist) {
      const slot = slotOf.get(k)!;
      while (counts.length < slot) counts.push(0);
      counts[slot - 1]! += d.dist[k]!;
    }
    return `{${counts.join(",")}}`;
  });
  await q.query(
    `INSERT INTO ${s}.survey_dim_day AS r (dim, value, day, dialogues, offered, answered, declined, surveys, commented, rated)
     SELECT u.dim, u.value, (to_timestamp(u.day_ms / 1000) AT TIME ZONE 'UTC')::date, u.dialogues, u.offered, u.answered, u.declined, u.surveys, u.commented, u.rated::int8[]
     FROM unnest($1::text[], $2::text[], $3::float8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::text[])
       AS u(dim, value, day_ms, dialogues, offered, answered, declined, surveys, commented, rated)
     ORDER BY 1, 2, 3
     ON CONFLICT (dim, value, day) DO UPDATE SET ${ADD_COUNTERS}, rated = ${s}.rating_slots_add(r.rated, excluded.rated)`,
    [deltas.map((d) => d.dim), deltas.map((d) => d.value), deltas.map((d) => d.day), ...counterColumns(deltas), rated],
    PREPARED,
  );
}

/** Expands the non-zero per-survey-key sums into the rollup rows of every grouping, summed per row. */
function rollupDeltas(sums: Map<string, RollupDelta>): RollupDelta[] {
  const rows = new Map<string, RollupDelta>();
  for (const sum of sums.values()) {
    if (sum.counts.every((n) => n === 0)) continue;
    const rest = `${sum.hour}\0${sum.scale}\0${sum.rated}\0${sum.score}`;
    for (const dims of GROUPINGS) {
      const scenarioId = dims & 1 ? sum.scenarioId : "";
      const channel = dims & 2 ? sum.channel : "";
      const botId = dims & 4 ? sum.botId : "";
      const key = `${dims}\0${scenarioId}\0${channel}\0${botId}\0${rest}`;
      const d = rows.get(key);
      if (!d) rows.set(key, { ...sum, dims, scenarioId, channel, botId, counts: [...sum.counts] });
      else for (let i = 0; i < 6; i++) d.counts[i]! += sum.counts[i]!;
    }
  }
  return [...rows.values()].filter((d) => d.counts.some((n) => n !== 0));
}

/** A text[] column from a JSON array passed as text (unnest cannot take an array per row); NULL stays NULL. */
const KEYS_FROM_JSON = (col: string) => `CASE WHEN ${col} IS NULL THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(${col}::jsonb)) END`;

/** Epoch ms as float8 for `to_timestamp(ms / 1000)`: cheaper to send than ISO strings. */
const DERIVED_COLUMNS = `events = u.events::jsonb, offered = u.offered, accepted = u.accepted, denied = u.denied, denied_reason = u.denied_reason,
       completed = u.completed, score = u.score, scale = u.scale, comment = u.comment, offered_at = to_timestamp(u.offered_at / 1000),
       answered_at = to_timestamp(u.answered_at / 1000), declined_at = to_timestamp(u.declined_at / 1000),
       completed_at = to_timestamp(u.completed_at / 1000), comment_sanitized = u.comment_sanitized, updated_at = now()`;
const DERIVED_TYPES = `$2::text[], $3::bool[], $4::bool[], $5::bool[], $6::text[], $7::bool[], $8::float8[], $9::text[], $10::text[],
                 $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::bool[]`;
const DERIVED_NAMES = `survey_id, events, offered, accepted, denied, denied_reason, completed, score, scale, comment, offered_at, answered_at, declined_at, completed_at,
            comment_sanitized`;

/** The parameters $1..$15 of the derived columns, in DERIVED_TYPES order. */
function derivedParams(rows: readonly { id: string; events: StoredEvents }[]): unknown[] {
  const derived = rows.map((r) => deriveSurvey(r.events));
  return [
    rows.map((r) => r.id),
    rows.map((r) => JSON.stringify(r.events)),
    derived.map((d) => d.offered),
    derived.map((d) => d.accepted),
    derived.map((d) => d.denied),
    derived.map((d) => d.deniedReason),
    derived.map((d) => d.completed),
    derived.map((d) => d.score),
    derived.map((d) => d.scale),
    derived.map((d) => d.comment),
    derived.map((d) => d.offeredAt),
    derived.map((d) => d.answeredAt),
    derived.map((d) => d.declinedAt),
    derived.map((d) => d.completedAt),
    derived.map((d) => d.commentSanitized),
  ];
}

/** Inserts complete rows for the surveys not stored yet; returns the ids it inserted. */
function insertSurveys(q: SqlQueryable, s: string, rows: readonly FreshRow[]): Promise<{ survey_id: string }[]> {
  return q.query<{ survey_id: string }>(
    `INSERT INTO ${s}.survey (survey_id, events, offered, accepted, denied, denied_reason, completed, score, scale, comment,
                              offered_at, answered_at, declined_at, completed_at, comment_sanitized,
                              scenario_id, scenario_version, channel, bot_id, conversation_id, dialogue_started_at, context, trigger_id,
                              dimensions, dim_keys, rolled_keys)
     SELECT u.survey_id, u.events::jsonb, u.offered, u.accepted, u.denied, u.denied_reason, u.completed, u.score, u.scale, u.comment,
            to_timestamp(u.offered_at / 1000), to_timestamp(u.answered_at / 1000), to_timestamp(u.declined_at / 1000), to_timestamp(u.completed_at / 1000),
            u.comment_sanitized, u.scenario_id, u.scenario_version, u.channel, u.bot_id, u.conversation_id, to_timestamp(u.started_ms / 1000),
            u.context::jsonb, u.trigger_id, u.dimensions::jsonb, ${KEYS_FROM_JSON("u.dim_keys")}, ${KEYS_FROM_JSON("u.rolled_keys")}
     FROM unnest($1::text[], ${DERIVED_TYPES}, $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::float8[], $22::text[], $23::text[],
                 $24::text[], $25::text[], $26::text[])
       AS u(${DERIVED_NAMES},
            scenario_id, scenario_version, channel, bot_id, conversation_id, started_ms, context, trigger_id, dimensions, dim_keys, rolled_keys)
     ORDER BY u.survey_id
     ON CONFLICT (survey_id) DO NOTHING
     RETURNING survey_id`,
    [
      ...derivedParams(rows),
      rows.map((r) => r.first.scenarioId),
      rows.map((r) => r.first.scenarioVersion),
      rows.map((r) => r.first.channel),
      rows.map((r) => r.first.botId),
      rows.map((r) => r.first.conversationId),
      rows.map((r) => r.first.dialogueStartedAt),
      rows.map((r) => r.context),
      rows.map((r) => r.triggerId),
      rows.map((r) => r.dimensions),
      rows.map((r) => r.dimKeys),
      rows.map((r) => (r.rolledKeys ? JSON.stringify(r.rolledKeys) : null)),
    ],
    PREPARED,
  );
}

async function updateSurveys(q: SqlQueryable, s: string, updates: readonly UpdatedRow[]): Promise<void> {
  await q.query(
    `UPDATE ${s}.survey AS t SET ${DERIVED_COLUMNS},
       context = COALESCE(t.context, u.context::jsonb), trigger_id = COALESCE(t.trigger_id, u.trigger_id),
       dimensions = COALESCE(t.dimensions, u.dimensions::jsonb), dim_keys = COALESCE(t.dim_keys, ${KEYS_FROM_JSON("u.dim_keys")}),
       rolled_keys = COALESCE(t.rolled_keys, ${KEYS_FROM_JSON("u.rolled_keys")})
     FROM unnest($1::text[], ${DERIVED_TYPES}, $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
       AS u(${DERIVED_NAMES}, context, trigger_id, dimensions, dim_keys, rolled_keys)
     WHERE t.survey_id = u.survey_id`,
    [
      ...derivedParams(updates),
      updates.map((r) => r.context),
      updates.map((r) => r.triggerId),
      updates.map((r) => r.dimensions),
      updates.map((r) => r.dimKeys),
      updates.map((r) => (r.rolledKeys ? JSON.stringify(r.rolledKeys) : null)),
    ],
    PREPARED,
  );
}

/** An upsert's SET clause: the delta's counters added to the row's (rollup tables alias the row as `r`). */
const ADD_COUNTERS = `dialogues = r.dialogues + excluded.dialogues, offered = r.offered + excluded.offered, answered = r.answered + excluded.answered,
       declined = r.declined + excluded.declined, surveys = r.surveys + excluded.surveys, commented = r.commented + excluded.commented`;

/** The six counter columns of a batch of deltas, as unnest's int8[] parameters. */
function counterColumns(deltas: readonly { counts: readonly number[] }[]): number[][] {
  return [0, 1, 2, 3, 4, 5].map((i) => deltas.map((d) => d.counts[i]!));
}

async function upsertRollups(q: SqlQueryable, s: string, deltas: RollupDelta[]): Promise<void> {
  await q.query(
    `INSERT INTO ${s}.survey_rollup AS r (dims, scenario_id, channel, bot_id, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     SELECT u.dims, u.scenario_id, u.channel, u.bot_id, to_timestamp(u.hour_ms / 1000), u.scale, u.rated, u.score,
            u.dialogues, u.offered, u.answered, u.declined, u.surveys, u.commented
     FROM unnest($1::int2[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::bool[], $8::float8[],
                 $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[])
       AS u(dims, scenario_id, channel, bot_id, hour_ms, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
     ON CONFLICT (dims, scenario_id, channel, bot_id, hour, scale, rated, score) DO UPDATE SET ${ADD_COUNTERS}`,
    [
      deltas.map((d) => d.dims),
      deltas.map((d) => d.scenarioId),
      deltas.map((d) => d.channel),
      deltas.map((d) => d.botId),
      deltas.map((d) => d.hour),
      deltas.map((d) => d.scale),
      deltas.map((d) => d.rated),
      deltas.map((d) => d.score),
      ...counterColumns(deltas),
    ],
    PREPARED,
  );
}

async function upsertDimRollups(q: SqlQueryable, s: string, deltas: DimDelta[]): Promise<void> {
  await q.query(
    `INSERT INTO ${s}.survey_dim_rollup AS r (dim, value, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     SELECT u.dim, u.value, to_timestamp(u.hour_ms / 1000), u.scale, u.rated, u.score, u.dialogues, u.offered, u.answered, u.declined, u.surveys, u.commented
     FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::bool[], $6::float8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[])
       AS u(dim, value, hour_ms, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     ORDER BY 1, 2, 3, 4, 5, 6
     ON CONFLICT (dim, value, hour, scale, rated, score) DO UPDATE SET ${ADD_COUNTERS}`,
    [
      deltas.map((d) => d.dim),
      deltas.map((d) => d.value),
      deltas.map((d) => d.hour),
      deltas.map((d) => d.scale),
      deltas.map((d) => d.rated),
      deltas.map((d) => d.score),
      ...counterColumns(deltas),
    ],
    PREPARED,
  );
}

/**
 * Records further metrics' answers: inserted in (survey, metric) order, a redelivered one skipped
 * by the primary key, and only what was inserted added to survey_metric_rollup (8 groupings).
 */
async function applyMetricEvents(q: SqlQueryable, s: string, events: readonly SurveyEvent[]): Promise<void> {
  const byKey = new Map<string, SurveyEvent>();
  for (const e of events) {
    const m = e.metric;
    if (!m) throw new Error(`metric event for survey ${e.surveyId} without its metric; the producer must set one`);
    const key = `${e.surveyId}\0${m.name}`;
    if (!byKey.has(key)) byKey.set(key, e);
  }
  const rows = [...byKey.values()].sort((a, b) => (a.surveyId < b.surveyId ? -1 : a.surveyId > b.surveyId ? 1 : a.metric!.name < b.metric!.name ? -1 : 1));
  const inserted = await q.query<{ survey_id: string; metric: string }>(
    `INSERT INTO ${s}.survey_metric (survey_id, metric, scale, value, scenario_id, channel, bot_id, dialogue_started_at, recorded_at)
     SELECT u.survey_id, u.metric, u.scale, u.value, u.scenario_id, u.channel, u.bot_id, to_timestamp(u.started_ms / 1000), to_timestamp(u.at_ms / 1000)
     FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[])
       AS u(survey_id, metric, scale, value, scenario_id, channel, bot_id, started_ms, at_ms)
     ORDER BY u.survey_id, u.metric
     ON CONFLICT (survey_id, metric) DO NOTHING
     RETURNING survey_id, metric`,
    [
      rows.map((e) => e.surveyId),
      rows.map((e) => e.metric!.name),
      rows.map((e) => e.metric!.scale),
      rows.map((e) => e.metric!.value),
      rows.map((e) => e.scenarioId),
      rows.map((e) => e.channel),
      rows.map((e) => e.botId),
      rows.map((e) => e.dialogueStartedAt),
      rows.map((e) => e.at),
    ],
    PREPARED,
  );
  if (inserted.length === 0) return;
  const sums = new Map<string, { metric: string; dims: number; scenarioId: string; channel: string; botId: string; hour: number; scale: string; value: number; n: number }>();
  for (const r of inserted) {
    const e = byKey.get(`${r.survey_id}\0${r.metric}`)!;
    const hour = Math.floor(e.dialogueStartedAt / HOUR_MS) * HOUR_MS;
    for (const dims of GROUPINGS) {
      const scenarioId = dims & 1 ? e.scenarioId : "";
      const channel = dims & 2 ? e.channel : "";
      const botId = dims & 4 ? e.botId : "";
      const key = `${r.metric}\0${dims}\0${scenarioId}\0${channel}\0${botId}\0${hour}\0${e.metric!.scale}\0${e.metric!.value}`;
      const d = sums.get(key);
      if (d) d.n++;
      else sums.set(key, { metric: r.metric, dims, scenarioId, channel, botId, hour, scale: e.metric!.scale, value: e.metric!.value, n: 1 });
    }
  }
  const deltas = [...sums.values()];
  await q.query(
    `INSERT INTO ${s}.survey_metric_rollup AS r (metric, dims, scenario_id, channel, bot_id, hour, scale, value, responses)
     SELECT u.metric, u.dims, u.scenario_id, u.channel, u.bot_id, to_timestamp(u.hour_ms / 1000), u.scale, u.value, u.responses
     FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::float8[], $9::int8[])
       AS u(metric, dims, scenario_id, channel, bot_id, hour_ms, scale, value, responses)
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
     ON CONFLICT (metric, dims, scenario_id, channel, bot_id, hour, scale, value) DO UPDATE SET responses = r.responses + excluded.responses`,
    [
      deltas.map((d) => d.metric),
      deltas.map((d) => d.dims),
      deltas.map((d) => d.scenarioId),
      deltas.map((d) => d.channel),
      deltas.map((d) => d.botId),
      deltas.map((d) => d.hour),
      deltas.map((d) => d.scale),
      deltas.map((d) => d.value),
      deltas.map((d) => d.n),
    ],
    PREPARED,
  );
}
