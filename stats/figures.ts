/**
 * The CSAT figures, computed from aggregated rows (hourly rollups or, the naive way, survey
 * rows grouped by day) — the same arithmetic whichever the store read.
 *
 * What is counted (a dialogue belongs to the day its dialogue started, in the query's zone):
 * - `dialogues`: dialogues the statistics know of (any survey event arrived for them).
 * - `offered`: dialogues whose rating keyboard was offered (or answered or declined).
 * - `answered`: dialogues where a rating was given (the reference's "accepted").
 * - `declined`: dialogues where the rating was skipped, timed out or refused, and never given.
 * - `surveys`: completed surveys — `statistic__set {type: quality}` recorded a rating, a
 *   comment, or both, as in the reference product where only that action saves CSAT.
 *   `rated` of them have a rating, `commented` a non-empty comment.
 * - `average`: mean of the recorded ratings of completed surveys (null when none, or when
 *   the period mixes scales: then see `scales` for one average per scale).
 * - `csat`: the CSAT score, the industry-standard headline (Zendesk, Chatwoot, most helpdesks):
 *   the share of satisfied ratings, 4–5 on a 1–5 scale (the "top-two-box"). On another keyboard
 *   scale min–max a rating is satisfied in the top quarter of its range, ≥ min + ¾ · (max − min):
 *   👍 = 100 on a 0/100 or 0/50/100 keyboard, 6–7 on 1–7, 8–10 on 0–10. Each rating is judged on
 *   its own scale, so the score is defined when a period mixes scales; ratings whose scale is not
 *   known yet are left out (`notes` says so). Null without such ratings.
 * - `cdsat`: share of ratings 1–2 among ratings on a 1–5 scale (fraction 0–1).
 * - `nps`: ((ratings 4–5) − (ratings 1–2)) / ratings, on a 1–5 scale (fraction −1–1).
 *   Both are null when the period has no rating on a 1–5 scale; `notes` says why.
 * - `distribution`: recorded value → number of completed surveys rated with it.
 * - `responseRate` = answered / offered; `surveyPercentage` = surveys / dialogues
 *   (fractions; null when the divisor is 0).
 * - `averageInterval`, `csatInterval`, `cdsatInterval`: 95 % confidence intervals, so three answers
 *   are not read as a verdict: the average's is mean ± 1.96 · s / √n (s the sample standard
 *   deviation; null below 2 ratings), the CSAT score's and CDSAT's the Wilson score interval.
 * - `trend`: the same counters per day, per ISO week (starting Monday) or per month, whichever
 *   keeps the points few (`trendGranularity`: days up to 92 days, weeks up to 735, then
 *   months; at most 121 points as periods are at most ten years). The first and last week or
 *   month hold only the period's days; a point's `date` is the day, Monday or first of month.
 */
import type { StatsFilter, TrendGranularity } from "./figures-query.ts";
import { wilsonInterval, Z95, type Interval } from "./intervals.ts";
import type { MetricFigures } from "./metric-figures.ts";

export { wilsonInterval, type Interval } from "./intervals.ts";

export type { FiguresQuery, TrendGranularity } from "./figures-query.ts";

/** The counters a rollup row (and a survey's contribution to it) carries. */
export interface RollupCounters {
  dialogues: number;
  offered: number;
  answered: number;
  declined: number;
  surveys: number;
  commented: number;
}

/** One aggregated row: counters of one trend point (a local day, week or month) × rated value. */
export interface FiguresRow extends RollupCounters {
  /** The point's first local day, "YYYY-MM-DD". */
  bucket: string;
  scale: string;
  rated: boolean;
  score: number;
}

export interface Counters extends RollupCounters {
  rated: number;
}

export interface ScaleFigures {
  /** "min-max" of the keyboard, or "" for ratings whose scale is not known yet. */
  scale: string;
  rated: number;
  average: number | null;
  distribution: Record<string, number>;
}

export interface TrendPoint extends Counters {
  /** The day, the Monday that starts the week, or the first of the month, "YYYY-MM-DD". */
  date: string;
  average: number | null;
  csat: number | null;
  cdsat: number | null;
  nps: number | null;
  responseRate: number | null;
  surveyPercentage: number | null;
}

