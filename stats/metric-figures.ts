/**
 * The figures of further metrics (`statistic__set {type: metric}`), each with the formula of its
 * scale (stats/events.ts MetricScale), from aggregated rows — the same arithmetic whichever the
 * store read (survey_metric_rollup, or the survey_metric rows):
 * - `nps_0_10`: promoters (9–10), passives (7–8), detractors (0–6) and `score` = (promoters −
 *   detractors) / responses × 100, from −100 to 100, with the shares' Wilson intervals.
 * - `ces_1_7`: `score` = the average effort (1–7) with its 95 % interval; `agree` = share of 5–7.
 * - `yes_no`: `score` = the share of yes (1) with its Wilson interval.
 * - `csat_1_5`: `score` = the average with its interval; `cdsat` = share of 1–2 (Wilson).
 * Every metric has `responses`, `distribution` (value → answers) and a trend of `score` per point.
 */
import type { MetricScale } from "./events.ts";
import { wilsonInterval, Z95, type Interval } from "./intervals.ts";

/** One aggregated row: answers of one metric × value in one trend point. */
export interface MetricRow {
  metric: string;
  scale: string;
  bucket: string;
  value: number;
  responses: number;
}

export interface MetricFigures {
  name: string;
  scale: MetricScale;
  responses: number;
  /** The scale's headline: NPS −100…100, CES average, yes share 0–1, CSAT average; null without answers. */
  score: number | null;
  scoreInterval: Interval | null;
  average: number | null;
  distribution: Record<string, number>;
  /** nps_0_10 only. */
  promoters?: number;
  passives?: number;
  detractors?: number;
  /** ces_1_7 only: share of 5–7. */
  agree?: number | null;
  /** csat_1_5 only: share of 1–2. */
  cdsat?: number | null;
  cdsatInterval?: Interval | null;
  trend: { date: string; responses: number; score: number | null }[];
}

interface Tally {
  n: number;
  sum: number;
  squares: number;
  byValue: Map<number, number>;
}

function tally(rows: readonly MetricRow[]): Tally {
  const t: Tally = { n: 0, sum: 0, squares: 0, byValue: new Map() };
  for (const r of rows) {
    t.n += r.responses;
    t.sum += r.value * r.responses;
    t.squares += r.value * r.value * r.responses;
    t.byValue.set(r.value, (t.byValue.get(r.value) ?? 0) + r.responses);
  }
  return t;
}

const count = (t: Tally, lo: number, hi: number) => [...t.byValue].reduce((n, [v, c]) => (v >= lo && v <= hi ? n + c : n), 0);

function meanInterval(t: Tally): Interval | null {
  if (t.n < 2) return null;
  const mean = t.sum / t.n;
  const variance = Math.max(0, (t.squares - t.n * mean * mean) / (t.n - 1));
  const half = Z95 * Math.sqrt(variance / t.n);
  return { low: mean - half, high: mean + half };
}

function headline(scale: MetricScale, t: Tally): number | null {
  if (t.n === 0) return null;
  switch (scale) {
    case "nps_0_10":
      return ((count(t, 9, 10) - count(t, 0, 6)) / t.n) * 100;
    case "yes_no":
      return count(t, 1, 1) / t.n;
    case "ces_1_7":
    case "csat_1_5":
      return t.sum / t.n;
  }
}

/**
 * NPS's interval: the score's standard error from the promoter and detractor shares
 * (√((p + d − (p − d)²) / n) × 100), the usual normal approximation.
 */
function npsInterval(t: Tally): Interval | null {
  if (t.n < 2) return null;
  const p = count(t, 9, 10) / t.n;
  const d = count(t, 0, 6) / t.n;
  const score = (p - d) * 100;
  const half = Z95 * Math.sqrt(Math.max(0, p + d - (p - d) * (p - d)) / t.n) * 100;
  return { low: Math.max(-100, score - half), high: Math.min(100, score + half) };
}

/** Every metric's figures from its rows; `buckets` are the trend's points in order. Pure. */
export function computeMetrics(rows: readonly MetricRow[], buckets: readonly string[]): MetricFigures[] {
  const byMetric = new Map<string, MetricRow[]>();
  for (const r of rows) {
    // A metric renamed to another scale keeps its answers apart: name and scale make one metric.
    const key = `${r.metric}\0${r.scale}`;
    const list = byMetric.get(key);
    if (list) list.push(r);
    else byMetric.set(key, [r]);
  }
  const out: MetricFigures[] = [];
  for (const list of byMetric.values()) {
    const first = list[0] as MetricRow;
    const scale = first.scale as MetricScale;
    const t = tally(list);
    if (t.n === 0) continue;
    const distribution: Record<string, number> = {};
    for (const [v, c] of [...t.byValue].sort(([a], [b]) => a - b)) if (c > 0) distribution[String(v)] = c;
    const m: MetricFigures = {
      name: first.metric,
      scale,
      responses: t.n,
      score: headline(scale, t),
      scoreInterval: scale === "nps_0_10" ? npsInterval(t) : scale === "yes_no" ? wilsonInterval(count(t, 1, 1), t.n) : meanInterval(t),
      average: t.sum / t.n,
      distribution,
      trend: [],
    };
    if (scale === "nps_0_10") Object.assign(m, { promoters: count(t, 9, 10), passives: count(t, 7, 8), detractors: count(t, 0, 6) });
    if (scale === "ces_1_7") m.agree = count(t, 5, 7) / t.n;
    if (scale === "csat_1_5") {
      m.cdsat = count(t, 1, 2) / t.n;
      m.cdsatInterval = wilsonInterval(count(t, 1, 2), t.n);
    }
    const byBucket = new Map<string, MetricRow[]>();
    for (const r of list) {
      const b = byBucket.get(r.bucket);
      if (b) b.push(r);
      else byBucket.set(r.bucket, [r]);
    }
    m.trend = buckets.map((date) => {
      const bt = tally(byBucket.get(date) ?? []);
      return { date, responses: bt.n, score: headline(scale, bt) };
    });
    out.push(m);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.scale < b.scale ? -1 : 1));
}
