/**
 * Strict scenario loading: YAML → schema (ajv, draft 2020-12) → graph checks, every
 * problem with its file, line and column. Nothing runs until a scenario loads clean.
 *
 * @example
 * const scenario = await loadScenarioFile("scenarios/csat.yaml", { actions });
 */
import { readFile } from "node:fs/promises";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { NUMERIC_STAT_VARIABLES, type ActionSpec, type ChannelLimits } from "./catalog.ts";
import { ScenarioError, type ScenarioProblem } from "./errors.ts";
import { BLOCK_SCHEMAS, ID_PATTERN, ScenarioSchema, type BlockType, type NextSpec, type Scenario, type ScenarioBlock } from "./schema/scenario-schema.ts";
import type { LoadedScenario } from "./scenario.ts";
import { localize } from "./text.ts";
import { parseYamlSource, type PathSeg, type YamlSource } from "./yaml-source.ts";

export interface LoadOptions {
  /** Actions scenarios may use; unknown names and config keys are errors. */
  actions?: readonly ActionSpec[];
  /** Limits of the enabled channels. */
  channels?: readonly ChannelLimits[];
}

export interface LoadResult {
  scenario?: LoadedScenario;
  problems: ScenarioProblem[];
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const BLOCK_TYPES = Object.keys(BLOCK_SCHEMAS) as BlockType[];
// Top level with blocks left open: each block is validated against its own type's schema,
// which gives one clear message instead of five from an anyOf over every block type.
const validateTop = ajv.compile({
  ...structuredClone(ScenarioSchema),
  properties: {
    ...structuredClone(ScenarioSchema.properties),
    blocks: { type: "object", minProperties: 1, propertyNames: { pattern: ID_PATTERN }, additionalProperties: { type: "object" } },
  },
});
const validateBlock = new Map<string, ValidateFunction>(BLOCK_TYPES.map((t) => [t, ajv.compile(BLOCK_SCHEMAS[t])]));
const actionValidators = new WeakMap<ActionSpec, ValidateFunction>();

/** Loads and checks one scenario file; throws ScenarioError listing every problem when it has errors. */
export async function loadScenarioFile(file: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const text = await readFile(file, "utf8");
  const result = loadScenarioText(text, file, options);
  if (!result.scenario) throw new ScenarioError(result.problems);
  return result.scenario;
}

/** Checks a scenario's text; returns the scenario when there is no error, and every problem found. */
export function loadScenarioText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const parsed = parseYamlSource(text);
  if (!parsed.source) {
    return { problems: parsed.problems.map((p) => ({ file, line: p.line, col: p.col, severity: "error", message: p.message })) };
  }
  const checker = new Checker(file, parsed.source, options);
  const def = checker.checkSchema();
  if (def) checker.checkGraph(def);
  const problems = checker.problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (!def || problems.some((p) => p.severity === "error")) return { problems };
  return {
    problems,
    scenario: {
      def,
      id: def.id,
      version: def.version !== undefined ? String(def.version) : parsed.source.hash,
      locale: def.locale ?? "en",
      source: file,
    },
  };
}