/** The rating figures of a period, or of one group of it, with their 95 % intervals. */
export interface RatingFigures extends Counters {
  average: number | null;
  averageInterval: Interval | null;
  /** The CSAT score: share of satisfied ratings (4–5 on 1–5; see the top of this file). */
  csat: number | null;
  csatInterval: Interval | null;
  cdsat: number | null;
  cdsatInterval: Interval | null;
  nps: number | null;
  responseRate: number | null;
  surveyPercentage: number | null;
  distribution: Record<string, number>;
  /** The ratings' scale: "1-5", another "min-max", "mixed", or null when nothing was rated. */
  scale: string | null;
}

export interface Figures extends RatingFigures {
  from: string;
  to: string;
  timeZone: string;
  filter: StatsFilter;
  scales: ScaleFigures[];
  trend: { granularity: TrendGranularity; points: TrendPoint[] };
  /** Why a figure is null or what it leaves out. */
  notes: string[];
  /** Where the figures came from: hourly rollups, or a scan of the survey rows. */
  source: "rollups" | "surveys";
  /** With `compare: "previous"`: the period of the same length just before, and the change since. */
  previous?: PeriodComparison;
  /** Further metrics recorded in the period (NPS, CES, yes/no; stats/metric-figures.ts), by name. */
  metrics: MetricFigures[];
}

/** The headline figures of the previous period, and this period's change from them (this − previous; null when either is null). */
export interface PeriodComparison {
  from: string;
  to: string;
  dialogues: number;
  surveys: number;
  rated: number;
  declined: number;
  average: number | null;
  csat: number | null;
  cdsat: number | null;
  nps: number | null;
  responseRate: number | null;
  surveyPercentage: number | null;
  change: {
    dialogues: number;
    surveys: number;
    declined: number;
    average: number | null;
    csat: number | null;
    cdsat: number | null;
    nps: number | null;
    responseRate: number | null;
    surveyPercentage: number | null;
  };
}

/** How `current` differs from `previous` (the figures of the period just before it). */
export function comparePeriods(current: Figures, previous: Figures): PeriodComparison {
  const delta = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  return {
    from: previous.from,
    to: previous.to,
    dialogues: previous.dialogues,
    surveys: previous.surveys,
    rated: previous.rated,
    declined: previous.declined,
    average: previous.average,
    csat: previous.csat,
    cdsat: previous.cdsat,
    nps: previous.nps,
    responseRate: previous.responseRate,
    surveyPercentage: previous.surveyPercentage,
    change: {
      dialogues: current.dialogues - previous.dialogues,
      surveys: current.surveys - previous.surveys,
      declined: current.declined - previous.declined,
      average: delta(current.average, previous.average),
      csat: delta(current.csat, previous.csat),
      cdsat: delta(current.cdsat, previous.cdsat),
      nps: delta(current.nps, previous.nps),
      responseRate: delta(current.responseRate, previous.responseRate),
      surveyPercentage: delta(current.surveyPercentage, previous.surveyPercentage),
    },
  };
}

export const FIVE_POINT_SCALE = "1-5";

/** Lowest satisfied rating of each scale key seen ("min-max" → min + ¾ · (max − min)); null for no usable scale. */
const satisfiedFrom = new Map<string, number | null>();

/** A survey's scale key (`min-max`, stats/store/survey-state.ts; "" when unknown) as numbers; null when it is none. */
export function parseScaleKey(key: string): { min: number; max: number } | null {
  const m = /^(-?[0-9.e+]+)-(-?[0-9.e+]+)$/i.exec(key);
  if (!m) return null;
  const min = Number(m[1]);
  const max = Number(m[2]);
  return Number.isFinite(min) && Number.isFinite(max) && min <= max ? { min, max } : null;
}

/**
 * The lowest rating that counts as satisfied on a scale ("1-5" → 4, "0-100" → 75, "0-10" → 7.5),
 * or null when the scale is unknown ("") or not a range (min ≥ max).
 */
