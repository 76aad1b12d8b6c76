/**
 * `SurveyStore.apply` in SQL both drivers run: one transaction, a fixed number of
 * multi-row statements whatever the batch size.
 *
 * 1. Insert the batch's missing survey rows (empty event set), in survey-id order.
 * 2. Lock the batch's survey rows (`FOR UPDATE`, survey-id order) and read their event sets.
 * 3. In TypeScript: add the new events (kinds already present are skipped: that is the
 *    processed-event record, keyed by survey id + kind = the job id) and derive the row.
 * 4. Update the changed rows from arrays (`unnest`).
 * 5. Add to the rollups the difference between each survey's new and old contribution,
 *    aggregated per rollup key, upserted in key order.
 *
 * Locks are always taken in the same order (survey ids, then rollup keys), so concurrent
 * batches from several workers on overlapping surveys wait for each other instead of
 * deadlocking, and a survey's rollup contribution is always moved under its row lock:
 * the rollups never count a survey twice, whatever the interleaving or redelivery.
 */
import type { SurveyEvent } from "../events.ts";
import type { SqlQueryable } from "./sql-client.ts";
import { contributionOf, deriveSurvey, mergeEvents, type Contribution, type StoredEvents } from "./survey-state.ts";

const HOUR_MS = 3_600_000;
/** Rollup groupings: bit 1 keeps the scenario, 2 the channel, 4 the bot. */
const GROUPINGS = [0, 1, 2, 3, 4, 5, 6, 7] as const;

