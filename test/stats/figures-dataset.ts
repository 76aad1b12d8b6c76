/**
 * A generated survey data set for the figures tests, and the expected figures computed from
 * the generator's plan in plain TypeScript — independently of the store's fold, SQL and
 * stats/figures.ts (days are cut with Intl, not PostgreSQL).
 */
import type { SurveyEvent } from "../../stats/events.ts";

export interface PlannedSurvey {
  surveyId: string;
  scenarioId: string;
  channel: string;
  botId: string;
  startedAt: number;
  events: SurveyEvent[];
  offered: boolean;
  answered: boolean;
  declined: boolean;
  completed: boolean;
  /** Completed with a rating: counted in average / distribution. */
  ratedScore: number | null;
  /** Scale of the rating as the offered event said; "" when no offered event. */
  scale: string;
  commented: boolean;
  /** The dimensions its offered event froze (agent, team, tags, ticket); undefined without an offered event. */
  dims?: { agent: string; team: string; tags: string[]; ticket: string };
  /** Further metrics answered (statistic__set {type: metric}): NPS 0–10, CES 1–7, resolved yes (1) / no (0). */
  metrics: { nps?: number; ces?: number; resolved?: number };
}

export const METRICS = { nps: "nps_0_10", ces: "ces_1_7", resolved: "yes_no" } as const;

export const AGENTS = Array.from({ length: 12 }, (_, i) => `agent-${i}`);
export const TEAMS = ["billing", "support", "sales", "tech"];
export const TAGS = ["urgent", "refund", "vip", "bug", "how-to", "billing=late"];

/** mulberry32: small, seeded, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCENARIOS = [
  { id: "csat", scale: { min: 1, max: 5 }, values: [1, 2, 3, 4, 5] },
  { id: "support", scale: { min: 1, max: 5 }, values: [1, 2, 3, 4, 5] },
  { id: "thumbs", scale: { min: 0, max: 100 }, values: [0, 100] },
];
const CHANNELS = ["telegram", "teams", "whatsapp"];
const BOTS = ["", "b1"];
export const DATA_START = Date.UTC(2026, 2, 1);
export const DATA_DAYS = 31;

/** `n` planned dialogues across March 2026 (both DST changes), every outcome the pipeline knows. */
export function generateSurveys(n: number, seed: number): PlannedSurvey[] {
  const rnd = prng(seed);
  // Dimensions from a generator of their own, so the rest of the data set is what it always was.
  const drnd = prng(seed ^ 0x5eed);
  const mrnd = prng(seed ^ 0x3e7c);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: PlannedSurvey[] = [];
  for (let i = 0; i < n; i++) {
    const sc = pick(SCENARIOS);
    const base = {
      surveyId: `g${i}`,
      scenarioId: sc.id,
      scenarioVersion: rnd() < 0.5 ? "v1" : "v2",
      channel: pick(CHANNELS),
      botId: pick(BOTS),
      conversationId: `c${i}`,
      dialogueStartedAt: DATA_START + Math.floor(rnd() * DATA_DAYS * 86_400_000),
    };
    const at = (k: number) => base.dialogueStartedAt + k * 30_000;
    const ev = (kind: SurveyEvent["kind"], k: number, extra: Partial<SurveyEvent> = {}): SurveyEvent => ({ ...base, kind, at: at(k), ...extra });
    const score = pick(sc.values);
    const comment = `comment ${i}, "quoted"`;
    const p: PlannedSurvey = {
      surveyId: base.surveyId,
      scenarioId: sc.id,
      channel: base.channel,
      botId: base.botId,
      startedAt: base.dialogueStartedAt,
      events: [],
      offered: true,
      answered: false,
      declined: false,
      completed: false,
      ratedScore: null,
      scale: `${sc.scale.min}-${sc.scale.max}`,
      commented: false,
      metrics: {},
    };
    const r = rnd();
    const started = ev("dialogue_started", 0);
    const agent = Math.floor(drnd() * AGENTS.length);
    const dims = {
      agent: AGENTS[agent]!,
      team: TEAMS[agent % TEAMS.length]!,
      tags: TAGS.filter(() => drnd() < 0.3),
      ticket: `T-${1000 + i}`,
    };
    const frozen: Record<string, string | string[]> = { agent: dims.agent, team: dims.team, ticket: dims.ticket };
    if (dims.tags.length > 0) frozen.tags = dims.tags;
    const offered = ev("offered", 1, { scale: sc.scale, dimensions: frozen, rolledUp: ["agent", "team", ...(dims.tags.length > 0 ? ["tags"] : [])] });
    if (r < 0.18) {
      p.events = [started];
      p.offered = false;
      p.scale = "";
    } else if (r < 0.28) {
      p.events = [started, offered, ev("declined", 2, { reason: pick(["skipped", "timeout"]) })];
      p.declined = true;
    } else if (r < 0.33) {
      p.events = [started, offered];
    } else if (r < 0.68) {
      p.events = [started, offered, ev("answered", 2, { score }), ev("completed", 3, { score, comment: "" })];
      Object.assign(p, { answered: true, completed: true, ratedScore: score });
    } else if (r < 0.85) {
      p.events = [started, offered, ev("answered", 2, { score }), ev("commented", 3, { comment }), ev("completed", 4, { score, comment })];
      Object.assign(p, { answered: true, completed: true, ratedScore: score, commented: true });
    } else if (r < 0.9) {
      p.events = [started, offered, ev("declined", 2, { reason: "skipped" }), ev("commented", 3, { comment }), ev("completed", 4, { comment })];
      Object.assign(p, { declined: true, completed: true, commented: true });
    } else if (r < 0.96) {
      p.events = [started, offered, ev("answered", 2, { score })];
      p.answered = true;
    } else {
      // The offered event never reached the store: the rating's scale is unknown.
      p.events = [started, ev("answered", 2, { score }), ev("completed", 3, { score, comment: "" })];
      Object.assign(p, { answered: true, completed: true, ratedScore: score, scale: "" });
    }
    // Some dialogue_started events are lost; the dialogue still counts through its other events.
    if (p.events.length > 1 && rnd() < 0.05) p.events = p.events.slice(1);
    if (p.events.includes(offered)) p.dims = dims;
    // Further metrics on some completed surveys of the 1–5 scenarios (a survey with a thumbs scale asks none).
    if (p.completed && sc.id !== "thumbs") {
      const metric = (name: keyof typeof METRICS, value: number, k: number) => {
        p.metrics[name] = value;
        p.events.push(ev("metric", k, { metric: { name, scale: METRICS[name], value } }));
      };
      if (mrnd() < 0.6) metric("nps", Math.floor(mrnd() * 11), 5);
      if (mrnd() < 0.4) metric("ces", 1 + Math.floor(mrnd() * 7), 6);
      if (mrnd() < 0.5) metric("resolved", mrnd() < 0.7 ? 1 : 0, 7);
    }
    out.push(p);
  }
  return out;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar day of an instant in a zone, "YYYY-MM-DD", via Intl (not PostgreSQL). */
export function localDay(ms: number, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) dayFormats.set(timeZone, (f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })));
  return f.format(ms);
}

