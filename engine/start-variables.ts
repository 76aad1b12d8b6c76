/**
 * The bounds of the variables a dialogue starts with (InboundEvent.variables): the trigger API
 * refuses a request outside them, and the runtime drops what slips through (an older producer,
 * a hand-made event) rather than crash or store it.
 *
 * @example
 * const { variables, dropped } = cleanStartVariables({ agent: "Olena", "bad name": "x" });
 * // variables: { agent: "Olena" }, dropped: ["bad name"]
 */
import { isVariableName } from "./schema/scenario-schema.ts";
import { cleanText } from "./text.ts";
import type { VarValue } from "./types.ts";

export { isVariableName } from "./schema/scenario-schema.ts";

/** At most this many start variables per dialogue. */
export const MAX_START_VARIABLES = 50;
/** A string start variable holds at most this many characters (UTF-16 code units). */
export const MAX_START_VARIABLE_LENGTH = 1000;

/** Whether `value` may be a start variable's value: a string of at most MAX_START_VARIABLE_LENGTH, or a finite number. */
export function isStartVariableValue(value: unknown): value is VarValue {
  return typeof value === "number" ? Number.isFinite(value) : typeof value === "string" && value.length <= MAX_START_VARIABLE_LENGTH;
}

/**
 * The variables that fit the bounds, strings cleaned like inbound text (engine/text.ts), and
 * the names of those dropped (bad name, bad value, past the first MAX_START_VARIABLES). Never
 * throws, whatever `raw` is; names only are reported, never values.
 */
export function cleanStartVariables(raw: unknown): { variables: Record<string, VarValue>; dropped: string[] } {
  const variables: Record<string, VarValue> = {};
  const dropped: string[] = [];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return { variables, dropped: raw === undefined ? [] : ["(not an object)"] };
  let kept = 0;
  for (const name of Object.keys(raw)) {
    const value: unknown = (raw as Record<string, unknown>)[name];
    if (!isVariableName(name) || !isStartVariableValue(value) || kept >= MAX_START_VARIABLES) {
      // A name that is no variable name may be anything: keep the log line short.
      dropped.push(isVariableName(name) ? name : JSON.stringify(name.slice(0, 64)));
      continue;
    }
    const v = typeof value === "string" ? cleanText(value) : value;
    // "__proto__" is a variable name like any other: an own key, never the prototype.
    if (name === "__proto__") Object.defineProperty(variables, name, { value: v, enumerable: true, writable: true, configurable: true });
    else variables[name] = v;
    kept++;
  }
  return { variables, dropped };
}
