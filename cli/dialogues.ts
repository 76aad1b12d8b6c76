/**
 * The DIALOGUES.json format of `botflow run`: an array of dialogues, each an array of user
 * turns played after the start block ran, as if the user had just opened the chat.
 *
 * A turn is one of:
 * - `"text"`: the user types it (a digit or a button's label counts as that button, as on every channel);
 * - `{"tap": "<label or value>"}`: taps a button of the open question, matched by label, else by value;
 * - `{"tap": ..., "prompt": "previous" | N}`: taps a button of an earlier, usually stale, keyboard
 *   ("previous" is the one shown before the open question, or the last one when none is open;
 *   N is the Nth question shown in this dialogue) — this is how double taps are tested;
 * - `{"wait": "24h"}`: time passes (seconds as a number, or 90s, 10m, 24h); due timeouts fire.
 *
 * A dialogue may also be `{"name": "...", "locale": "uk", "variables": {...}, "turns": [...]}`; its
 * locale overrides `--locale`, and `variables` are the start variables the dialogue begins with, as
 * a trigger's would be (`{"agent": "Olena", "ticket": "T-1042"}`).
 */
import { durationMs } from "../engine/scenario.ts";
import { isStartVariableValue, isVariableName, MAX_START_VARIABLES } from "../engine/start-variables.ts";
import type { VarValue } from "../engine/types.ts";
import { isLocale } from "./args.ts";

export type TapTarget = "current" | "previous" | number;

export type Turn =
  | { type: "text"; text: string }
  | { type: "tap"; tap: string | number; prompt: TapTarget }
  | { type: "wait"; ms: number; after: string };

export interface Dialogue {
  name?: string;
  locale?: string;
  /** Start variables, as a trigger passes them. */
  variables?: Record<string, VarValue>;
  turns: Turn[];
}

export type ParsedDialogues = { ok: true; dialogues: Dialogue[] } | { ok: false; errors: string[] };

const DURATION = /^[0-9]+(ms|s|m|h|d)$/;
const TURN_FORMS = 'a turn is typed text ("4"), {"tap": "<label or value>"} (optionally with "prompt": "previous" or N) or {"wait": "24h"}';

/** Checks the shape of a parsed DIALOGUES.json; every error names the dialogue and turn. */
export function parseDialogues(value: unknown, file: string): ParsedDialogues {
  const errors: string[] = [];
  if (!Array.isArray(value)) {
    return { ok: false, errors: [`${file}: must be an array of dialogues, each an array of turns; got ${show(value)}`] };
  }
  if (value.length === 0) return { ok: false, errors: [`${file}: no dialogues; add at least one, e.g. [["4", "Fast and friendly"]]`] };
  const dialogues: Dialogue[] = [];
  value.forEach((raw: unknown, i) => {
    const where = `${file}: dialogue ${i + 1}`;
    const d = parseDialogue(raw, where, errors);
    if (d) dialogues.push(d);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, dialogues };
}

function parseDialogue(raw: unknown, where: string, errors: string[]): Dialogue | undefined {
  let turnsRaw: unknown = raw;
  const dialogue: Dialogue = { turns: [] };
  if (isObject(raw)) {
    for (const key of Object.keys(raw)) {
      if (!["name", "locale", "variables", "turns"].includes(key)) errors.push(`${where}: unknown key "${key}"; a dialogue is an array of turns or {"name", "locale", "variables", "turns"}`);
    }
    if (raw.name !== undefined) {
      if (typeof raw.name === "string") dialogue.name = raw.name;
      else errors.push(`${where}: "name" must be a string`);
    }
    if (raw.locale !== undefined) {
      if (typeof raw.locale === "string" && isLocale(raw.locale)) dialogue.locale = raw.locale;
      else errors.push(`${where}: "locale" must be a locale such as "en", "uk" or "pt-BR"; got ${show(raw.locale)}`);
    }
    if (raw.variables !== undefined) {
      const variables = parseVariables(raw.variables, where, errors);
      if (variables) dialogue.variables = variables;
    }
    turnsRaw = raw.turns;
  }
  if (!Array.isArray(turnsRaw)) {
    errors.push(`${where}: must be an array of turns (or {"turns": [...]}); got ${show(turnsRaw)}`);
    return undefined;
  }
  turnsRaw.forEach((t: unknown, j) => {
    const turn = parseTurn(t, `${where}, turn ${j + 1}`, errors);
    if (turn) dialogue.turns.push(turn);
  });
  return dialogue;
}

/** Start variables by the runtime's own bounds (engine/start-variables.ts), each error naming the variable. */
function parseVariables(raw: unknown, where: string, errors: string[]): Record<string, VarValue> | undefined {
  if (!isObject(raw)) {
    errors.push(`${where}: "variables" must be an object of start variables such as {"agent": "Olena"}; got ${show(raw)}`);
    return undefined;
  }
  const names = Object.keys(raw);
  if (names.length > MAX_START_VARIABLES) errors.push(`${where}: "variables" has ${names.length} variables; at most ${MAX_START_VARIABLES} are allowed`);
  const out: Record<string, VarValue> = {};
  for (const name of names) {
    const value = raw[name];
    if (!isVariableName(name)) errors.push(`${where}: variable ${show(name)} is not a variable name (letters, digits and _, starting with a letter or _)`);
    else if (!isStartVariableValue(value)) errors.push(`${where}: variable "${name}" must be a string of at most 1000 characters or a number; got ${show(value)}`);
    else Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function parseTurn(t: unknown, where: string, errors: string[]): Turn | undefined {
  if (typeof t === "string") return { type: "text", text: t };
  if (!isObject(t)) {
    errors.push(`${where}: ${TURN_FORMS}; got ${show(t)}`);
    return undefined;
  }
  const keys = Object.keys(t);
  const unknown = keys.filter((k) => !["tap", "prompt", "wait"].includes(k));
  if (unknown.length > 0 || ("tap" in t) === ("wait" in t) || ("prompt" in t && !("tap" in t))) {
    errors.push(`${where}: ${TURN_FORMS}; got ${show(t)}`);
    return undefined;
  }
  if ("wait" in t) {
    const w = t.wait;
    if (typeof w === "number" && Number.isFinite(w) && w > 0) return { type: "wait", ms: w * 1000, after: `${w}s` };
    if (typeof w === "string" && DURATION.test(w)) return { type: "wait", ms: durationMs(w), after: w };
    errors.push(`${where}: "wait" must be seconds (a positive number) or a duration such as "90s", "10m", "24h"; got ${show(w)}`);
    return undefined;
  }
  const tap = t.tap;
  if (!((typeof tap === "string" && tap !== "") || (typeof tap === "number" && Number.isFinite(tap)))) {
    errors.push(`${where}: "tap" must be a button's label or value (a non-empty string or a number); got ${show(tap)}`);
    return undefined;
  }
  const prompt = t.prompt ?? "current";
  if (prompt !== "current" && prompt !== "previous" && !(typeof prompt === "number" && Number.isInteger(prompt) && prompt >= 1)) {
    errors.push(`${where}: "prompt" must be "current", "previous" or the number of a question shown earlier (1 = the first); got ${show(prompt)}`);
    return undefined;
  }
  return { type: "tap", tap, prompt };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = v === undefined ? "nothing" : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
