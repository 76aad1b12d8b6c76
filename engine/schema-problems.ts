/**
 * Turns ajv's schema errors into scenario problems that say what is wrong, where, and how
 * to fix it, each at the node at fault: an unknown or missing key at its key, a wrong
 * value at the value. ajv must run with `allErrors` and `verbose` (data and schemas).
 *
 * Unions (`anyOf`) get special care: ajv reports every branch's errors. When the value's
 * type fits some branches, the errors of the closest branch are reported (an unknown key
 * inside a rule rather than "must be a branching rule"); when it fits none, one message
 * names the forms the value may take.
 */
import type { ErrorObject } from "ajv";
import { BLOCK_SCHEMAS, ID_PATTERN, LOCALE_PATTERN } from "./schema/scenario-schema.ts";
import { suggest } from "./suggest.ts";
import type { PathSeg } from "./yaml-source.ts";

export interface SchemaProblem {
  path: PathSeg[];
  /** Point at the key of the last path segment instead of its value. */
  key: boolean;
  message: string;
}

/** What to write for a missing key, when the schema has no description for it. */
const HINTS: Record<string, string> = {
  id: "the scenario's id, e.g. id: csat",
  start: "the id of the first block, e.g. start: ask_rating",
  blocks: "a mapping from block id to block",
  text: "the message to show",
  buttons: 'a list such as [{ label: "5", value: 5 }]',
  action: "a registered action, e.g. action: statistic__set",
  label: "the text on the button",
  after: "a duration such as 90s, 10m or 24h",
  goto: "the block to go to",
  var: "the variable to test, e.g. var: quality_answer",
  default: "the block to go to when no rule matched",
};

/** Human names of the patterns the schema uses. */
const PATTERNS: Record<string, string> = {
  [ID_PATTERN]: "an id has letters, digits, '_', '.' or '-', starts with a letter or '_', and is at most 64 characters",
  "^[A-Za-z_][A-Za-z0-9_]{0,63}$": "a variable name has letters, digits and '_', and starts with a letter or '_'",
  [LOCALE_PATTERN]: "use a locale code such as en, uk or pt-BR",
  "^[0-9]+(ms|s|m|h|d)$": "write a number of seconds or a duration such as 90s, 10m, 24h",
  "^[a-z][a-z0-9_]*$": "an action name has lowercase letters, digits and '_', e.g. statistic__set",
};

/**
 * Located problems for `errors`, found in the value at `base`; `label` starts each message
 * (`block "ask_rating"`).
 */
export function schemaProblems(errors: readonly ErrorObject[], base: readonly PathSeg[], label: string, shownBase: readonly PathSeg[] = []): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of pickErrors(errors)) {
    // Past a few hundred problems nobody reads the suggestions; skip their cost on hostile files.
    const problem = toProblem(e, base, label, shownBase, out.length < 200);
    if (!problem) continue;
    const dedupe = `${problem.path.join("/")}|${problem.message}`;
    if (!seen.has(dedupe)) (seen.add(dedupe), out.push(problem));
  }
  return out;
}

function isInside(e: ErrorObject, anyOf: ErrorObject): boolean {
  return e !== anyOf && e.schemaPath.startsWith(`${anyOf.schemaPath}/`) && (e.instancePath === anyOf.instancePath || e.instancePath.startsWith(`${anyOf.instancePath}/`));
}

/** The errors worth reporting: everything outside unions, and the closest branch within each. */
function pickErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === "anyOf");
  const outer = errors.filter((e) => !anyOfs.some((a) => isInside(e, a)));
  const out: ErrorObject[] = [];
  for (const e of outer) {
    if (e.keyword !== "anyOf") {
      out.push(e);
      continue;
    }
    const branches = branchErrors(errors, e);
    const fitting = [...branches.entries()].filter(([i, errs]) => !mismatchesType(errs, e, i));
    if (fitting.length === 0) {
      out.push(e);
      continue;
    }
    fitting.sort((a, b) => a[1].length - b[1].length || a[0] - b[0]);
    out.push(...pickErrors((fitting[0] as [number, ErrorObject[]])[1]));
  }
  return out;
}