export function mondayOf(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  const weekday = new Date(t).getUTCDay(); // 0 Sunday
  const back = weekday === 0 ? 6 : weekday - 1;
  return new Date(t - back * 86_400_000).toISOString().slice(0, 10);
}

export interface Expected {
  dialogues: number;
  offered: number;
  answered: number;
  declined: number;
  surveys: number;
  rated: number;
  commented: number;
  average: number | null;
  csat: number | null;
  cdsat: number | null;
  nps: number | null;
  responseRate: number | null;
  surveyPercentage: number | null;
  distribution: Record<string, number>;
  scale: string | null;
}

/** The figures of a set of planned surveys, by the definitions in stats/figures.ts. */
export function expectedFigures(ps: readonly PlannedSurvey[]): Expected {
  const count = (f: (p: PlannedSurvey) => boolean) => ps.filter(f).length;
  const rated = ps.filter((p) => p.ratedScore !== null);
  const distribution: Record<string, number> = {};
  for (const p of [...rated].sort((a, b) => a.ratedScore! - b.ratedScore!)) distribution[String(p.ratedScore)] = (distribution[String(p.ratedScore)] ?? 0) + 1;
  const knownScales = [...new Set(rated.map((p) => p.scale).filter((s) => s !== ""))];
  const five = rated.filter((p) => p.scale === "1-5");
  const low = five.filter((p) => p.ratedScore! <= 2).length;
  const high = five.filter((p) => p.ratedScore! >= 4).length;
  // The CSAT score, written out for the data set's two scales: 4–5 of 1–5, 👍 (100) of 0/100.
  const judged = rated.filter((p) => p.scale === "1-5" || p.scale === "0-100");
  const satisfied = judged.filter((p) => (p.scale === "1-5" ? p.ratedScore! >= 4 : p.ratedScore === 100)).length;
  const offered = count((p) => p.offered);
  const dialogues = ps.length;
  const surveys = count((p) => p.completed);
  const answered = count((p) => p.answered);
  return {
    dialogues,
    offered,
    answered,
    declined: count((p) => p.declined && !p.answered),
    surveys,
    rated: rated.length,
    commented: count((p) => p.commented),
    average: rated.length === 0 || knownScales.length > 1 ? null : rated.reduce((s, p) => s + p.ratedScore!, 0) / rated.length,
    csat: judged.length === 0 ? null : satisfied / judged.length,
    cdsat: five.length === 0 ? null : low / five.length,
    nps: five.length === 0 ? null : (high - low) / five.length,
    responseRate: offered === 0 ? null : answered / offered,
    surveyPercentage: dialogues === 0 ? null : surveys / dialogues,
    distribution,
    scale: rated.length === 0 ? null : knownScales.length > 1 ? "mixed" : (knownScales[0] ?? ""),
  };
}

/** The further metrics of a set of planned surveys, by the formulas in stats/metric-figures.ts, computed here. */
export function expectedMetrics(ps: readonly PlannedSurvey[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const name of ["ces", "nps", "resolved"] as const) {
    const values = ps.flatMap((p) => (p.metrics[name] === undefined ? [] : [p.metrics[name]!]));
    if (values.length === 0) continue;
    const n = values.length;
    const share = (f: (v: number) => boolean) => values.filter(f).length / n;
    const distribution: Record<string, number> = {};
    for (const v of [...values].sort((a, b) => a - b)) distribution[String(v)] = (distribution[String(v)] ?? 0) + 1;
    const average = values.reduce((a, b) => a + b, 0) / n;
    const m: Record<string, unknown> = { name, scale: METRICS[name], responses: n, average, distribution };
    if (name === "nps") {
      Object.assign(m, { score: (share((v) => v >= 9) - share((v) => v <= 6)) * 100, promoters: values.filter((v) => v >= 9).length, passives: values.filter((v) => v === 7 || v === 8).length, detractors: values.filter((v) => v <= 6).length });
    } else if (name === "ces") {
      Object.assign(m, { score: average, agree: share((v) => v >= 5) });
    } else {
      m.score = share((v) => v === 1);
    }
    out.push(m);
  }
  return out;
}