export function satisfiedThreshold(scale: string): number | null {
  let t = satisfiedFrom.get(scale);
  if (t !== undefined) return t;
  const range = parseScaleKey(scale);
  t = range && range.min < range.max ? range.min + 0.75 * (range.max - range.min) : null;
  // Bounded: scale keys come from keyboards, a handful per deployment.
  if (satisfiedFrom.size < 1000) satisfiedFrom.set(scale, t);
  return t;
}

/** Whether a rating on `scale` is satisfied; null when its scale cannot say. */
function isSatisfied(scale: string, score: number): boolean | null {
  const t = satisfiedThreshold(scale);
  return t === null ? null : score >= t;
}

interface Summary extends Counters {
  average: number | null;
  averageInterval: Interval | null;
  csat: number | null;
  csatInterval: Interval | null;
  cdsat: number | null;
  cdsatInterval: Interval | null;
  /** Ratings on the 1–5 scale (CDSAT's and NPS's base). */
  fivePoint: number;
  nps: number | null;
  scales: ScaleFigures[];
  distribution: Record<string, number>;
  notes: string[];
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function valueKey(score: number): string {
  return String(score);
}

/** Counters and rating figures of a set of rows (a period, a day or a week). */
/** `detail` false (a group of a grouped query): no per-scale distributions, which a group does not show. */
function summarise(rows: readonly Omit<FiguresRow, "bucket">[], detail = true): Summary {
  const c: Counters = { dialogues: 0, offered: 0, answered: 0, declined: 0, surveys: 0, rated: 0, commented: 0 };
  const byScale = new Map<string, { rated: number; sum: number; distribution: Map<number, number> }>();
  const distribution = new Map<number, number>();
  for (const r of rows) {
    c.dialogues += r.dialogues;
    c.offered += r.offered;
    c.answered += r.answered;
    c.declined += r.declined;
    c.surveys += r.surveys;
    c.commented += r.commented;
    if (!r.rated || r.surveys === 0) continue;
    c.rated += r.surveys;
    let s = byScale.get(r.scale);
    if (!s) byScale.set(r.scale, (s = { rated: 0, sum: 0, distribution: new Map() }));
    s.rated += r.surveys;
    s.sum += r.score * r.surveys;
    s.distribution.set(r.score, (s.distribution.get(r.score) ?? 0) + r.surveys);
    distribution.set(r.score, (distribution.get(r.score) ?? 0) + r.surveys);
  }
  const notes: string[] = [];
  const scales = [...byScale.entries()]
    .filter(([, s]) => s.rated > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scale, s]) => ({ scale, rated: s.rated, average: s.sum / s.rated, distribution: detail ? toRecord(s.distribution) : {} }));
  const known = scales.filter((s) => s.scale !== "");
  const unknown = scales.find((s) => s.scale === "");
  let average: number | null = null;
  if (known.length > 1) {
    notes.push(`mixed scales (${known.map((s) => s.scale).join(", ")}): no single average; see scales for one average per scale`);
  } else if (c.rated > 0) {
    average = scales.reduce((sum, s) => sum + (s.average ?? 0) * s.rated, 0) / c.rated;
  }
  if (unknown) notes.push(`${unknown.rated} rating(s) have no known scale yet (their "offered" event has not been stored)`);
  // The CSAT score: every rating judged on its own scale.
  let judged = 0;
  let satisfied = 0;
  for (const [scale, sc] of byScale) {
    for (const [v, n] of sc.distribution) {
      const ok = isSatisfied(scale, v);
      if (ok === null) continue;
      judged += n;
      if (ok) satisfied += n;
    }
  }
  const csat = judged === 0 ? null : satisfied / judged;
  const csatInterval = judged === 0 ? null : wilsonInterval(satisfied, judged);
  if (judged > 0 && judged < c.rated) notes.push(`the CSAT score uses the ${judged} rating(s) on a known scale; ${c.rated - judged} are left out`);
  const five = byScale.get(FIVE_POINT_SCALE);
  let cdsat: number | null = null;
  let cdsatInterval: Interval | null = null;
  let nps: number | null = null;
  if (five && five.rated > 0) {
    let low = 0;
    let high = 0;
    for (const [v, n] of five.distribution) {
      if (v >= 1 && v <= 2) low += n;
      else if (v >= 4 && v <= 5) high += n;
    }
    cdsat = low / five.rated;
    cdsatInterval = wilsonInterval(low, five.rated);
    nps = (high - low) / five.rated;
    if (five.rated < c.rated) notes.push(`CDSAT and NPS use the ${five.rated} rating(s) on the 1-5 scale; ${c.rated - five.rated} on other scales are left out`);
  } else if (c.rated > 0) {
    notes.push(`CDSAT and NPS apply to the 1-5 scale only; the ratings here are on ${known.map((s) => s.scale).join(", ") || "an unknown scale"}`);
  } else {
    notes.push("no ratings: average, CSAT score, CDSAT and NPS are null");
  }
  const averageInterval = average === null ? null : meanInterval(distribution, c.rated, average);
  return { ...c, average, averageInterval, csat, csatInterval, cdsat, cdsatInterval, fivePoint: five?.rated ?? 0, nps, scales, distribution: toRecord(distribution), notes };
}