function branchErrors(errors: readonly ErrorObject[], anyOf: ErrorObject): Map<number, ErrorObject[]> {
  const branches = new Map<number, ErrorObject[]>();
  for (const x of errors) {
    if (!isInside(x, anyOf)) continue;
    const i = Number(x.schemaPath.slice(anyOf.schemaPath.length + 1).split("/")[0]);
    branches.set(i, [...(branches.get(i) ?? []), x]);
  }
  return branches;
}

/** True when branch `i` of `anyOf` wants another type (or constant) than the value has. */
function mismatchesType(errs: readonly ErrorObject[], anyOf: ErrorObject, i: number): boolean {
  const at = `${anyOf.schemaPath}/${i}`;
  return errs.some((x) => {
    if (x.instancePath !== anyOf.instancePath) return false;
    if (x.schemaPath === `${at}/type` || x.schemaPath === `${at}/const` || x.schemaPath === `${at}/enum`) return true;
    if (x.keyword === "anyOf" && x.schemaPath === `${at}/anyOf`) {
      const nested = branchErrors(errs, x);
      return [...nested.entries()].every(([j, n]) => mismatchesType(n, x, j));
    }
    return false;
  });
}

function toProblem(e: ErrorObject, base: readonly PathSeg[], label: string, shownBase: readonly PathSeg[], suggestions: boolean): SchemaProblem | undefined {
  const segs = e.instancePath.split("/").slice(1).map(decodePointer);
  const path = [...base, ...segs];
  const where = [label, renderPath([...shownBase, ...segs])].filter((s) => s !== "").join(" ") || "scenario";
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const limit = (e.params as { limit?: number }).limit ?? 0;
  switch (e.keyword) {
    case "additionalProperties": {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((parent.properties as object | undefined) ?? {});
      const patterns = Object.keys((parent.patternProperties as object | undefined) ?? {});
      if (allowed.length === 0 && patterns.length > 0) {
        const hint = patterns.map((p) => PATTERNS[p] ?? `keys must match ${p}`).join("; ");
        return { path: [...path, extra], key: true, message: `${where}: key ${quote(extra)} is not valid: ${hint}` };
      }
      if (extra === "<<") {
        return { path: [...path, extra], key: true, message: `${where}: YAML merge keys (<<) are not supported; write the keys out` };
      }
      const blockType = (parent.properties as { type?: { const?: unknown } } | undefined)?.type?.const;
      // `next` on an end block is no typo of `text`: say the key belongs to other block types.
      const elsewhere = typeof blockType === "string" && Object.values(BLOCK_SCHEMAS).some((b) => extra in b.properties);
      const why = elsewhere ? `key ${quote(extra)} is not used by ${blockType} blocks` : `unknown key ${quote(extra)}${suggestions ? suggest(extra, allowed) : ""}`;
      return { path: [...path, extra], key: true, message: `${where}: ${why}${allowed.length ? `; allowed keys: ${allowed.join(", ")}` : ""}` };
    }
    case "required": {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const prop = ((parent.properties as Record<string, { description?: unknown; enum?: unknown }> | undefined) ?? {})[missing];
      const choices = Array.isArray(prop?.enum) ? prop.enum.map(String) : [];
      const hint =
        choices.length > 0
          ? choices.length === 1 ? choices[0] : `one of ${choices.join(", ")}`
          : (HINTS[missing] ?? (typeof prop?.description === "string" ? lowerFirst(prop.description).replace(/\.$/, "") : undefined));
      return { path, key: typeof path[path.length - 1] === "string", message: `${where}: missing required key "${missing}"${hint ? `; add ${missing}: ${hint}` : ""}` };
    }
    case "propertyNames":
      return undefined; // the error that follows names the bad key
    case "type":
      return { path, key: false, message: `${where}: must be ${typeName(e.schema)}, not ${kindOf(e.data)}` };
    case "const":
    case "enum": {
      const allowed = (e.keyword === "const" ? [e.schema] : (e.schema as unknown[])).map((v) => JSON.stringify(v));
      const shown = typeof e.data === "string" ? suggest(e.data, allowed.map((a) => JSON.parse(a) as string).filter((a) => typeof a === "string")) : "";
      return { path, key: false, message: `${where}: ${quote(e.data)} is not allowed${shown}; use ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(", ")}`}` };
    }
    case "pattern": {
      const hint = PATTERNS[String(e.schema)] ?? `must match ${String(e.schema)}`;
      if (e.propertyName !== undefined) {
        return { path: [...path, e.propertyName], key: true, message: `${where}: key ${quote(e.propertyName)} is not valid: ${hint}` };
      }
      return { path, key: false, message: `${where}: ${quote(e.data)} is not valid: ${hint}` };
    }
    case "minLength":
      return { path, key: false, message: `${where}: ${limit <= 1 ? "must not be empty" : `must be at least ${limit} characters`}` };
    case "maxLength":
      return { path, key: false, message: `${where}: is ${[...String(e.data)].length} characters; at most ${limit} are allowed` };
    case "minItems":
      return { path, key: false, message: `${where}: needs at least ${limit} ${limit === 1 ? "item" : "items"}` };
    case "maxItems":
      return { path, key: false, message: `${where}: has ${Array.isArray(e.data) ? e.data.length : "too many"} items; at most ${limit} are allowed` };
    case "minProperties":
      return { path, key: false, message: `${where}: must not be empty` };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return { path, key: false, message: `${where}: ${quote(e.data)} is out of range; ${e.message ?? e.keyword}` };
    case "anyOf": {
      const consts = (Array.isArray(parent.anyOf) ? (parent.anyOf as Record<string, unknown>[]) : []).map((b) => b.const);
      if (consts.length > 0 && consts.every((c) => typeof c === "string")) {
        const allowed = consts as string[];
        const near = typeof e.data === "string" ? suggest(e.data, allowed) : "";
        return { path, key: false, message: `${where}: ${quote(e.data)} is not allowed${near}; use ${allowed.map((c) => JSON.stringify(c)).join(" or ")}` };
      }
      const listKey = segs.length >= 2 && typeof segs[segs.length - 1] === "number" ? segs[segs.length - 2] : undefined;
      if (typeof e.data === "string" && (listKey === "next" || listKey === "on_error")) {
        // `next: [a, b]`: a list of ids reads naturally but means nothing; say what a list holds.
        const id = quote(e.data);
        return { path, key: false, message: `${where}: ${id} is a block id, but a list under ${listKey} holds rules; write ${listKey}: ${e.data.slice(0, 40)} to go to one block, or a rule such as { var: quality_answer, lte: 2, goto: ${e.data.slice(0, 40)} }` };
      }
      return { path, key: false, message: `${where}: must be ${describe(parent)}, not ${kindOf(e.data)}` };
    }
    default:
      return { path, key: false, message: `${where}: ${e.message ?? e.keyword}` };
  }
}

/** `buttons[2].value` for the ajv path segments. */
function renderPath(segs: readonly PathSeg[]): string {
  let out = "";
  for (const s of segs) out += typeof s === "number" ? `[${s}]` : out === "" ? s : `.${s}`;
  return out;
}

function decodePointer(seg: string): string | number {
  const s = seg.replaceAll("~1", "/").replaceAll("~0", "~");
  return /^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s;
}

/** A value as a message shows it: short, quoted, control characters escaped. */
export function quote(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return kindOf(v);
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return "empty";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `a string (${quote(v)})`;
  if (typeof v === "number") return `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

function typeName(t: unknown): string {
  const names: Record<string, string> = { string: "a string", number: "a number", integer: "a whole number", object: "a mapping", array: "a list", boolean: "true or false", null: "empty" };
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => names[String(x)] ?? String(x)).join(" or ");
}

/** What a schema accepts, in words: its types or constants, with its description when that is short. */
function describe(schema: Record<string, unknown>): string {
  const forms = [...new Set(formsOf(schema))];
  const list = forms.length <= 1 ? (forms[0] ?? "something else") : `${forms.slice(0, -1).join(", ")} or ${forms.at(-1)}`;
  const d = typeof schema.description === "string" ? schema.description.replace(/\.$/, "") : "";
  return d !== "" && d.length <= 40 && !d.includes(".") ? `${list} (${lowerFirst(d)})` : list;
}

function formsOf(schema: Record<string, unknown>): string[] {
  if (schema.const !== undefined) return [JSON.stringify(schema.const)];
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Record<string, unknown>[]).flatMap(formsOf);
  return schema.type !== undefined ? [typeName(schema.type)] : [];
}

/** "A branching rule" → "a branching rule"; "CSAT …" stays. */
function lowerFirst(s: string): string {
  return /^[A-Z](?![A-Z])/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}
