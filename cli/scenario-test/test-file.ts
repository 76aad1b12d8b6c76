/**
 * The `*.test.yaml` format of `botflow test`: a list of cases, each played against a scenario in
 * a fresh conversation, step by step. Every case and step keeps its line and column so a failure
 * points into the test file.
 *
 * @example
 * - name: a rating and a comment
 *   scenario: csat            # an id (looked up beside the test file) or a path (csat.yaml)
 *   channel: whatsapp-cloud   # optional: what that channel's renderer shows
 *   locale: en
 *   variables: { agent: Olena }
 *   steps:
 *     - expect: { list: ["1", "2", "3", "4", "5", "Skip"] }
 *     - tap: "4"
 *     - user: Fast and friendly
 *     - expect: { bot: /thank you/i, vars: { quality_answer: 4 }, survey: { score: 4 }, ended: true }
 */
import { durationMs } from "../../engine/duration.ts";
import { isStartVariableValue, isVariableName, MAX_START_VARIABLES } from "../../engine/start-variables.ts";
import { suggest } from "../../engine/suggest.ts";
import type { VarValue } from "../../engine/types.ts";
import { parseYamlSource, type PathSeg, type Pos, type YamlSource } from "../../engine/yaml-source.ts";
import { isLocale } from "../args.ts";
import { isTestChannel, TEST_CHANNELS, type TestChannel } from "./channel-view.ts";

/** A text the bot must have sent: exactly, or matching a `/regex/flags`. */
export type TextMatcher = { kind: "exact"; text: string } | { kind: "regex"; re: RegExp; source: string };

/** What statistics must have received for the dialogue's survey; `null` means "absent". */
export interface SurveyExpectation {
  offered?: boolean;
  score?: number | null;
  comment?: string | null;
  completed?: boolean;
  /** The decline reason (skipped, timeout, invalid), or false for "not declined". */
  declined?: string | false;
}

export interface Expectation {
  /** One text: one of the messages sent since the previous step; a list: exactly those, in order. */
  bot?: TextMatcher | TextMatcher[];
  /** Labels of the open question's buttons, as the channel shows them. */
  buttons?: string[];
  /** Labels of the open question's list rows (WhatsApp Cloud shows a list for more than 3 options). */
  list?: string[];
  /** Variables that must hold these values; `null`: must not be set. */
  vars?: Record<string, VarValue | null>;
  survey?: SurveyExpectation;
  ended?: boolean;
}

export const EXPECT_KEYS = ["bot", "buttons", "list", "vars", "survey", "ended"] as const;
export type ExpectKey = (typeof EXPECT_KEYS)[number];

/** A canned answer for the http__request action: the first mock whose url (and method) match answers. */
export interface HttpMock {
  url: string;
  /** Upper case; absent: any method. */
  method?: string;
  status: number;
  json?: unknown;
}

export type Step =
  | { kind: "user"; text: string; at: Pos }
  | { kind: "tap"; label: string; at: Pos }
  | { kind: "wait"; ms: number; after: string; at: Pos }
  | { kind: "expect"; expect: Expectation; at: Pos; keyAt: Partial<Record<ExpectKey, Pos>> }
  | { kind: "mock"; mock: HttpMock; at: Pos };

export interface TestCase {
  name: string;
  /** As written: an id or a path relative to the test file. */
  scenario: string;
  channel?: TestChannel;
  locale?: string;
  variables?: Record<string, VarValue>;
  steps: Step[];
  at: Pos;
}

export interface TestFileProblem extends Pos {
  message: string;
}

export type ParsedTestFile = { ok: true; cases: TestCase[] } | { ok: false; problems: TestFileProblem[] };

const CASE_KEYS = ["name", "scenario", "channel", "locale", "variables", "steps"];
const STEP_KEYS = ["user", "tap", "wait", "expect", "mock"];
const SURVEY_KEYS = ["offered", "score", "comment", "completed", "declined"];
const MOCK_KEYS = ["url", "method", "status", "json"];
const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
const REGEX = /^\/(.+)\/([a-z]*)$/s;
const STEP_FORMS = 'a step is one of user: "text", tap: "label", wait: 25h, expect: {...}, mock: {url, status, json}';

/** Parses and checks a test file's text; every problem carries the line and column it is about. */
export function parseTestFile(text: string): ParsedTestFile {
  const parsed = parseYamlSource(text);
  if (!parsed.source) return { ok: false, problems: parsed.problems };
  return new Checker(parsed.source).cases();
}

class Checker {
  private readonly problems: TestFileProblem[] = [];