interface LockedRow {
  survey_id: string;
  scenario_id: string;
  channel: string;
  bot_id: string;
  started_ms: number;
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

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function checkEvent(e: SurveyEvent): void {
  if (typeof e.surveyId !== "string" || e.surveyId === "") throw new Error(`survey event without a surveyId (kind ${String(e.kind)}); the producer must set one`);
  if (!Number.isFinite(e.dialogueStartedAt) || !Number.isFinite(e.at)) {
    throw new Error(`survey event ${e.surveyId}.${e.kind} has no valid dialogueStartedAt/at (epoch ms); the producer must set both`);
  }
}

/** Applies one batch inside the caller's transaction. */
export async function applySurveyEvents(q: SqlQueryable, s: string, events: readonly SurveyEvent[]): Promise<void> {
  if (events.length === 0) return;
  const bySurvey = new Map<string, SurveyEvent[]>();
  for (const e of events) {
    checkEvent(e);
    const list = bySurvey.get(e.surveyId);
    if (list) list.push(e);
    else bySurvey.set(e.surveyId, [e]);
  }
  const ids = [...bySurvey.keys()];
  const firsts = ids.map((id) => bySurvey.get(id)![0]!);
  await q.query(
    `INSERT INTO ${s}.survey (survey_id, scenario_id, scenario_version, channel, bot_id, conversation_id, dialogue_started_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) ORDER BY 1
     ON CONFLICT (survey_id) DO NOTHING`,
    [
      ids,
      firsts.map((e) => e.scenarioId),
      firsts.map((e) => e.scenarioVersion),
      firsts.map((e) => e.channel),
      firsts.map((e) => e.botId),
      firsts.map((e) => e.conversationId),
      firsts.map((e) => iso(e.dialogueStartedAt)),
    ],
  );
  const locked = await q.query<LockedRow>(
    `SELECT survey_id, scenario_id, channel, bot_id, (extract(epoch FROM dialogue_started_at) * 1000)::float8 AS started_ms, events
     FROM ${s}.survey WHERE survey_id = ANY($1::text[]) ORDER BY survey_id FOR UPDATE`,
    [ids],
  );

  const updates: { id: string; events: StoredEvents }[] = [];
  const deltas = new Map<string, RollupDelta>();
  for (const row of locked) {
    const before = row.events ?? {};
    const after = mergeEvents(before, bySurvey.get(row.survey_id) ?? []);
    if (!after) continue; // every event of this survey was applied before
    updates.push({ id: row.survey_id, events: after });
    const hour = Math.floor(Number(row.started_ms) / HOUR_MS) * HOUR_MS;
    addContribution(deltas, row, hour, contributionOf(before), -1);
    addContribution(deltas, row, hour, contributionOf(after), +1);
  }
  if (updates.length > 0) await updateSurveys(q, s, updates);
  const changed = [...deltas.values()].filter((d) => d.counts.some((n) => n !== 0));
  if (changed.length > 0) await upsertRollups(q, s, changed);
}

function addContribution(deltas: Map<string, RollupDelta>, row: LockedRow, hour: number, c: Contribution, sign: 1 | -1): void {
  if (c.dialogues === 0) return;
  const counts = [c.dialogues, c.offered, c.answered, c.declined, c.surveys, c.commented] as const;
  for (const dims of GROUPINGS) {
    const scenarioId = dims & 1 ? row.scenario_id : "";
    const channel = dims & 2 ? row.channel : "";
    const botId = dims & 4 ? row.bot_id : "";
    const rated = c.score !== null;
    const score = c.score ?? 0;
    const key = JSON.stringify([dims, scenarioId, channel, botId, hour, c.scale, rated, score]);
    let d = deltas.get(key);
    if (!d) deltas.set(key, (d = { dims, scenarioId, channel, botId, hour, scale: c.scale, rated, score, counts: [0, 0, 0, 0, 0, 0] }));
    for (let i = 0; i < counts.length; i++) d.counts[i]! += sign * counts[i]!;
  }
}

async function updateSurveys(q: SqlQueryable, s: string, updates: { id: string; events: StoredEvents }[]): Promise<void> {
  const derived = updates.map((u) => deriveSurvey(u.events));
  await q.query(
    `UPDATE ${s}.survey AS t SET
       events = u.events::jsonb, offered = u.offered, accepted = u.accepted, denied = u.denied, denied_reason = u.denied_reason,
       completed = u.completed, score = u.score, scale = u.scale, comment = u.comment, offered_at = u.offered_at,
       answered_at = u.answered_at, declined_at = u.declined_at, completed_at = u.completed_at, updated_at = now()
     FROM unnest($1::text[], $2::text[], $3::bool[], $4::bool[], $5::bool[], $6::text[], $7::bool[], $8::float8[], $9::text[], $10::text[],
                 $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[])
       AS u(survey_id, events, offered, accepted, denied, denied_reason, completed, score, scale, comment, offered_at, answered_at, declined_at, completed_at)
     WHERE t.survey_id = u.survey_id`,
    [
      updates.map((u) => u.id),
      updates.map((u) => JSON.stringify(u.events)),
      derived.map((d) => d.offered),
      derived.map((d) => d.accepted),
      derived.map((d) => d.denied),
      derived.map((d) => d.deniedReason),
      derived.map((d) => d.completed),
      derived.map((d) => d.score),
      derived.map((d) => d.scale),
      derived.map((d) => d.comment),
      derived.map((d) => iso(d.offeredAt)),
      derived.map((d) => iso(d.answeredAt)),
      derived.map((d) => iso(d.declinedAt)),
      derived.map((d) => iso(d.completedAt)),
    ],
  );
}

async function upsertRollups(q: SqlQueryable, s: string, deltas: RollupDelta[]): Promise<void> {
  const col = (i: number) => deltas.map((d) => d.counts[i]!);
  await q.query(
    `INSERT INTO ${s}.survey_rollup AS r (dims, scenario_id, channel, bot_id, hour, scale, rated, score, dialogues, offered, answered, declined, surveys, commented)
     SELECT * FROM unnest($1::int2[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::bool[], $8::float8[],
                          $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[])
     ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
     ON CONFLICT (dims, scenario_id, channel, bot_id, hour, scale, rated, score) DO UPDATE SET
       dialogues = r.dialogues + excluded.dialogues, offered = r.offered + excluded.offered, answered = r.answered + excluded.answered,
       declined = r.declined + excluded.declined, surveys = r.surveys + excluded.surveys, commented = r.commented + excluded.commented`,
    [
      deltas.map((d) => d.dims),
      deltas.map((d) => d.scenarioId),
      deltas.map((d) => d.channel),
      deltas.map((d) => d.botId),
      deltas.map((d) => iso(d.hour)),
      deltas.map((d) => d.scale),
      deltas.map((d) => d.rated),
      deltas.map((d) => d.score),
      col(0),
      col(1),
      col(2),
      col(3),
      col(4),
      col(5),
    ],
  );
}