/** mean ± z · s / √n from a value → count distribution (s with n − 1); null below 2 values. */
function meanInterval(distribution: ReadonlyMap<number, number>, n: number, mean: number): Interval | null {
  if (n < 2) return null;
  let squares = 0;
  for (const [v, count] of distribution) squares += count * (v - mean) * (v - mean);
  const half = Z95 * Math.sqrt(squares / (n - 1) / n);
  return { low: mean - half, high: mean + half };
}

function toRecord(m: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [v, n] of [...m.entries()].sort(([a], [b]) => a - b)) out[valueKey(v)] = n;
  return out;
}

/**
 * One trend point: the same counters and figures as `summarise`, without the per-scale detail
 * and notes, in one pass (a long period has ~120 points; this runs on the event loop).
 */
function point(date: string, rows: readonly FiguresRow[]): TrendPoint {
  let dialogues = 0, offered = 0, answered = 0, declined = 0, surveys = 0, commented = 0;
  let rated = 0, sum = 0, five = 0, low = 0, high = 0, judged = 0, satisfied = 0;
  let known: string | null = null;
  let mixed = false;
  for (const r of rows) {
    dialogues += r.dialogues;
    offered += r.offered;
    answered += r.answered;
    declined += r.declined;
    surveys += r.surveys;
    commented += r.commented;
    if (!r.rated || r.surveys === 0) continue;
    rated += r.surveys;
    sum += r.score * r.surveys;
    if (r.scale !== "") {
      if (known === null) known = r.scale;
      else if (known !== r.scale) mixed = true;
    }
    const ok = isSatisfied(r.scale, r.score);
    if (ok !== null) {
      judged += r.surveys;
      if (ok) satisfied += r.surveys;
    }
    if (r.scale === FIVE_POINT_SCALE) {
      five += r.surveys;
      if (r.score >= 1 && r.score <= 2) low += r.surveys;
      else if (r.score >= 4 && r.score <= 5) high += r.surveys;
    }
  }
  return {
    date,
    dialogues,
    offered,
    answered,
    declined,
    surveys,
    rated,
    commented,
    average: mixed || rated === 0 ? null : sum / rated,
    csat: judged === 0 ? null : satisfied / judged,
    cdsat: five === 0 ? null : low / five,
    nps: five === 0 ? null : (high - low) / five,
    responseRate: ratio(answered, offered),
    surveyPercentage: ratio(surveys, dialogues),
  };
}

/** The Monday of a "YYYY-MM-DD" day's ISO week. */
export function isoWeekStart(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - back * 86_400_000).toISOString().slice(0, 10);
}

/** The first day of every trend point from the one holding `first` to the one holding `last` ("YYYY-MM-DD"). */
export function trendBuckets(first: string, last: string, granularity: TrendGranularity): string[] {
  const out: string[] = [];
  const end = Date.parse(`${last}T00:00:00Z`);
  const start = granularity === "week" ? isoWeekStart(first) : granularity === "month" ? `${first.slice(0, 7)}-01` : first;
  for (let d = new Date(`${start}T00:00:00Z`); d.getTime() <= end; ) {
    out.push(d.toISOString().slice(0, 10));
    if (granularity === "month") d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    else d = new Date(d.getTime() + (granularity === "week" ? 7 : 1) * 86_400_000);
  }
  return out;
}

