/**
 * Compares one `expect:` step with what the conversation shows at that point, and says what
 * differs as a message and a line diff (`- expected`, `+ actual`).
 */
import type { VarValue } from "../../engine/types.ts";
import type { SurveyEvent } from "../../stats/events.ts";
import type { SeenMessage, TestChannel } from "./channel-view.ts";
import { diffLines } from "./line-diff.ts";
import type { Expectation, ExpectKey, SurveyExpectation, TextMatcher } from "./test-file.ts";

/** What statistics received for the dialogue's survey, folded from its events. */
export interface ObservedSurvey {
  offered: boolean;
  score?: number;
  comment?: string;
  completed: boolean;
  declined?: string;
}

/** What the conversation shows when an `expect:` step runs. */
export interface Observed {
  channel?: TestChannel;
  /** Messages sent since the previous user, tap or wait step (or since the start). */
  sent: readonly SeenMessage[];
  /** The open question's message as rendered; undefined when no question is open. */
  open?: SeenMessage;
  vars: Readonly<Record<string, VarValue>>;
  ended: boolean;
  survey?: ObservedSurvey;
}

export interface Mismatch {
  key: ExpectKey;
  message: string;
  /** `- expected` / `+ actual` / `  both` lines. */
  diff: string[];
  /** Why the actual value looks as it does on this channel, when that is not obvious. */
  note?: string;
}

/** Every expectation of the step that does not hold, in the order of EXPECT_KEYS. */
export function compare(expect: Expectation, seen: Observed): Mismatch[] {
  const out: Mismatch[] = [];
  if (expect.bot !== undefined) push(out, compareBot(expect.bot, seen.sent));
  if (expect.buttons !== undefined) push(out, compareLabels("buttons", expect.buttons, seen));
  if (expect.list !== undefined) push(out, compareLabels("list", expect.list, seen));
  if (expect.vars !== undefined) push(out, compareVars(expect.vars, seen.vars));
  if (expect.survey !== undefined) push(out, compareSurvey(expect.survey, seen.survey));
  if (expect.ended !== undefined && expect.ended !== seen.ended) {
    out.push({ key: "ended", message: expect.ended ? "the dialogue has not ended" : "the dialogue has ended", diff: [`- ended: ${expect.ended}`, `+ ended: ${seen.ended}`] });
  }
  return out;
}

/** Folds a conversation's survey events into what the latest survey recorded; undefined when none was started. */
export function observeSurvey(events: readonly SurveyEvent[]): ObservedSurvey | undefined {
  const last = events.findLast((e) => e.kind !== "metric");
  if (!last) return undefined;
  const mine = events.filter((e) => e.surveyId === last.surveyId);
  const find = (kind: SurveyEvent["kind"]): SurveyEvent | undefined => mine.findLast((e) => e.kind === kind);
  const completed = find("completed");
  const score = completed?.score ?? find("answered")?.score;
  const comment = completed?.comment ?? find("commented")?.comment;
  const declined = find("declined")?.reason;
  return {
    offered: find("offered") !== undefined,
    ...(score !== undefined ? { score } : {}),
    ...(comment !== undefined ? { comment } : {}),
    completed: completed !== undefined,
    ...(declined !== undefined ? { declined } : {}),
  };
}

function push(out: Mismatch[], m: Mismatch | undefined): void {
  if (m) out.push(m);
}

function matches(m: TextMatcher, text: string): boolean {
  return m.kind === "exact" ? m.text === text : m.re.test(text);
}

function showMatcher(m: TextMatcher): string {
  return m.kind === "exact" ? JSON.stringify(m.text) : m.source;
}

function compareBot(expected: TextMatcher | TextMatcher[], sent: readonly SeenMessage[]): Mismatch | undefined {
  const texts = sent.map((s) => s.text);
  const show = { expected: showMatcher, actual: (t: string) => JSON.stringify(t) };
  if (!Array.isArray(expected)) {
    if (texts.some((t) => matches(expected, t))) return undefined;
    const what = expected.kind === "exact" ? `is ${showMatcher(expected)}` : `matches ${expected.source}`;
    const message = texts.length === 0 ? `the bot sent nothing since the previous step; expected a message that ${what}` : `no message the bot sent since the previous step ${what}`;
    return { key: "bot", message, diff: [`- ${showMatcher(expected)}`, ...texts.map((t) => `+ ${JSON.stringify(t)}`)] };
  }
  if (expected.length === texts.length && expected.every((m, i) => matches(m, texts[i] as string))) return undefined;
  return { key: "bot", message: `the bot's messages since the previous step differ (expected ${expected.length}, sent ${texts.length})`, diff: diffLines(expected, texts, show, matches) };
}

