/**
 * Figures tests on a generated data set (figures-dataset.ts), run against every store:
 * every figure, per day and per week, in three time zones (UTC and America/New_York read
 * the rollups, Asia/Kolkata's half-hour offset the survey rows), with filters, empty
 * periods, a single survey, non-1–5 and mixed scales. Events arrive shuffled, duplicated
 * and redelivered in batches.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Figures } from "../../stats/figures.ts";
import type { StatsFilter } from "../../stats/figures-query.ts";
import { dimDayFold } from "../../stats/store/migrations.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { expectedFigures, expectedMetrics, generateSurveys, localDay, mondayOf, prng, type Expected, type PlannedSurvey } from "./figures-dataset.ts";
import { shuffled } from "./store-contract.ts";
import { fullSurvey, surveyEvent, type StoreBackend } from "./store-harness.ts";

const SURVEYS = 3000;

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t < Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

function pickExpected(f: Figures): Partial<Expected> {
  const keys = ["dialogues", "offered", "answered", "declined", "surveys", "rated", "commented", "average", "csat", "cdsat", "nps", "responseRate", "surveyPercentage", "distribution", "scale"] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in f) out[k] = (f as unknown as Record<string, unknown>)[k];
  return out as Partial<Expected>;
}

/** Floats computed in a different order differ in the last bits: compare rounded. */
function rounded<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === "number" ? Math.round(x * 1e9) / 1e9 : x))) as T;
}

function hasDimension(p: PlannedSurvey, name: string, value: string): boolean {
  if (!p.dims) return false;
  if (name === "tags") return p.dims.tags.includes(value);
  return (p.dims as unknown as Record<string, unknown>)[name] === value;
}

function matches(p: PlannedSurvey, f: StatsFilter): boolean {
  return (
    (f.scenarioId === undefined || p.scenarioId === f.scenarioId) &&
    (f.channel === undefined || p.channel === f.channel) &&
    (f.botId === undefined || p.botId === f.botId) &&
    Object.entries(f.dimensions ?? {}).every(([name, value]) => hasDimension(p, name, value))
  );
}

/** The values of a dimension the plan's surveys have (a tag list: each tag). */
function valuesOf(p: PlannedSurvey, name: string): string[] {
  if (!p.dims) return [];
  return name === "tags" ? p.dims.tags : [String((p.dims as unknown as Record<string, unknown>)[name])];
}

/** The 95 % intervals by their textbook formulas, computed here from the plan. */
function expectedIntervals(ps: readonly PlannedSurvey[]) {
  const z = 1.959963984540054;
  const rated = ps.filter((p) => p.ratedScore !== null).map((p) => p.ratedScore!);
  const scales = new Set(ps.filter((p) => p.ratedScore !== null && p.scale !== "").map((p) => p.scale));
  let average: { low: number; high: number } | null = null;
  if (rated.length >= 2 && scales.size <= 1) {
    const mean = rated.reduce((a, b) => a + b, 0) / rated.length;
    const sd = Math.sqrt(rated.reduce((a, v) => a + (v - mean) ** 2, 0) / (rated.length - 1));
    average = { low: mean - (z * sd) / Math.sqrt(rated.length), high: mean + (z * sd) / Math.sqrt(rated.length) };
  }
  const wilson = (k: number, n: number) => {
    if (n === 0) return null;
    const phat = k / n;
    const centre = (phat + (z * z) / (2 * n)) / (1 + (z * z) / n);
    const half = (z / (1 + (z * z) / n)) * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n));
    return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
  };
  const five = ps.filter((p) => p.ratedScore !== null && p.scale === "1-5");
  const cdsat = wilson(five.filter((p) => p.ratedScore! <= 2).length, five.length);
  // The CSAT score's: 4–5 of 1–5 and 👍 (100) of 0/100, each rating on its own scale.
  const judged = ps.filter((p) => p.ratedScore !== null && (p.scale === "1-5" || p.scale === "0-100"));
  const csat = wilson(judged.filter((p) => (p.scale === "1-5" ? p.ratedScore! >= 4 : p.ratedScore === 100)).length, judged.length);
  return { averageInterval: average, csatInterval: csat, cdsatInterval: cdsat };
}