export interface FiguresMeta {
  from: number;
  to: number;
  timeZone: string;
  filter: StatsFilter;
  granularity: TrendGranularity;
  /** The first day of every trend point, in order (trendBuckets). */
  buckets: string[];
  source: "rollups" | "surveys";
}

/** Computes every figure from aggregated rows; pure, shared by every store. */
export function computeFigures(rows: readonly FiguresRow[], meta: FiguresMeta): Figures {
  const s = summarise(rows);
  const byBucket = new Map<string, FiguresRow[]>();
  for (const r of rows) {
    const list = byBucket.get(r.bucket);
    if (list) list.push(r);
    else byBucket.set(r.bucket, [r]);
  }
  const points = meta.buckets.map((b) => point(b, byBucket.get(b) ?? []));
  const known = s.scales.filter((x) => x.scale !== "");
  return {
    from: new Date(meta.from).toISOString(),
    to: new Date(meta.to).toISOString(),
    timeZone: meta.timeZone,
    filter: meta.filter,
    surveys: s.surveys,
    average: s.average,
    averageInterval: s.averageInterval,
    csat: s.csat,
    csatInterval: s.csatInterval,
    cdsat: s.cdsat,
    cdsatInterval: s.cdsatInterval,
    distribution: s.distribution,
    responseRate: ratio(s.answered, s.offered),
    surveyPercentage: ratio(s.surveys, s.dialogues),
    declined: s.declined,
    nps: s.nps,
    trend: { granularity: meta.granularity, points },
    dialogues: s.dialogues,
    offered: s.offered,
    answered: s.answered,
    rated: s.rated,
    commented: s.commented,
    scale: s.rated === 0 ? null : known.length > 1 ? "mixed" : (known[0]?.scale ?? ""),
    scales: s.scales,
    notes: s.notes,
    source: meta.source,
    metrics: [],
  };
}

/** The figures of one value of the dimension a query is grouped by; `surveys` is its sample size. */
export interface GroupFigures extends RatingFigures {
  value: string;
}

export interface GroupedFigures {
  from: string;
  to: string;
  timeZone: string;
  filter: StatsFilter;
  groupBy: string;
  /** Largest first (surveys, then dialogues), then by value. */
  groups: GroupFigures[];
  /** Values left out beyond the query's limit. */
  truncated: number;
  source: "rollups" | "surveys";
}

/** One aggregated row of a grouped query: the group's counters × rated value over the period. */
export interface GroupRow extends RollupCounters {
  value: string;
  scale: string;
  rated: boolean;
  score: number;
}

/** The figures of each group from its rows; pure, shared by every store. */
export function computeGroups(rows: readonly GroupRow[], limit: number): { groups: GroupFigures[]; truncated: number } {
  // The rows as they are (summarise reads no bucket): a copy per row was most of the cost for 1,000 values.
  const byValue = new Map<string, GroupRow[]>();
  for (const r of rows) {
    const list = byValue.get(r.value);
    if (list) list.push(r);
    else byValue.set(r.value, [r]);
  }
  const groups = [...byValue.entries()].map(([value, list]): GroupFigures => {
    const s = summarise(list, false);
    const known = s.scales.filter((x) => x.scale !== "");
    return {
      value,
      dialogues: s.dialogues,
      offered: s.offered,
      answered: s.answered,
      declined: s.declined,
      surveys: s.surveys,
      rated: s.rated,
      commented: s.commented,
      average: s.average,
      averageInterval: s.averageInterval,
      csat: s.csat,
      csatInterval: s.csatInterval,
      cdsat: s.cdsat,
      cdsatInterval: s.cdsatInterval,
      nps: s.nps,
      responseRate: ratio(s.answered, s.offered),
      surveyPercentage: ratio(s.surveys, s.dialogues),
      distribution: s.distribution,
      scale: s.rated === 0 ? null : known.length > 1 ? "mixed" : (known[0]?.scale ?? ""),
    };
  });
  groups.sort((a, b) => b.surveys - a.surveys || b.dialogues - a.dialogues || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  return { groups: groups.slice(0, limit), truncated: Math.max(0, groups.length - limit) };
}
