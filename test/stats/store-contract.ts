/**
 * The contract every SurveyStore passes (store-pg.test.ts and store-pglite.test.ts run it):
 * migrations, the fold of each event kind and the reference product's display rules,
 * order independence, idempotency (same batch twice, duplicates, shuffled batches, two
 * stores writing at once), rollups equal to the naive scan, the keyset dialogue list, and the
 * start context and trigger id a triggered dialogue's survey records.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import type { DialogueRow } from "../../stats/store/survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { prng } from "./figures-dataset.ts";
import { fullSurvey, surveyEvent, type StoreBackend } from "./store-harness.ts";

const DAY = { from: "2026-03-10", to: "2026-03-11" };

/** Deterministic shuffle (mulberry32). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rnd = prng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function allRows(store: SqlSurveyStore): Promise<DialogueRow[]> {
  const rows: DialogueRow[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listDialogues({ limit: 1000, ...(cursor ? { cursor } : {}) });
    rows.push(...page.rows);
    if (!page.nextCursor) return rows;
    cursor = page.nextCursor;
  }
}

/** Everything observable of a store's state: rows, and figures from rollups and from the scan. */
async function snapshot(store: SqlSurveyStore) {
  const rows = (await allRows(store)).sort((a, b) => a.surveyId.localeCompare(b.surveyId));
  const figures = await store.figures(DAY);
  const naive = await store.figures({ ...DAY, source: "surveys" });
  return { rows, figures: { ...figures, source: undefined }, naive: { ...naive, source: undefined } };
}

function mixedBatch(): SurveyEvent[] {
  const evs: SurveyEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const id = `s${String(i).padStart(3, "0")}`;
    const o: Partial<SurveyEvent> = { channel: i % 3 === 0 ? "teams" : "telegram", botId: i % 4 === 0 ? "b2" : "", dialogueStartedAt: Date.UTC(2026, 2, 10, i % 24, i) };
    // Some dialogues were started by the trigger API: every event of theirs carries what started it.
    if (i % 7 === 0) Object.assign(o, { context: { agent: `agent${i % 3}`, ticket: `T-${i}` }, triggerId: `trg-${i}` });
    if (i % 5 === 0) evs.push(surveyEvent("dialogue_started", id, o));
    else if (i % 5 === 1) evs.push(surveyEvent("dialogue_started", id, o), surveyEvent("offered", id, o), surveyEvent("declined", id, { ...o, reason: "timeout" }));
    else if (i % 5 === 2) evs.push(...fullSurvey(id, (i % 5) + 1, undefined, o));
    else if (i % 5 === 3) evs.push(...fullSurvey(id, (i % 4) + 1, `comment ${i}`, o));
    else evs.push(surveyEvent("dialogue_started", id, o), surveyEvent("commented", id, { ...o, comment: "only words" }), surveyEvent("completed", id, { ...o, comment: "only words" }));
  }
  return evs;
}