export function describeFiguresSuite(backend: StoreBackend): void {
  afterAll(async () => backend.shutdown());
  describe(`figures on a generated data set: ${backend.name}`, () => {
    let store: SqlSurveyStore;
    let cleanup: () => Promise<void>;
    const plan = generateSurveys(SURVEYS, 20260301);

    beforeAll(async () => {
      ({ store, cleanup } = await backend.open());
      const rnd = prng(7);
      const events = plan.flatMap((p) => p.events);
      // 10% duplicates, everything shuffled (completed before answered, etc.), random batch sizes.
      const delivered = shuffled([...events, ...events.filter(() => rnd() < 0.1)], 42);
      for (let i = 0; i < delivered.length; ) {
        const size = 1 + Math.floor(rnd() * 1000);
        await store.apply(delivered.slice(i, i + size));
        i += size;
      }
      // A redelivered stretch, as after a worker was killed before acknowledging.
      await store.apply(delivered.slice(1000, 1500));
    }, 120_000);
    afterAll(async () => cleanup());

    const cases: { tz: string; source: "rollups" | "surveys"; from: string; to: string; filter: StatsFilter }[] = [
      { tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: {} },
      { tz: "America/New_York", source: "rollups", from: "2026-03-02", to: "2026-03-16", filter: {} },
      { tz: "America/New_York", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: { channel: "teams" } },
      { tz: "UTC", source: "rollups", from: "2026-03-10", to: "2026-03-24", filter: { scenarioId: "csat", botId: "b1" } },
      { tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: { scenarioId: "thumbs" } },
      { tz: "Europe/Kyiv", source: "rollups", from: "2026-03-25", to: "2026-04-02", filter: { scenarioId: "support", channel: "whatsapp", botId: "" } },
      { tz: "Asia/Kolkata", source: "surveys", from: "2026-03-05", to: "2026-03-20", filter: {} },
      { tz: "Asia/Kolkata", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: { scenarioId: "thumbs", channel: "telegram" } },
      // One dimension value alone reads its rollup; with other filters, the survey rows.
      { tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: { dimensions: { agent: "agent-3" } } },
      { tz: "America/New_York", source: "rollups", from: "2026-03-02", to: "2026-03-23", filter: { dimensions: { team: "billing" } } },
      { tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: { dimensions: { tags: "billing=late" } } },
      { tz: "Europe/Kyiv", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: { scenarioId: "csat", dimensions: { team: "tech" } } },
      { tz: "UTC", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: { dimensions: { team: "sales", tags: "vip" } } },
      { tz: "Asia/Kolkata", source: "surveys", from: "2026-03-03", to: "2026-03-30", filter: { dimensions: { agent: "agent-7" } } },
    ];

    for (const c of cases) {
      it(`every figure, and per day: ${c.tz} ${c.from}..${c.to} ${JSON.stringify(c.filter)}`, async () => {
        const f = await store.figures({ from: c.from, to: c.to, timeZone: c.tz, ...c.filter });
        const inPeriod = plan.filter((p) => matches(p, c.filter) && localDay(p.startedAt, c.tz) >= c.from && localDay(p.startedAt, c.tz) < c.to);
        expect(inPeriod.length).toBeGreaterThan(20);
        expect(f.source).toBe(c.source);
        expect(rounded(pickExpected(f))).toEqual(rounded(expectedFigures(inPeriod)));
        expect(rounded({ averageInterval: f.averageInterval, csatInterval: f.csatInterval, cdsatInterval: f.cdsatInterval })).toEqual(rounded(expectedIntervals(inPeriod)));
        // Further metrics, each by its scale's formula; the metrics' trend per day too.
        const metricKeys = ["name", "scale", "responses", "average", "distribution", "score", "promoters", "passives", "detractors", "agree"];
        const pickMetric = (m: object) => Object.fromEntries(Object.entries(m).filter(([k]) => metricKeys.includes(k)));
        expect(rounded(f.metrics.map(pickMetric))).toEqual(rounded(expectedMetrics(inPeriod)));
        for (const m of f.metrics) {
          for (const point of m.trend) {
            const exp = expectedMetrics(inPeriod.filter((p) => localDay(p.startedAt, c.tz) === point.date)).find((x) => x.name === m.name);
            expect(rounded({ responses: point.responses, score: point.score })).toEqual(rounded({ responses: exp?.responses ?? 0, score: exp?.score ?? null }));
          }
        }
        expect(f.filter).toEqual(c.filter);

        const periodDays = days(c.from, c.to);
        expect(f.trend.granularity).toBe("day");
        expect(f.trend.points.map((d) => d.date)).toEqual(periodDays);
        for (const d of f.trend.points) {
          const exp: Record<string, unknown> = { ...expectedFigures(inPeriod.filter((p) => localDay(p.startedAt, c.tz) === d.date)) };
          const { date, ...counters } = d;
          expect(date).toBe(d.date);
          expect(rounded(counters)).toEqual(rounded(Object.fromEntries(Object.keys(counters).map((k) => [k, exp[k]]))));
        }
        // The naive scan over survey rows agrees with whatever path answered.
        const naive = await store.figures({ from: c.from, to: c.to, timeZone: c.tz, ...c.filter, source: "surveys" });
        expect(rounded({ ...naive, source: f.source })).toEqual(rounded(f));
      });
    }

    // Longer periods get weekly, then monthly points; the data (March 2026) sits inside both.
    const long: { granularity: "week" | "month"; from: string; to: string; bucketOf: (day: string) => string }[] = [
      { granularity: "week", from: "2026-01-07", to: "2026-06-01", bucketOf: mondayOf },
      { granularity: "month", from: "2024-12-15", to: "2027-01-01", bucketOf: (d) => `${d.slice(0, 7)}-01` },
    ];
    for (const l of long) {
      for (const c of cases.filter((x, i) => i % 3 === 0 || x.tz === "Asia/Kolkata")) {
        it(`per ${l.granularity} over ${l.from}..${l.to}: ${c.tz} ${JSON.stringify(c.filter)}`, async () => {
          const f = await store.figures({ from: l.from, to: l.to, timeZone: c.tz, ...c.filter });
          expect(f.trend.granularity).toBe(l.granularity);
          expect(f.source).toBe(c.source);
          const periodDays = days(l.from, l.to);
          const buckets = [...new Set(periodDays.map(l.bucketOf))];
          expect(f.trend.points.map((w) => w.date)).toEqual(buckets);
          expect(f.trend.points.length).toBeLessThanOrEqual(130);
          const inPeriod = plan.filter((p) => matches(p, c.filter));
          expect(rounded(pickExpected(f))).toEqual(rounded(expectedFigures(inPeriod)));
          for (const w of f.trend.points) {
            const exp = expectedFigures(inPeriod.filter((p) => l.bucketOf(localDay(p.startedAt, c.tz)) === w.date));
            expect(rounded({ surveys: w.surveys, dialogues: w.dialogues, average: w.average, csat: w.csat, cdsat: w.cdsat, nps: w.nps, declined: w.declined })).toEqual(
              rounded({ surveys: exp.surveys, dialogues: exp.dialogues, average: exp.average, csat: exp.csat, cdsat: exp.cdsat, nps: exp.nps, declined: exp.declined }),
            );
          }
          const naive = await store.figures({ from: l.from, to: l.to, timeZone: c.tz, ...c.filter, source: "surveys" });
          expect(rounded({ ...naive, source: f.source })).toEqual(rounded(f));
        });
      }
    }

    const grouped: { groupBy: string; tz: string; source: "rollups" | "surveys"; from: string; to: string; filter: StatsFilter }[] = [
      { groupBy: "agent", tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: {} },
      { groupBy: "tags", tz: "America/New_York", source: "rollups", from: "2026-03-05", to: "2026-03-26", filter: {} },
      { groupBy: "team", tz: "UTC", source: "rollups", from: "2026-03-01", to: "2026-04-01", filter: {} },
      { groupBy: "agent", tz: "Europe/Kyiv", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: { dimensions: { team: "billing" } } },
      { groupBy: "tags", tz: "UTC", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: { channel: "teams" } },
      { groupBy: "agent", tz: "Asia/Kolkata", source: "surveys", from: "2026-03-01", to: "2026-04-01", filter: {} },
    ];
    for (const g of grouped) {
      it(`every figure grouped by ${g.groupBy}: ${g.tz} ${g.from}..${g.to} ${JSON.stringify(g.filter)}`, async () => {
        const got = await store.groupedFigures({ groupBy: g.groupBy, from: g.from, to: g.to, timeZone: g.tz, ...g.filter });
        expect(got.source).toBe(g.source);
        const inPeriod = plan.filter((p) => matches(p, g.filter) && localDay(p.startedAt, g.tz) >= g.from && localDay(p.startedAt, g.tz) < g.to);
        const values = [...new Set(inPeriod.flatMap((p) => valuesOf(p, g.groupBy)))];
        expect(values.length).toBeGreaterThan(2);
        const expected = values.map((value) => {
          const ps = inPeriod.filter((p) => valuesOf(p, g.groupBy).includes(value));
          return { value, ...expectedFigures(ps), ...expectedIntervals(ps) };
        });
        expected.sort((a, b) => b.surveys - a.surveys || b.dialogues - a.dialogues || (a.value < b.value ? -1 : 1));
        const pick = (x: Record<string, unknown>) => ({ value: x.value, ...pickExpected(x as unknown as Figures), averageInterval: x.averageInterval, csatInterval: x.csatInterval, cdsatInterval: x.cdsatInterval });
        expect(rounded(got.groups.map((x) => pick(x as unknown as Record<string, unknown>)))).toEqual(rounded(expected.map((x) => pick(x as unknown as Record<string, unknown>))));
        expect(got.truncated).toBe(0);
        // The survey rows agree with the rollups; a limit keeps the largest groups.
        const naive = await store.groupedFigures({ groupBy: g.groupBy, from: g.from, to: g.to, timeZone: g.tz, ...g.filter, source: "surveys" });
        expect(rounded({ ...naive, source: got.source })).toEqual(rounded(got));
        const top = await store.groupedFigures({ groupBy: g.groupBy, from: g.from, to: g.to, timeZone: g.tz, ...g.filter, limit: 2 });
        expect(top.groups.map((x) => x.value)).toEqual(got.groups.slice(0, 2).map((x) => x.value));
        expect(top.truncated).toBe(got.groups.length - 2);
      });
    }

    for (const c of [
      { tz: "UTC", from: "2026-03-16", to: "2026-03-31", filter: {} as StatsFilter },
      { tz: "Europe/Kyiv", from: "2026-03-20", to: "2026-03-30", filter: { dimensions: { team: "support" } } as StatsFilter },
      { tz: "Asia/Kolkata", from: "2026-03-18", to: "2026-03-29", filter: { scenarioId: "csat" } as StatsFilter },
    ]) {
      it(`compares with the previous period of the same length: ${c.tz} ${c.from}..${c.to} ${JSON.stringify(c.filter)}`, async () => {
        const f = await store.figures({ from: c.from, to: c.to, timeZone: c.tz, ...c.filter, compare: "previous" });
        const length = Date.parse(f.to) - Date.parse(f.from);
        const prevFrom = Date.parse(f.from) - length;
        const inPeriod = (a: number, b: number) => plan.filter((p) => matches(p, c.filter) && p.startedAt >= a && p.startedAt < b);
        const now = expectedFigures(inPeriod(Date.parse(f.from), Date.parse(f.to)));
        const before = expectedFigures(inPeriod(prevFrom, Date.parse(f.from)));
        expect(before.surveys).toBeGreaterThan(10);
        const d = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
        expect(rounded(f.previous)).toEqual(
          rounded({
            from: new Date(prevFrom).toISOString(),
            to: f.from,
            dialogues: before.dialogues,
            surveys: before.surveys,
            rated: before.rated,
            declined: before.declined,
            average: before.average,
            csat: before.csat,
            cdsat: before.cdsat,
            nps: before.nps,
            responseRate: before.responseRate,
            surveyPercentage: before.surveyPercentage,
            change: {
              dialogues: now.dialogues - before.dialogues,
              surveys: now.surveys - before.surveys,
              declined: now.declined - before.declined,
              average: d(now.average, before.average),
              csat: d(now.csat, before.csat),
              cdsat: d(now.cdsat, before.cdsat),
              nps: d(now.nps, before.nps),
              responseRate: d(now.responseRate, before.responseRate),
              surveyPercentage: d(now.surveyPercentage, before.surveyPercentage),
            },
          }),
        );
        expect((await store.figures({ from: c.from, to: c.to, timeZone: c.tz, ...c.filter })).previous).toBeUndefined();
      });
    }

    it("the daily dimension rows apply maintains are the hourly ones folded into days, rated values by slot (dimDayFold, migration 11)", async () => {
      const query = { groupBy: "agent", from: "2026-03-01", to: "2026-04-01" };
      const maintained = await store.groupedFigures(query);
      const s = `"${store.schema}"`;
      const slots = await store.sql.query<{ slot: number; scale: string; score: number }>(`SELECT slot, scale, score FROM ${s}.survey_rating_slot ORDER BY slot`);
      expect(slots.length).toBeGreaterThan(1);
      // Each row's counts by rated value ("scale|score"), zeros left out: slot numbers are the store's own.
      const named = new Map(slots.map((r) => [Number(r.slot), `${r.scale}|${Number(r.score)}`]));
      const read = async () =>
        (await store.sql.query<{ dim: string; value: string; day: string; n: number; surveys: number; rated: number[] }>(
          `SELECT dim, value, day::text AS day, dialogues::float8 AS n, surveys::float8 AS surveys, rated FROM ${s}.survey_dim_day ORDER BY 1, 2, 3`,
        ))
          .map((r) => ({ ...r, rated: Object.fromEntries(r.rated.flatMap((c, i) => (Number(c) === 0 ? [] : [[named.get(i + 1), Number(c)]]))) }))
          .filter((r) => Number(r.n) !== 0 || Number(r.surveys) !== 0);
      const before = await read();
      expect(before.length).toBeGreaterThan(100);
      expect(before.some((r) => Object.keys(r.rated).length > 1)).toBe(true);
      await store.sql.transaction(async (q) => {
        await q.query(`DELETE FROM ${s}.survey_dim_day`);
        for (const sql of dimDayFold(s)) await q.query(sql);
      });
      expect(await read()).toEqual(before);
      expect(await store.groupedFigures(query)).toEqual(maintained);
    });

    it("searches the dialogue list by a dimension that is not rolled up (a ticket id), and shows the dimensions", async () => {
      const target = plan.find((p) => p.dims && p.dims.tags.length > 1)!;
      const page = await store.listDialogues({ dimensions: { ticket: target.dims!.ticket } });
      expect(page.rows.map((r) => r.surveyId)).toEqual([target.surveyId]);
      expect(page.rows[0]!.dimensions).toEqual({ agent: target.dims!.agent, team: target.dims!.team, ticket: target.dims!.ticket, tags: target.dims!.tags });
      // A ticket is stored and searchable, never rolled up: grouping by it reads the survey rows.
      const byTicket = await store.groupedFigures({ groupBy: "ticket", from: "2026-03-01", to: "2026-04-01", dimensions: { ticket: target.dims!.ticket } });
      expect(byTicket).toMatchObject({ source: "surveys", groups: [{ value: target.dims!.ticket, dialogues: 1 }] });
      const tickets = await store.groupedFigures({ groupBy: "ticket", from: "2026-03-01", to: "2026-04-01", limit: 5 });
      expect(tickets.source).toBe("surveys");
      expect(tickets.groups).toHaveLength(5);
      expect(tickets.truncated).toBe(plan.filter((p) => p.dims).length - 5);
    });

    it("refuses a period longer than ten years, and an empty one, naming the parameter", async () => {
      await expect(store.figures({ from: "2016-01-01", to: "2026-01-01" })).resolves.toMatchObject({ trend: { granularity: "month" } });
      await expect(store.figures({ from: "2015-12-31", to: "2026-01-01" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "from" });
      await expect(store.figures({ from: "0100-01-01", to: "2100-12-31" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "from" });
      await expect(store.figures({ from: "2026-03-02", to: "2026-03-01" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "to" });
      await expect(store.figures({ from: "2020-02-30", to: "2020-03-01" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "from" });
      await expect(store.figures({ from: "-000001-01-01T00:00:00Z" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "from" });
      await expect(store.figures({ to: Number.NaN })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "to" });
      await expect(store.listDialogues({ from: "2021-02-29" })).rejects.toMatchObject({ code: "STATS_QUERY_INVALID", parameter: "from" });
    });

    it("reports non-1–5 scales honestly: distribution and average of recorded values, no CDSAT or NPS", async () => {
      const f = await store.figures({ from: "2026-03-01", to: "2026-04-01", scenarioId: "thumbs" });
      expect(f.scale).toBe("0-100");
      expect(Object.keys(f.distribution).sort()).toEqual(["0", "100"]);
      expect(f.cdsat).toBeNull();
      expect(f.nps).toBeNull();
      expect(f.notes.join(" ")).toMatch(/CDSAT and NPS apply to the 1-5 scale only/);
      const all = await store.figures({ from: "2026-03-01", to: "2026-04-01" });
      expect(all.scale).toBe("mixed");
      expect(all.average).toBeNull();
      expect(all.notes.join(" ")).toMatch(/mixed scales \(0-100, 1-5\)/);
      expect(all.scales.map((s) => s.scale)).toEqual(["", "0-100", "1-5"]);
    });

    it("gives the CSAT score as the share of 4–5 on 1–5 and of 👍 on a 0/100 keyboard, each rating on its own scale when they mix", async () => {
      const five = await store.figures({ from: "2026-03-01", to: "2026-04-01", scenarioId: "csat" });
      // Ratings whose scale is not known yet (no offered event stored) are left out.
      const scale = five.scales.find((x) => x.scale === "1-5")!;
      const d = scale.distribution;
      const n = scale.rated;
      expect(five.scale).toBe("1-5");
      expect(five.csat).toBeCloseTo(((d["4"] ?? 0) + (d["5"] ?? 0)) / n, 12);
      // The headline beside the average: 4–5 share, 1–2 share and their difference (NPS-style) agree.
      expect(five.csat! - five.cdsat!).toBeCloseTo(five.nps!, 12);
      if (n < five.rated) expect(five.notes.join(" ")).toMatch(/the CSAT score uses the \d+ rating\(s\) on a known scale/);
      expect(five.csatInterval!.low).toBeLessThan(five.csat!);
      expect(five.csatInterval!.high).toBeGreaterThan(five.csat!);
      const thumbs = await store.figures({ from: "2026-03-01", to: "2026-04-01", scenarioId: "thumbs" });
      const thumbScale = thumbs.scales.find((x) => x.scale === "0-100")!;
      expect(thumbs.csat).toBeCloseTo(thumbScale.distribution["100"]! / thumbScale.rated, 12);
      const all = await store.figures({ from: "2026-03-01", to: "2026-04-01" });
      expect(all.scale).toBe("mixed");
      expect(all.average).toBeNull();
      const known = all.scales.filter((x) => x.scale !== "");
      const satisfied = known.reduce((a, x) => a + Object.entries(x.distribution).filter(([v]) => Number(v) >= (x.scale === "1-5" ? 4 : 75)).reduce((b, [, c]) => b + c, 0), 0);
      const judged = known.reduce((a, x) => a + x.rated, 0);
      expect(all.csat).toBeCloseTo(satisfied / judged, 12);
      if (judged < all.rated) expect(all.notes.join(" ")).toMatch(/the CSAT score uses the \d+ rating\(s\) on a known scale/);
      const empty = await store.figures({ from: "2027-01-01", to: "2027-01-03" });
      expect([empty.csat, empty.csatInterval]).toEqual([null, null]);
    });

    it("gives zeros and nulls for an empty period, and cuts a non-aligned period from the survey rows", async () => {
      const empty = await store.figures({ from: "2027-01-01", to: "2027-01-03", timeZone: "Europe/Kyiv" });
      expect(empty).toMatchObject({ dialogues: 0, surveys: 0, average: null, cdsat: null, nps: null, responseRate: null, surveyPercentage: null, distribution: {}, scale: null });
      expect(empty.trend.points.map((d) => [d.date, d.surveys])).toEqual([["2027-01-01", 0], ["2027-01-02", 0]]);
      const from = Date.UTC(2026, 2, 10, 10, 17);
      const to = Date.UTC(2026, 2, 12, 3, 5);
      const odd = await store.figures({ from, to });
      expect(odd.source).toBe("surveys");
      expect(rounded(pickExpected(odd))).toEqual(rounded(expectedFigures(plan.filter((p) => p.startedAt >= from && p.startedAt < to))));
    });
  });

  describe(`figures of a single survey: ${backend.name}`, () => {
    it("counts one rated survey exactly, in its local day", async () => {
      const { store, cleanup } = await backend.open();
      try {
        // 23:30 UTC on the 9th is the 10th in Kyiv.
        await store.apply(fullSurvey("one", 2, "too slow", { dialogueStartedAt: Date.UTC(2026, 2, 9, 23, 30) }));
        const utc = await store.figures({ from: "2026-03-09", to: "2026-03-11" });
        expect(utc).toMatchObject({ dialogues: 1, surveys: 1, rated: 1, average: 2, csat: 0, cdsat: 1, nps: -1, responseRate: 1, surveyPercentage: 1, declined: 0, distribution: { "2": 1 }, scale: "1-5" });
        expect(utc.trend.points.map((d) => d.surveys)).toEqual([1, 0]);
        const kyiv = await store.figures({ from: "2026-03-09", to: "2026-03-11", timeZone: "Europe/Kyiv" });
        expect(kyiv.trend.points.map((d) => d.surveys)).toEqual([0, 1]);
        expect((await store.figures({ from: "2026-03-09", to: "2026-03-10", timeZone: "Europe/Kyiv" })).surveys).toBe(0);
        await store.apply([surveyEvent("dialogue_started", "two", { dialogueStartedAt: Date.UTC(2026, 2, 9, 12) })]);
        expect(await store.figures({ from: "2026-03-09", to: "2026-03-10" })).toMatchObject({ dialogues: 2, surveys: 1, surveyPercentage: 0.5 });
      } finally {
        await cleanup();
      }
    });
  });
}