function compareLabels(key: "buttons" | "list", expected: readonly string[], seen: Observed): Mismatch | undefined {
  const actual = (seen.open?.[key] ?? []).map((t) => t.label);
  if (actual.length === expected.length && actual.every((l, i) => l === expected[i])) return undefined;
  const on = seen.channel ? ` on ${seen.channel}` : "";
  const what = key === "buttons" ? "buttons" : "list rows";
  const message = !seen.open ? `no question is open, so there are no ${what}` : actual.length === 0 ? `the open question shows no ${what}${on}` : `the open question's ${what}${on} differ`;
  const quote = (l: string): string => JSON.stringify(l);
  return { key, message, diff: diffLines(expected, actual, { expected: quote, actual: quote }, (e, a) => e === a), ...noteOn(key, seen) };
}

/** Says where the options went when the channel did not show them the way the test expected. */
function noteOn(key: "buttons" | "list", seen: Observed): { note?: string } {
  const open = seen.open;
  if (!open) return {};
  if (key === "buttons" && open.buttons.length === 0 && open.list.length > 0) {
    return { note: `${seen.channel ?? "this channel"} shows these options as a list behind the button ${JSON.stringify(open.listButton ?? "")}: list: [${open.list.map((t) => JSON.stringify(t.label)).join(", ")}]` };
  }
  if (key === "list" && open.list.length === 0 && open.buttons.length > 0) {
    return { note: `${seen.channel ?? "this channel"} shows these options as buttons: buttons: [${open.buttons.map((t) => JSON.stringify(t.label)).join(", ")}]` };
  }
  if (open.buttons.length === 0 && open.list.length === 0) {
    const last = open.text.split("\n").at(-1) ?? "";
    return { note: `nothing to tap${seen.channel ? ` on ${seen.channel}` : ""}: the user types the answer; the question's text ends ${JSON.stringify(last)}` };
  }
  return {};
}

function showValue(v: VarValue | null | undefined | boolean): string {
  if (v === undefined || v === null) return "(not set)";
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function compareVars(expected: Readonly<Record<string, VarValue | null>>, vars: Readonly<Record<string, VarValue>>): Mismatch | undefined {
  const rows = Object.entries(expected).map(([name, want]) => ({ name, want, got: Object.hasOwn(vars, name) ? vars[name] : undefined }));
  const same = (want: VarValue | null, got: VarValue | undefined): boolean => (want === null ? got === undefined : want === got);
  const wrong = rows.filter((r) => !same(r.want, r.got));
  if (wrong.length === 0) return undefined;
  const diff = rows.flatMap((r) => (same(r.want, r.got) ? [`  ${r.name}: ${showValue(r.got)}`] : [`- ${r.name}: ${showValue(r.want)}`, `+ ${r.name}: ${showValue(r.got)}${typeNote(r.want, r.got)}`]));
  return { key: "vars", message: `${wrong.length === 1 ? "variable" : "variables"} ${wrong.map((r) => r.name).join(", ")} ${wrong.length === 1 ? "differs" : "differ"}`, diff };
}

/** "4" and 4 print alike in YAML terms; say which is which. */
function typeNote(want: VarValue | null, got: VarValue | undefined): string {
  return want !== null && got !== undefined && String(want) === String(got) && typeof want !== typeof got ? ` (a ${typeof got}; the test expects a ${typeof want})` : "";
}

function compareSurvey(expected: SurveyExpectation, survey: ObservedSurvey | undefined): Mismatch | undefined {
  if (!survey) {
    return { key: "survey", message: "no survey was started in this dialogue (no rating was offered and no statistic__set ran)", diff: Object.entries(expected).map(([k, v]) => `- ${k}: ${showValue(v as VarValue | null | boolean)}`) };
  }
  const actual: Record<string, VarValue | boolean | undefined> = { ...survey, declined: survey.declined ?? false };
  const rows = Object.entries(expected).map(([key, want]) => ({ key, want: want as VarValue | boolean | null, got: actual[key] }));
  const same = (want: VarValue | boolean | null, got: VarValue | boolean | undefined): boolean => (want === null ? got === undefined : want === got);
  const wrong = rows.filter((r) => !same(r.want, r.got));
  if (wrong.length === 0) return undefined;
  const diff = rows.flatMap((r) => (same(r.want, r.got) ? [`  ${r.key}: ${showValue(r.got)}`] : [`- ${r.key}: ${showValue(r.want)}`, `+ ${r.key}: ${showValue(r.got)}`]));
  return { key: "survey", message: `the survey differs in ${wrong.map((r) => r.key).join(", ")}`, diff };
}