export function describeSurveyStoreContract(backend: StoreBackend): void {
  describe(`SurveyStore contract: ${backend.name}`, () => {
    let store: SqlSurveyStore;
    let peer: () => Promise<SqlSurveyStore>;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, peer, cleanup } = await backend.open());
    });
    afterEach(async () => cleanup());
    afterAll(async () => backend.shutdown());

    it("migrates once when several stores start at once, and again is a no-op", async () => {
      const { stores, cleanup: drop } = await backend.openUnmigrated(4);
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        await stores[0]!.migrate();
        await stores[1]!.apply(fullSurvey("m1", 5, undefined));
        expect((await stores[2]!.figures(DAY)).surveys).toBe(1);
      } finally {
        await drop();
      }
    });

    it("records a rating without a comment with an empty comment", async () => {
      await store.apply(fullSurvey("a", 4, undefined));
      const [row] = (await store.listDialogues({})).rows;
      expect(row).toMatchObject({ surveyId: "a", offered: true, accepted: true, denied: false, completed: true, score: 4, scale: "1-5", comment: "", scenarioId: "csat", channel: "telegram" });
    });

    it("records a comment without a rating as a comment only, and neither as the offered flag only", async () => {
      await store.apply([
        surveyEvent("dialogue_started", "c"),
        surveyEvent("commented", "c", { comment: "slow answers" }),
        surveyEvent("completed", "c", { comment: "slow answers" }),
        surveyEvent("dialogue_started", "n"),
        surveyEvent("offered", "n"),
      ]);
      const rows = (await store.listDialogues({})).rows.sort((a, b) => a.surveyId.localeCompare(b.surveyId));
      expect(rows[0]).toMatchObject({ surveyId: "c", score: null, comment: "slow answers", completed: true, accepted: false });
      expect(rows[1]).toMatchObject({ surveyId: "n", score: null, comment: null, completed: false, offered: true, accepted: false, denied: false });
      const f = await store.figures(DAY);
      expect(f).toMatchObject({ dialogues: 2, offered: 1, answered: 0, surveys: 1, rated: 0, commented: 1, average: null });
    });

    it("stores a survey whose text the database cannot hold (U+0000, lone surrogates) cleaned, rating and all, and says so", async () => {
      // As a producer that does not clean (an older web process, a hand-made job) would send them.
      await store.apply([
        ...fullSurvey("nul", 2, "bad\u0000nul", { conversationId: "c\u00001" }),
        ...fullSurvey("sur", 4, "lone \ud800 high \udc00 low", { reason: "x\ud800" }),
        ...fullSurvey("ok", 5, "👨‍👩‍👧 fine"),
      ]);
      const rows = (await store.listDialogues({})).rows.sort((a, b) => a.surveyId.localeCompare(b.surveyId));
      expect(rows.map((r) => [r.surveyId, r.score, r.comment, r.commentSanitized])).toEqual([
        ["nul", 2, "badnul", true],
        ["ok", 5, "👨‍👩‍👧 fine", false],
        ["sur", 4, "lone \uFFFD high \uFFFD low", true],
      ]);
      expect(rows[0]!.conversationId).toBe("c1");
      const f = await store.figures(DAY);
      expect(f).toMatchObject({ surveys: 3, rated: 3, commented: 3, distribution: { "2": 1, "4": 1, "5": 1 } });
      expect(f.average).toBeCloseTo(11 / 3, 10);
    });

    it("records a decline with its reason, and an answer overrides a decline", async () => {
      await store.apply([surveyEvent("offered", "d"), surveyEvent("declined", "d", { reason: "timeout" }), surveyEvent("declined", "e"), surveyEvent("answered", "e", { score: 2 })]);
      const rows = (await store.listDialogues({})).rows.sort((a, b) => a.surveyId.localeCompare(b.surveyId));
      expect(rows[0]).toMatchObject({ surveyId: "d", denied: true, deniedReason: "timeout", accepted: false });
      expect(rows[1]).toMatchObject({ surveyId: "e", denied: false, deniedReason: null, accepted: true, score: 2, completed: false });
      expect(await store.figures(DAY)).toMatchObject({ declined: 1, answered: 1, offered: 2, surveys: 0 });
    });

    it("ends in the same state whatever order a survey's events arrive in", async () => {
      const events = fullSurvey("o", 2, "meh", { context: { agent: "olena", team: "billing" }, triggerId: "trg-o" });
      const orders = [events, [...events].reverse(), shuffled(events, 7), shuffled(events, 99)];
      const states = [];
      for (const [i, order] of orders.entries()) {
        const { store: s, cleanup: c } = await backend.open();
        try {
          for (const e of order) await s.apply([e]);
          if (i === 0) await s.apply(order); // and a full redelivery on top
          states.push(await snapshot(s));
        } finally {
          await c();
        }
      }
      for (const st of states.slice(1)) expect(st).toEqual(states[0]);
      expect(states[0]!.figures).toMatchObject({ surveys: 1, rated: 1, average: 2, cdsat: 1, nps: -1, distribution: { "2": 1 } });
      expect(states[0]!.rows[0]).toMatchObject({ context: { agent: "olena", team: "billing" }, triggerId: "trg-o" });
    });

    it("counts an event once when applied twice, duplicated in a batch, or redelivered in shuffled batches", async () => {
      const events = mixedBatch();
      await store.apply(events);
      const once = await snapshot(store);
      await store.apply(events);
      await store.apply([...events, ...events]);
      expect(await snapshot(store)).toEqual(once);

      const { store: other, cleanup: c } = await backend.open();
      try {
        const redelivered = shuffled([...events, ...events.slice(0, 40), ...events.slice(100)], 3);
        for (let i = 0; i < redelivered.length; i += 17) await other.apply(redelivered.slice(i, i + 17));
        expect(await snapshot(other)).toEqual(once);
      } finally {
        await c();
      }
      expect(once.figures).toEqual(once.naive);
      expect(once.figures).toMatchObject({ dialogues: 60, declined: 12, surveys: 36, commented: 24 });
      expect(once.rows.filter((r) => r.triggerId !== null).map((r) => [r.surveyId, r.triggerId, r.context])).toEqual(
        [0, 7, 14, 21, 28, 35, 42, 49, 56].map((i) => [`s${String(i).padStart(3, "0")}`, `trg-${i}`, { agent: `agent${i % 3}`, ticket: `T-${i}` }]),
      );
    });

    it("keeps the first payload when the same job id arrives twice with different content", async () => {
      await store.apply([surveyEvent("answered", "f", { score: 5 })]);
      await store.apply([surveyEvent("answered", "f", { score: 1 }), surveyEvent("completed", "f", { score: 5, comment: "" })]);
      expect((await store.listDialogues({})).rows[0]).toMatchObject({ score: 5 });
      expect((await store.figures(DAY)).distribution).toEqual({ "5": 1 });
    });

    it("stays exact when two stores apply overlapping batches at the same time", async () => {
      const events = mixedBatch();
      const a = shuffled(events, 11);
      const b = shuffled(events, 12);
      const second = await peer();
      const writes: Promise<void>[] = [];
      for (let i = 0; i < a.length; i += 9) {
        writes.push(store.apply(a.slice(i, i + 9)));
        writes.push(second.apply(b.slice(i, i + 9)));
      }
      await Promise.all(writes);
      const { store: ref, cleanup: c } = await backend.open();
      try {
        await ref.apply(events);
        expect(await snapshot(store)).toEqual(await snapshot(ref));
      } finally {
        await c();
      }
    });

    it("lists dialogues newest first in keyset pages, with filters and bounds", async () => {
      await store.apply(mixedBatch());
      const all = await allRows(store);
      expect(all).toHaveLength(60);
      for (let i = 1; i < all.length; i++) {
        const [p, c] = [all[i - 1]!, all[i]!];
        expect(p.dialogueStartedAt > c.dialogueStartedAt || (p.dialogueStartedAt === c.dialogueStartedAt && p.surveyId > c.surveyId)).toBe(true);
      }
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listDialogues({ limit: 7, channel: "teams", ...(cursor ? { cursor } : {}) });
        expect(page.rows.length).toBeLessThanOrEqual(7);
        paged.push(...page.rows.map((r) => r.surveyId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(paged).toEqual(all.filter((r) => r.channel === "teams").map((r) => r.surveyId));
      const noon = await store.listDialogues({ from: Date.UTC(2026, 2, 10, 12), to: Date.UTC(2026, 2, 10, 13), limit: 100 });
      expect(noon.rows.map((r) => r.surveyId).sort()).toEqual(all.filter((r) => new Date(r.dialogueStartedAt).getUTCHours() === 12).map((r) => r.surveyId).sort());
      const surveys = await store.listDialogues({ surveysOnly: true, botId: "b2", limit: 100 });
      expect(surveys.rows.every((r) => r.completed && r.botId === "b2")).toBe(true);
      expect(surveys.rows.length).toBe(all.filter((r) => r.completed && r.botId === "b2").length);
      await expect(store.listDialogues({ cursor: "nonsense" })).rejects.toThrow(/invalid dialogue-list cursor/);
    });

    it("records a triggered dialogue's start context and trigger id: the first writer's, kept when later events lack them", async () => {
      const A = { agent: "olena", team: "billing", ticket: "T-1234", attempt: 2, vip: true, note: 'says "hi", then 👋\nbye' };
      const B = { agent: "someone-else" };
      // t1: its first event says A; later ones say nothing, or something else: A stays.
      await store.apply([surveyEvent("dialogue_started", "t1", { context: A, triggerId: "trg-1" })]);
      await store.apply([
        surveyEvent("offered", "t1"),
        surveyEvent("answered", "t1", { score: 5 }),
        surveyEvent("completed", "t1", { score: 5, comment: "", context: B, triggerId: "trg-other" }),
      ]);
      // t2: in one batch, the first event lacks them (an older web process), a later one has them.
      await store.apply([surveyEvent("dialogue_started", "t2"), surveyEvent("offered", "t2", { context: A, triggerId: "trg-2" })]);
      // t3: stored before the producer sent them; a later event fills the gap.
      await store.apply([surveyEvent("dialogue_started", "t3")]);
      await store.apply([surveyEvent("declined", "t3", { reason: "timeout", context: B, triggerId: "trg-3" })]);
      // t4: a redelivered event changes nothing, these columns included.
      await store.apply([surveyEvent("dialogue_started", "t4")]);
      await store.apply([surveyEvent("dialogue_started", "t4", { context: B, triggerId: "trg-4" })]);
      // t5: text jsonb cannot hold is cleaned, not a failed batch; u: a dialogue the user started.
      await store.apply([surveyEvent("dialogue_started", "t5", { context: { agent: "ol\u0000ena", team: "x\ud800" }, triggerId: "trg-5" }), ...fullSurvey("u", 3, undefined)]);

      const rows = new Map((await allRows(store)).map((r) => [r.surveyId, r]));
      expect(rows.get("t1")).toMatchObject({ context: A, triggerId: "trg-1", score: 5, completed: true });
      expect(rows.get("t2")).toMatchObject({ context: A, triggerId: "trg-2", offered: true });
      expect(rows.get("t3")).toMatchObject({ context: B, triggerId: "trg-3", denied: true, deniedReason: "timeout" });
      expect(rows.get("t4")).toMatchObject({ context: null, triggerId: null });
      expect(rows.get("t5")).toMatchObject({ context: { agent: "olena", team: "x\uFFFD" }, triggerId: "trg-5" });
      expect(rows.get("u")).toMatchObject({ context: null, triggerId: null, score: 3 });

      expect((await store.listDialogues({ triggerId: "trg-1" })).rows.map((r) => r.surveyId)).toEqual(["t1"]);
      expect((await store.listDialogues({ triggerId: "trg-other" })).rows).toEqual([]);
      expect((await store.listDialogues({ triggerId: "trg-3", surveysOnly: true })).rows).toEqual([]);
      // What started a dialogue is no filter dimension: the figures count every survey as before.
      expect(await store.figures(DAY)).toMatchObject({ dialogues: 6, surveys: 2, declined: 1 });
    });

    it("defaults to the last 30 days in the zone, today included, by the injected clock", async () => {
      const { store: s, cleanup: c } = await backend.open({ now: () => Date.UTC(2026, 2, 10, 23, 30) });
      try {
        await s.apply(fullSurvey("today", 5, undefined, { dialogueStartedAt: Date.UTC(2026, 2, 10, 20) }));
        const utc = await s.figures({});
        expect(utc).toMatchObject({ from: "2026-02-09T00:00:00.000Z", to: "2026-03-11T00:00:00.000Z", surveys: 1 });
        expect(utc.trend.points).toHaveLength(30);
        // 23:30 UTC is already the 11th in Kyiv: the period moves with the zone.
        const kyiv = await s.figures({ timeZone: "Europe/Kyiv" });
        expect(kyiv).toMatchObject({ from: "2026-02-09T22:00:00.000Z", to: "2026-03-11T22:00:00.000Z", surveys: 1 });
        expect(kyiv.trend.points.at(-1)?.date).toBe("2026-03-11");
      } finally {
        await c();
      }
    });

    /** Surveys of three agents over three days on two scales (1–5 and 👍/👎 0–100), one rating changed. */
    const agentSurveys = (): SurveyEvent[] => {
      const out: SurveyEvent[] = [];
      for (let i = 0; i < 24; i++) {
        const o = { dialogueStartedAt: Date.UTC(2026, 2, 10 + (i % 3), 9 + (i % 5)), dimensions: { agent: `a-${i % 3}` }, rolledUp: ["agent"] };
        if (i % 4 === 3) out.push(...fullSurvey(`t${i}`, i % 2 === 0 ? 100 : 0, undefined, { ...o }).map((e) => (e.kind === "offered" ? { ...e, scale: { min: 0, max: 100 } } : e)));
        else out.push(...fullSurvey(`s${i}`, 1 + (i % 5), i % 2 ? "ok" : undefined, o));
      }
      out.push(surveyEvent("answered", "s1", { dialogueStartedAt: Date.UTC(2026, 2, 11, 10), at: Date.UTC(2026, 2, 11, 11), score: 5, dimensions: { agent: "a-1" }, rolledUp: ["agent"] }));
      return out;
    };
    const THREE_DAYS = { groupBy: "agent", from: "2026-03-10", to: "2026-03-13" };

    it("groups by a dimension from the daily rows (rated values by slot) exactly as from the survey rows, also when another store numbered a rated value", async () => {
      await store.apply(agentSurveys());
      const rolled = await store.groupedFigures(THREE_DAYS);
      expect(rolled.source).toBe("rollups");
      expect(rolled.groups.map((g) => g.value).sort()).toEqual(["a-0", "a-1", "a-2"]);
      expect({ ...(await store.groupedFigures({ ...THREE_DAYS, source: "surveys" })), source: "rollups" }).toEqual(rolled);
      // A second store (another worker) folds a rated value this one has never seen: its first
      // grouped read finds a slot it does not know, reads the slots again and counts it.
      const other = await peer();
      await other.apply(fullSurvey("late", 3, undefined, { dialogueStartedAt: Date.UTC(2026, 2, 12, 8), dimensions: { agent: "a-0" }, rolledUp: ["agent"] }).map((e) => (e.kind === "offered" ? { ...e, scale: { min: 1, max: 3 } } : e)));
      const after = await store.groupedFigures(THREE_DAYS);
      expect({ ...(await other.groupedFigures({ ...THREE_DAYS, source: "surveys" })), source: "rollups" }).toEqual(after);
      expect(after.groups.find((g) => g.value === "a-0")!.surveys).toBe(rolled.groups.find((g) => g.value === "a-0")!.surveys + 1);
    });

    it("upgrades a store of migration 10 (the daily distribution as jsonb) to the rating slots with the same grouped figures", async () => {
      await store.apply(agentSurveys());
      const expected = await store.groupedFigures(THREE_DAYS);
      const s = `"${store.schema}"`;
      // The schema as migration 10 left it: survey_dim_day rebuilt by its own fold, no slots.
      await store.sql.transaction(async (q) => {
        await q.query(`DROP TABLE ${s}.survey_dim_day`);
        await q.query(`DROP TABLE ${s}.survey_rating_slot`);
        await q.query(`DROP FUNCTION ${s}.rating_slots_dense(integer[], bigint[])`);
        await q.query(`DROP FUNCTION ${s}.rating_slots_add(bigint[], bigint[])`);
        await q.query(`DELETE FROM ${s}.survey_migration WHERE version >= 10`);
      });
      const upgraded = await peer();
      const dist = await upgraded.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'survey_dim_day' AND column_name = 'dist'`, [store.schema]);
      expect(dist[0]!.n).toBe(0);
      expect(await upgraded.groupedFigures(THREE_DAYS)).toEqual(expected);
      // The upgraded store keeps folding onto the converted rows.
      await upgraded.apply(fullSurvey("after", 2, undefined, { dialogueStartedAt: Date.UTC(2026, 2, 11, 12), dimensions: { agent: "a-2" }, rolledUp: ["agent"] }));
      expect({ ...(await upgraded.groupedFigures({ ...THREE_DAYS, source: "surveys" })), source: "rollups" }).toEqual(await upgraded.groupedFigures(THREE_DAYS));
    });

    it("rejects an unknown time zone and an empty period with a clear error", async () => {
      await expect(store.figures({ ...DAY, timeZone: "Mars/Olympus" })).rejects.toThrow(/unknown time zone "Mars\/Olympus": use an IANA zone name/);
      await expect(store.figures({ from: "2026-03-11", to: "2026-03-10" })).rejects.toThrow(/empty period/);
      await expect(store.figures({ from: "March", to: "2026-03-10" })).rejects.toThrow(/from "March" must be a day \(YYYY-MM-DD\) or an ISO timestamp/);
      expect((await store.figures({ ...DAY, timeZone: "europe/kyiv" })).timeZone).toBe("Europe/Kyiv");
    });
  });
}