class Checker {
  readonly problems: ScenarioProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly src: YamlSource,
    private readonly options: LoadOptions,
  ) {}

  report(path: readonly PathSeg[], message: string, severity: "error" | "warning" = "error", key = false): void {
    const pos = this.src.locate(path, key);
    const blockId = path[0] === "blocks" && typeof path[1] === "string" ? path[1] : undefined;
    this.problems.push({ file: this.file, line: pos.line, col: pos.col, severity, message, ...(blockId ? { blockId } : {}) });
  }

  checkSchema(): Scenario | undefined {
    const value = this.src.value;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.report([], "a scenario is a YAML mapping with id, start and blocks");
      return undefined;
    }
    let ok = validateTop(value);
    if (!ok) this.reportAjv(validateTop.errors ?? [], [], "");
    const blocks = (value as { blocks?: unknown }).blocks;
    if (blocks && typeof blocks === "object" && !Array.isArray(blocks)) {
      for (const [id, block] of Object.entries(blocks)) {
        if (!block || typeof block !== "object" || Array.isArray(block)) continue; // reported by validateTop
        const type = (block as { type?: unknown }).type;
        const validate = typeof type === "string" ? validateBlock.get(type) : undefined;
        if (!validate) {
          ok = false;
          const where = type === undefined ? ["blocks", id] : ["blocks", id, "type"];
          this.report(where, `block "${id}": ${type === undefined ? "missing" : `unknown`} type${type === undefined ? "" : ` "${String(type)}"`}; use one of ${BLOCK_TYPES.join(", ")}`);
          continue;
        }
        if (!validate(block)) {
          ok = false;
          this.reportAjv(validate.errors ?? [], ["blocks", id], `block "${id}"`);
        }
      }
    }
    return ok ? (value as Scenario) : undefined;
  }

  private reportAjv(errors: ErrorObject[], base: PathSeg[], label: string): void {
    // Inside an anyOf, the branch errors are noise: keep the anyOf's own error and say what it accepts.
    const anyOfPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.schemaPath);
    const seen = new Set<string>();
    for (const e of errors) {
      if (e.keyword !== "anyOf" && anyOfPaths.some((p) => e.schemaPath.startsWith(p + "/"))) continue;
      const path = [...base, ...e.instancePath.split("/").slice(1).map(decodePointer)];
      const where = (label ? [label] : []).concat(e.instancePath ? [e.instancePath.slice(1).replaceAll("/", ".")] : []).join(" ");
      let message: string;
      let key = false;
      let at = path;
      switch (e.keyword) {
        case "additionalProperties": {
          const extra = String(e.params.additionalProperty);
          at = [...path, extra];
          key = true;
          const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
          message = `${where ? where + ": " : ""}unknown key "${extra}"${allowed.length ? `; allowed keys: ${allowed.join(", ")}` : ""}`;
          break;
        }
        case "required":
          message = `${where ? where + ": " : ""}missing required key "${String(e.params.missingProperty)}"`;
          break;
        case "anyOf":
          message = `${where || "value"}: must be ${describe(e.parentSchema) ?? "one of the allowed forms"}`;
          break;
        case "propertyNames":
          continue; // the pattern error that follows names the bad key
        case "pattern":
          if (e.propertyName !== undefined || e.instancePath === "" ) {
            message = `${where ? where + ": " : ""}"${String(e.propertyName ?? "")}" is not a valid id: ${describe(e.parentSchema) ?? `must match ${String(e.params.pattern)}`}`;
          } else {
            message = `${where}: "${String(e.data)}" ${describe(e.parentSchema) ? `is not valid: ${describe(e.parentSchema)}` : `must match ${String(e.params.pattern)}`}`;
          }
          break;
        default:
          message = `${where || "scenario"}: ${e.message ?? e.keyword}`;
      }
      if (e.propertyName !== undefined) {
        at = [...path, e.propertyName];
        key = true;
      }
      const dedupe = `${at.join("/")}|${message}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      this.report(at, message, "error", key);
    }
  }

  checkGraph(def: Scenario): void {
    const ids = new Set(Object.keys(def.blocks));
    const edges = new Map<string, Set<string>>();
    const target = (path: PathSeg[], id: string, from: string | null): void => {
      if (!ids.has(id)) {
        this.report(path, `${from ? `block "${from}"` : "start"}: no block "${id}"${suggest(id, ids)}`);
        return;
      }
      if (from) edges.get(from)?.add(id);
    };
    const walkNext = (path: PathSeg[], next: NextSpec | undefined, from: string): void => {
      if (next === undefined) return;
      if (typeof next === "string") return target(path, next, from);
      next.forEach((rule, i) => {
        if ("default" in rule) {
          target([...path, i, "default"], rule.default, from);
          if (i !== next.length - 1) this.report([...path, i], `block "${from}": rules after a default rule are never used`, "warning");
          return;
        }
        const ops = (["equals", "lte", "gte", "in"] as const).filter((op) => rule[op] !== undefined);
        if (ops.length !== 1) {
          this.report([...path, i], `block "${from}": a rule needs exactly one of equals, lte, gte, in (found ${ops.length ? ops.join(", ") : "none"})`);
        }
        target([...path, i, "goto"], rule.goto, from);
      });
    };

    target(["start"], def.start, null);
    for (const [id, block] of Object.entries(def.blocks)) {
      edges.set(id, new Set());
      const base: PathSeg[] = ["blocks", id];
      if (block.type !== "end") walkNext([...base, "next"], block.next, id);
      if (block.type === "action") {
        walkNext([...base, "on_error"], block.on_error, id);
        this.checkAction(base, id, block.action, block.config);
      }
      if (block.type === "message_with_keyboard" || block.type === "wait_for_response") {
        walkNext([...base, "invalid", "next"], block.invalid?.next, id);
        walkNext([...base, "skip", "next"], block.skip?.next, id);
        walkNext([...base, "timeout", "next"], block.timeout?.next, id);
      }
      if (block.type === "message_with_keyboard") this.checkKeyboard(def, base, id, block);
      if (block.type === "wait_for_response" && block.min_length !== undefined && block.max_length !== undefined && block.min_length > block.max_length) {
        this.report([...base, "min_length"], `block "${id}": min_length ${block.min_length} is greater than max_length ${block.max_length}`);
      }
      this.checkTexts(def, base, id, block);
    }
    // Defaults' targets are reachable from any waiting block.
    const waiting = [...ids].filter((id) => isWaiting(def.blocks[id]));
    const defaultsTargets: string[] = [];
    for (const key of ["invalid", "timeout"] as const) {
      const next = def.defaults?.[key]?.next;
      if (next === undefined) continue;
      const before = this.problems.length;
      walkNext(["defaults", key, "next"], next, "__defaults__");
      if (this.problems.length === before) defaultsTargets.push(...targetsOf(next));
    }
    for (const w of waiting) for (const t of defaultsTargets) edges.get(w)?.add(t);

    if (ids.has(def.start)) {
      const reached = new Set<string>([def.start]);
      const queue = [def.start];
      while (queue.length > 0) {
        const cur = queue.pop() as string;
        for (const n of edges.get(cur) ?? []) if (!reached.has(n)) (reached.add(n), queue.push(n));
      }
      for (const id of ids) if (!reached.has(id)) this.report(["blocks", id], `block "${id}" is never reached from start "${def.start}"`, "warning", true);
    }
    this.checkLoops(def, edges);
  }

  private checkAction(base: PathSeg[], id: string, name: string, config: Record<string, unknown> | undefined): void {
    const actions = this.options.actions;
    if (!actions) return;
    const spec = actions.find((a) => a.name === name);
    if (!spec) {
      const known = actions.map((a) => a.name);
      this.report([...base, "action"], `block "${id}": unknown action "${name}"${suggest(name, new Set(known))}; known actions: ${known.join(", ") || "none"}`);
      return;
    }
    let validate = actionValidators.get(spec);
    if (!validate) {
      validate = ajv.compile(spec.configSchema);
      actionValidators.set(spec, validate);
    }
    if (!validate(config ?? {})) {
      this.reportAjv(
        (validate.errors ?? []).map((e) => ({ ...e })),
        [...base, "config"],
        `block "${id}" config of ${name}`,
      );
    }
  }

  private checkKeyboard(def: Scenario, base: PathSeg[], id: string, block: Extract<ScenarioBlock, { type: "message_with_keyboard" }>): void {
    const values = new Map<string, number>();
    const labels = new Map<string, number>();
    const numeric = block.save_to !== undefined && NUMERIC_STAT_VARIABLES.has(block.save_to);
    const locale = def.locale ?? "en";
    block.buttons.forEach((b, i) => {
      const value = b.value ?? (typeof b.label === "number" ? b.label : localize(b.label, locale, locale));
      if (numeric && typeof value !== "number") {
        this.report([...base, "buttons", i, b.value === undefined ? "label" : "value"], `block "${id}": button ${i + 1} records "${String(value)}" into ${block.save_to}, which feeds statistics and must be a number; add value: <number> (e.g. 👍 → 100)`);
      }
      const vk = `${typeof value}:${String(value)}`;
      const dup = values.get(vk);
      if (dup !== undefined) this.report([...base, "buttons", i, b.value === undefined ? "label" : "value"], `block "${id}": button ${i + 1} has the same value ${JSON.stringify(value)} as button ${dup + 1}`);
      else values.set(vk, i);
      const lk = localize(typeof b.label === "number" ? String(b.label) : b.label, locale, locale).trim().toLowerCase();
      const dupLabel = labels.get(lk);
      if (dupLabel !== undefined) this.report([...base, "buttons", i, "label"], `block "${id}": button ${i + 1} has the same label as button ${dupLabel + 1}; a typed answer could not tell them apart`);
      else labels.set(lk, i);
    });
    for (const limits of this.options.channels ?? []) {
      const count = block.buttons.length + (block.skip ? 1 : 0);
      if (count > limits.maxButtons) {
        this.report([...base, "buttons"], `block "${id}": ${count} buttons; ${limits.channel} shows at most ${limits.maxButtons}`);
      }
      const all: { path: PathSeg[]; label: ScenarioBlock extends never ? never : unknown }[] = [
        ...block.buttons.map((b, i) => ({ path: [...base, "buttons", i, "label"] as PathSeg[], label: b.label as unknown })),
        ...(block.skip ? [{ path: [...base, "skip", "label"] as PathSeg[], label: block.skip.label as unknown }] : []),
      ];
      for (const { path, label } of all) {
        for (const [loc, text] of variants(label)) {
          if ([...text].length > limits.maxLabelLength) {
            this.report(path, `block "${id}": label "${text}"${loc ? ` (${loc})` : ""} is ${[...text].length} characters; ${limits.channel} allows ${limits.maxLabelLength}`);
          }
        }
      }
    }
  }

  private checkTexts(def: Scenario, base: PathSeg[], id: string, block: ScenarioBlock): void {
    const locale = def.locale ?? "en";
    const texts: [PathSeg[], unknown][] = [];
    if ("text" in block && block.text !== undefined) texts.push([[...base, "text"], block.text]);
    if ((block.type === "message_with_keyboard" || block.type === "wait_for_response") && block.invalid?.text !== undefined) {
      texts.push([[...base, "invalid", "text"], block.invalid.text]);
    }
    for (const [path, text] of texts) {
      if (text && typeof text === "object" && !(locale in text)) {
        this.report(path, `block "${id}": no text for the default locale "${locale}" (has ${Object.keys(text).join(", ")})`, "warning");
      }
      for (const limits of this.options.channels ?? []) {
        for (const [loc, t] of variants(text)) {
          if ([...t].length > limits.maxTextLength) this.report(path, `block "${id}": text${loc ? ` (${loc})` : ""} is ${[...t].length} characters; ${limits.channel} allows ${limits.maxTextLength}`);
        }
      }
    }
  }

  /** Loops through message and action blocks only would run forever without the user: refuse them. */
  private checkLoops(def: Scenario, edges: Map<string, Set<string>>): void {
    const moving = (id: string): boolean => {
      const b = def.blocks[id];
      return b !== undefined && !isWaiting(b);
    };
    const color = new Map<string, 1 | 2>();
    const reported = new Set<string>();
    const stack: string[] = [];
    const visit = (id: string): void => {
      color.set(id, 1);
      stack.push(id);
      for (const n of edges.get(id) ?? []) {
        if (!moving(n)) continue;
        const c = color.get(n);
        if (c === 1) {
          const cycle = stack.slice(stack.indexOf(n));
          const key = [...cycle].sort().join(",");
          if (!reported.has(key)) {
            reported.add(key);
            this.report(["blocks", n], `blocks ${[...cycle, n].map((x) => `"${x}"`).join(" → ")} form a loop with no block that waits for the user; it would never stop`, "error", true);
          }
        } else if (c === undefined) visit(n);
      }
      stack.pop();
      color.set(id, 2);
    };
    for (const id of Object.keys(def.blocks)) if (moving(id) && !color.has(id)) visit(id);
  }
}

function isWaiting(b: ScenarioBlock | undefined): boolean {
  return b?.type === "message_with_keyboard" || b?.type === "wait_for_response";
}

function targetsOf(next: NextSpec): string[] {
  if (typeof next === "string") return [next];
  return next.map((r) => ("default" in r ? r.default : r.goto));
}

function variants(text: unknown): [string | null, string][] {
  if (typeof text === "string") return [[null, text]];
  if (typeof text === "number") return [[null, String(text)]];
  if (text && typeof text === "object") return Object.entries(text as Record<string, string>);
  return [];
}

function describe(schema: unknown): string | undefined {
  const d = (schema as { description?: unknown } | null)?.description;
  return typeof d === "string" ? d.charAt(0).toLowerCase() + d.slice(1).replace(/\.$/, "") : undefined;
}

function decodePointer(seg: string): string | number {
  const s = seg.replaceAll("~1", "/").replaceAll("~0", "~");
  return /^[0-9]+$/.test(s) ? Number(s) : s;
}

/** " (did you mean "x"?)" for a near miss. */
function suggest(name: string, known: Set<string>): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) (bestD = d), (best = k);
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
