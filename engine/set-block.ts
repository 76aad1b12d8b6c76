/**
 * The pure evaluation of a `set` block's assignments: literals, `{{variable}}` templates and
 * the typed operations `add`, `concat` and `now`. Nothing is evaluated as code; a value that
 * cannot be computed (an `add` of something that is not a number, a text too long to keep)
 * leaves its variable unset and says why, so a `next` rule on it falls through to the default.
 *
 * @example
 * evaluateSet({ count: { add: ["{{count}}", 1] } }, { count: 2 }, Date.now()).vars; // { count: 3 }
 */
import type { SetOperationSpec, SetValueSpec } from "./schema/scenario-schema.ts";
import { substitute } from "./text.ts";
import type { VarValue } from "./types.ts";

/**
 * The longest text a set block keeps: the longest comment a wait_for_response may save, so
 * copying an answer always fits while a loop that keeps concatenating cannot grow state forever.
 */
export const MAX_SET_TEXT = 65_536;

/** What `add` accepts as a number once its `{{…}}` are replaced: decimal notation only (no hex, no empty text). */
export const NUMBER_TEXT = /^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/** One `{{name}}` and nothing else: copies the variable as it is (a number stays a number). */
const WHOLE_VARIABLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** An assignment that could not be made: `variable` is unset after the block. */
export interface SetWarning {
  variable: string;
  /** Names the operation and the scenario's own operand, never a variable's value (it may be personal data). */
  message: string;
}

export interface SetOutcome {
  /** The variables after the block: a new object, `vars` is left untouched. */
  vars: Record<string, VarValue>;
  /** The variables the block assigned or unset, in the order written. */
  touched: string[];
  warnings: SetWarning[];
}

/**
 * Evaluates `assignments` in the order written, each seeing the values assigned before it
 * (`a: 1` then `b: { add: ["{{a}}", 1] }` gives b = 2). An unset variable reads as empty text,
 * as in messages. `at` (epoch ms, the step's time) is what `now` gives.
 */
export function evaluateSet(assignments: Readonly<Record<string, SetValueSpec>>, vars: Readonly<Record<string, VarValue>>, at: number): SetOutcome {
  const out: Record<string, VarValue> = {};
  for (const k of Object.keys(vars)) own(out, k, vars[k] as VarValue);
  const touched: string[] = [];
  const warnings: SetWarning[] = [];
  for (const [name, spec] of Object.entries(assignments)) {
    touched.push(name);
    const result = valueOf(spec, out, at);
    if (typeof result === "object") {
      warnings.push({ variable: name, message: result.problem });
      delete out[name];
    } else own(out, name, result);
  }
  return { vars: out, touched, warnings };
}

type Computed = VarValue | { problem: string };

function valueOf(spec: SetValueSpec, vars: Readonly<Record<string, VarValue>>, at: number): Computed {
  if (typeof spec === "number") return Number.isFinite(spec) ? spec : { problem: `${String(spec)} is not a finite number` };
  if (typeof spec === "string") {
    const whole = WHOLE_VARIABLE.exec(spec)?.[1];
    if (whole !== undefined) return Object.hasOwn(vars, whole) ? (vars[whole] as VarValue) : "";
    return fitting(substitute(spec, vars), "the text");
  }
  return operate(spec, vars, at);
}

function operate(op: SetOperationSpec, vars: Readonly<Record<string, VarValue>>, at: number): Computed {
  if (op.add !== undefined) {
    let sum = 0;
    for (const [i, item] of op.add.entries()) {
      const n = toNumber(item, vars);
      if (n === undefined) return { problem: `add: item ${i + 1} (${JSON.stringify(item)}) is not a number` };
      sum += n;
    }
    return Number.isFinite(sum) ? sum : { problem: "add: the sum is too large to be a number" };
  }
  if (op.concat !== undefined) {
    let text = "";
    for (const item of op.concat) text += typeof item === "number" ? String(item) : substitute(item, vars);
    return fitting(text, "concat");
  }
  if (op.now !== undefined) return op.now === "iso" ? new Date(at).toISOString() : at;
  // The loader refuses an operation object without exactly one known key; this is the backstop.
  return { problem: "no operation (add, concat or now)" };
}

function toNumber(item: string | number, vars: Readonly<Record<string, VarValue>>): number | undefined {
  if (typeof item === "number") return Number.isFinite(item) ? item : undefined;
  const whole = WHOLE_VARIABLE.exec(item)?.[1];
  const v = whole !== undefined ? (Object.hasOwn(vars, whole) ? vars[whole] : undefined) : substitute(item, vars);
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  const text = (v ?? "").trim();
  return NUMBER_TEXT.test(text) ? Number(text) : undefined;
}

function fitting(text: string, what: string): Computed {
  return text.length <= MAX_SET_TEXT ? text : { problem: `${what} is ${text.length} characters; a variable holds at most ${MAX_SET_TEXT}` };
}

/** `out[name] = value` as an own key even for `__proto__`, which plain assignment would take as the prototype. */
function own(out: Record<string, VarValue>, name: string, value: VarValue): void {
  if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}