  constructor(private readonly src: YamlSource) {}

  cases(): ParsedTestFile {
    const value = this.src.value;
    if (!Array.isArray(value) || value.length === 0) {
      this.report([], Array.isArray(value) ? "no test cases; add one: - name: …, scenario: …, steps: [...]" : `a test file is a list of cases (- name: …, scenario: …, steps: [...]); got ${show(value)}`);
      return { ok: false, problems: this.problems };
    }
    const cases: TestCase[] = [];
    const names = new Map<string, number>();
    value.forEach((raw: unknown, i) => {
      const c = this.testCase(raw, [i]);
      if (!c) return;
      const dup = names.get(c.name);
      if (dup !== undefined) this.report([i, "name"], `case ${i + 1} has the same name as case ${dup + 1}; give each case its own name so reports tell them apart`);
      else names.set(c.name, i);
      cases.push(c);
    });
    return this.problems.length > 0 ? { ok: false, problems: this.problems } : { ok: true, cases };
  }

  private testCase(raw: unknown, path: PathSeg[]): TestCase | undefined {
    const where = `case ${(path[0] as number) + 1}`;
    if (!isObject(raw)) {
      this.report(path, `${where}: a case is a mapping with name, scenario and steps; got ${show(raw)}`);
      return undefined;
    }
    this.unknownKeys(raw, path, CASE_KEYS, where);
    const before = this.problems.length;
    const name = this.requiredString(raw, path, "name", where);
    const scenario = this.requiredString(raw, path, "scenario", where, "an id (csat) or a path (csat.yaml)");
    const c: Partial<TestCase> = {};
    if (raw.channel !== undefined) {
      if (isTestChannel(raw.channel)) c.channel = raw.channel;
      else this.report([...path, "channel"], `${where}: channel must be one of ${TEST_CHANNELS.join(", ")}; got ${show(raw.channel)}${typeof raw.channel === "string" ? suggest(raw.channel, TEST_CHANNELS) : ""}`);
    }
    if (raw.locale !== undefined) {
      if (typeof raw.locale === "string" && isLocale(raw.locale)) c.locale = raw.locale;
      else this.report([...path, "locale"], `${where}: locale must look like en, uk or pt-BR; got ${show(raw.locale)}`);
    }
    if (raw.variables !== undefined) c.variables = this.variables(raw.variables, [...path, "variables"], where);
    const steps = this.steps(raw.steps, [...path, "steps"], where);
    if (this.problems.length > before || name === undefined || scenario === undefined || !steps) return undefined;
    return { name, scenario, ...c, steps, at: this.src.locate(path) };
  }

  private variables(raw: unknown, path: PathSeg[], where: string): Record<string, VarValue> | undefined {
    if (!isObject(raw)) {
      this.report(path, `${where}: variables must be a mapping of start variables such as { agent: Olena }; got ${show(raw)}`);
      return undefined;
    }
    const names = Object.keys(raw);
    if (names.length > MAX_START_VARIABLES) this.report(path, `${where}: ${names.length} variables; a dialogue starts with at most ${MAX_START_VARIABLES}`);
    const out: Record<string, VarValue> = {};
    for (const name of names) {
      const value = raw[name];
      if (!isVariableName(name)) this.report([...path, name], `${where}: ${show(name)} is not a variable name (letters, digits and _, starting with a letter or _)`, true);
      else if (!isStartVariableValue(value)) this.report([...path, name], `${where}: variable "${name}" must be a string of at most 1000 characters or a number; got ${show(value)}`);
      else Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  private steps(raw: unknown, path: PathSeg[], where: string): Step[] | undefined {
    if (!Array.isArray(raw) || raw.length === 0) {
      this.report(path, `${where}: steps must be a non-empty list; ${STEP_FORMS}${raw === undefined ? "" : `; got ${show(raw)}`}`);
      return undefined;
    }
    const steps: Step[] = [];
    raw.forEach((s: unknown, j) => {
      const step = this.step(s, [...path, j], `${where}, step ${j + 1}`);
      if (step) steps.push(step);
    });
    return steps;
  }

  private step(raw: unknown, path: PathSeg[], where: string): Step | undefined {
    const keys = isObject(raw) ? Object.keys(raw) : [];
    if (!isObject(raw) || keys.length !== 1) {
      const extra = keys.length > 1 ? ` (one key per step; got ${keys.join(", ")}: split it into ${keys.length} steps)` : `; got ${show(raw)}`;
      this.report(path, `${where}: ${STEP_FORMS}${extra}`);
      return undefined;
    }
    const key = keys[0] as string;
    const value = raw[key];
    const at = this.src.locate(path);
    const vpath = [...path, key];
    switch (key) {
      case "user":
        if (typeof value === "string" || (typeof value === "number" && Number.isFinite(value))) return { kind: "user", text: String(value), at };
        this.report(vpath, `${where}: user is the text the user types (a string); got ${show(value)}`);
        return undefined;
      case "tap":
        if ((typeof value === "string" && value !== "") || (typeof value === "number" && Number.isFinite(value))) return { kind: "tap", label: String(value), at };
        this.report(vpath, `${where}: tap is a button's label as the channel shows it (a non-empty string); got ${show(value)}`);
        return undefined;
      case "wait":
        if (typeof value === "number" && Number.isFinite(value) && value > 0) return { kind: "wait", ms: value * 1000, after: `${value}s`, at };
        if (typeof value === "string" && DURATION.test(value)) return { kind: "wait", ms: durationMs(value), after: value, at };
        this.report(vpath, `${where}: wait is seconds (a positive number) or a duration such as 90s, 10m, 25h; got ${show(value)}`);
        return undefined;
      case "expect":
        return this.expectStep(value, vpath, where, at);
      case "mock":
        return this.mockStep(value, vpath, where, at);
      default:
        this.report(path, `${where}: unknown step "${key}"${suggest(key, STEP_KEYS)}; ${STEP_FORMS}`, true);
        return undefined;
    }
  }

  private expectStep(raw: unknown, path: PathSeg[], where: string, at: Pos): Step | undefined {
    if (!isObject(raw) || Object.keys(raw).length === 0) {
      this.report(path, `${where}: expect is a mapping of one or more of ${EXPECT_KEYS.join(", ")}; got ${show(raw)}`);
      return undefined;
    }
    this.unknownKeys(raw, path, EXPECT_KEYS, `${where}: expect`);
    const expect: Expectation = {};
    const keyAt: Partial<Record<ExpectKey, Pos>> = {};
    const w = `${where}: expect`;
    for (const key of EXPECT_KEYS) {
      if (raw[key] === undefined) continue;
      keyAt[key] = this.src.locate([...path, key], true);
      const value = raw[key];
      const p = [...path, key];
      switch (key) {
        case "bot": {
          if (Array.isArray(value)) {
            const list = value.map((v: unknown, k) => this.matcher(v, [...p, k], `${w}.bot[${k}]`));
            if (list.every((m): m is TextMatcher => m !== undefined)) expect.bot = list;
          } else {
            const m = this.matcher(value, p, `${w}.bot`);
            if (m) expect.bot = m;
          }
          break;
        }
        case "buttons":
        case "list": {
          const labels = this.labels(value, p, `${w}.${key}`);
          if (labels) expect[key] = labels;
          break;
        }
        case "vars": {
          if (!isObject(value)) {
            this.report(p, `${w}.vars must be a mapping of variable names to values (null: not set); got ${show(value)}`);
            break;
          }
          const vars: Record<string, VarValue | null> = {};
          for (const [name, v] of Object.entries(value)) {
            if (v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) Object.defineProperty(vars, name, { value: v, enumerable: true, writable: true, configurable: true });
            else this.report([...p, name], `${w}.vars.${name} must be a string, a number or null (not set); got ${show(v)}`);
          }
          expect.vars = vars;
          break;
        }
        case "survey": {
          const survey = this.survey(value, p, `${w}.survey`);
          if (survey) expect.survey = survey;
          break;
        }
        case "ended":
          if (typeof value === "boolean") expect.ended = value;
          else this.report(p, `${w}.ended must be true or false; got ${show(value)}`);
          break;
      }
    }
    return { kind: "expect", expect, at, keyAt };
  }

  private matcher(raw: unknown, path: PathSeg[], where: string): TextMatcher | undefined {
    if (typeof raw === "number" && Number.isFinite(raw)) return { kind: "exact", text: String(raw) };
    if (typeof raw !== "string") {
      this.report(path, `${where} must be the text the bot sent, or a /regular expression/; got ${show(raw)}`);
      return undefined;
    }
    const m = REGEX.exec(raw);
    if (!m) return { kind: "exact", text: raw };
    try {
      return { kind: "regex", re: new RegExp(m[1] as string, m[2]), source: raw };
    } catch (err) {
      this.report(path, `${where}: ${raw} is not a valid regular expression (${err instanceof Error ? err.message : String(err)}); to match the text literally, drop the enclosing slashes`);
      return undefined;
    }
  }

  private labels(raw: unknown, path: PathSeg[], where: string): string[] | undefined {
    if (!Array.isArray(raw) || !raw.every((l) => typeof l === "string" || (typeof l === "number" && Number.isFinite(l)))) {
      this.report(path, `${where} must be a list of labels such as ["1", "2", "Skip"] ([] for none); got ${show(raw)}`);
      return undefined;
    }
    return raw.map(String);
  }

  private survey(raw: unknown, path: PathSeg[], where: string): SurveyExpectation | undefined {
    if (!isObject(raw)) {
      this.report(path, `${where} must be a mapping of ${SURVEY_KEYS.join(", ")}; got ${show(raw)}`);
      return undefined;
    }
    this.unknownKeys(raw, path, SURVEY_KEYS, where);
    const out: SurveyExpectation = {};
    const bool = (key: "offered" | "completed"): void => {
      const v = raw[key];
      if (v === undefined) return;
      if (typeof v === "boolean") out[key] = v;
      else this.report([...path, key], `${where}.${key} must be true or false; got ${show(v)}`);
    };
    bool("offered");
    bool("completed");
    if (raw.score !== undefined) {
      if (raw.score === null || (typeof raw.score === "number" && Number.isFinite(raw.score))) out.score = raw.score;
      else this.report([...path, "score"], `${where}.score must be the recorded number (null: no score); got ${show(raw.score)}`);
    }
    if (raw.comment !== undefined) {
      if (raw.comment === null || typeof raw.comment === "string") out.comment = raw.comment;
      else this.report([...path, "comment"], `${where}.comment must be the recorded comment, "" for none given, or null; got ${show(raw.comment)}`);
    }
    if (raw.declined !== undefined) {
      if (raw.declined === false || typeof raw.declined === "string") out.declined = raw.declined;
      else this.report([...path, "declined"], `${where}.declined must be the reason (skipped, timeout, invalid) or false; got ${show(raw.declined)}`);
    }
    return out;
  }

  private mockStep(raw: unknown, path: PathSeg[], where: string, at: Pos): Step | undefined {
    const w = `${where}: mock`;
    if (!isObject(raw)) {
      this.report(path, `${w} is a mapping {url, method, status, json}; got ${show(raw)}`);
      return undefined;
    }
    this.unknownKeys(raw, path, MOCK_KEYS, w);
    const before = this.problems.length;
    let url: URL | undefined;
    if (typeof raw.url === "string" && URL.canParse(raw.url)) url = new URL(raw.url);
    if (!url || !/^https?:$/.test(url.protocol)) this.report([...path, "url"], `${w}.url must be the http(s) URL the request goes to; got ${show(raw.url)}`);
    if (raw.method !== undefined && !(typeof raw.method === "string" && /^[A-Za-z]+$/.test(raw.method))) this.report([...path, "method"], `${w}.method must be an HTTP method such as GET or POST; got ${show(raw.method)}`);
    const status = raw.status ?? 200;
    if (!(typeof status === "number" && Number.isInteger(status) && status >= 200 && status <= 599)) this.report([...path, "status"], `${w}.status must be an HTTP status the answer has (200–599; default 200); got ${show(status)}`);
    if (this.problems.length > before) return undefined;
    const mock: HttpMock = { url: raw.url as string, status: status as number, ...(raw.method !== undefined ? { method: (raw.method as string).toUpperCase() } : {}), ...(raw.json !== undefined ? { json: raw.json } : {}) };
    return { kind: "mock", mock, at };
  }

  private requiredString(raw: Record<string, unknown>, path: PathSeg[], key: string, where: string, what = "a string"): string | undefined {
    const v = raw[key];
    if (typeof v === "string" && v.trim() !== "") return v;
    this.report(v === undefined ? path : [...path, key], v === undefined ? `${where}: ${key} is missing; add ${key}: (${what})` : `${where}: ${key} must be ${what}; got ${show(v)}`);
    return undefined;
  }

  private unknownKeys(raw: Record<string, unknown>, path: PathSeg[], known: readonly string[], where: string): void {
    for (const key of Object.keys(raw)) {
      if (known.includes(key)) continue;
      // In `{ bot: Sorry, we … }` YAML reads the text after the comma as a key of its own.
      const cut = /\s/.test(key.trim()) ? `; is it the rest of a text cut at a comma? In { … } quote texts that hold a comma: "Sorry, we …"` : "";
      this.report([...path, key], `${where}: unknown key "${key}"${suggest(key, known)}; use ${known.join(", ")}${cut}`, true);
    }
  }

  private report(path: PathSeg[], message: string, key = false): void {
    this.problems.push({ ...this.src.locate(path, key), message });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
