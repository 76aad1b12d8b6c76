/**
 * A loaded scenario as a graph for people: one node per block (in the file's order), one edge
 * per way the dialogue can move on — `next` and its rules, the skip button, invalid answers once
 * the re-prompts run out, the no-answer timeout, an action's failure branch, and a goto_scenario
 * handing over to another scenario. Pure data; engine/scenario-graph-mermaid.ts and
 * engine/scenario-graph-dot.ts draw it, and `botflow graph` prints them.
 *
 * The edges follow the interpreter's own rules (engine/interpreter.ts): a skip without its own
 * `next` goes on along the block's `next`, a question without `invalid` / `timeout` follows the
 * scenario's `defaults`, an action without `on_error` goes on along `next` when it fails, and a
 * rule after the default rule is never taken.
 *
 * @example
 * const graph = scenarioGraph(await loadScenarioFile("scenarios/csat.yaml", options));
 * graph.edges[0]; // { from: "ask_rating", to: "ask_comment", kind: "next" }
 */
import { DEFAULT_MAX_ATTEMPTS } from "./interpreter.ts";
import { isQuestion, type Localized, type NextSpec, type RuleSpec, type ScenarioBlock } from "./schema/scenario-schema.ts";
import type { LoadedScenario } from "./scenario.ts";
import { localize } from "./text.ts";

/**
 * How a node is drawn. Block types without a shape of their own (a type added after this file)
 * are drawn as `block`, so a new block type shows with its `next` edges without a change here.
 */
export type NodeShape = "question" | "message" | "action" | "end" | "handover" | "scenario" | "block";

export interface GraphNode {
  /** The block id; for a scenario handed over to, `scenario:<id>` (never a block id: `:` is not allowed in one). */
  id: string;
  shape: NodeShape;
  /** The block id (or scenario id), its type (an action's with its name), then short texts: its text, its buttons. Unescaped. */
  lines: string[];
}

/** Why the dialogue takes an edge: renderers draw the unhappy paths (skip, invalid, timeout, error) dashed. */
export type EdgeKind = "next" | "skip" | "invalid" | "timeout" | "error" | "handover";

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** Unescaped; absent on a plain `next`. */
  label?: string;
}

export interface ScenarioGraph {
  scenarioId: string;
  /** The start block's id. */
  start: string;
  /** Blocks in the file's order, then the scenarios handed over to, in the order first named. */
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphOptions {
  /** The locale whose texts the labels show; the scenario's default locale when absent. */
  locale?: string;
}

/** How many characters (grapheme clusters: an emoji is one) of a text a label shows. */
export const LABEL_TEXT_LENGTH = 40;

const SHAPES: Readonly<Partial<Record<string, NodeShape>>> = {
  message: "message",
  message_with_keyboard: "question",
  wait_for_response: "question",
  action: "action",
  end: "end",
  goto_scenario: "handover",
};

/** The scenario's blocks and the ways between them; see the file comment for the rules followed. */
export function scenarioGraph(scenario: LoadedScenario, options: GraphOptions = {}): ScenarioGraph {
  const locale = options.locale ?? scenario.locale;
  const text = (t: Localized | number): string => short(localize(t, locale, scenario.locale));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const targets: GraphNode[] = [];
  const defaults = scenario.def.defaults;

  for (const [id, block] of Object.entries(scenario.def.blocks)) {
    // An action's type line names the action: the config summary below it then has the room.
    const type = block.type === "action" ? `action ${block.action}` : block.type;
    nodes.push({ id, shape: SHAPES[block.type] ?? "block", lines: [id, type, ...blockTexts(block, text)] });
    // Read as a record: the fields that lead somewhere are the same in every block type that has
    // them, including types this file does not know yet.
    const fields = block as Readonly<Record<string, unknown>>;
    const next = asNext(fields.next);
    const add = (to: NextSpec | undefined, kind: EdgeKind, prefix?: string): void => {
      for (const { to: target, label } of branches(to)) {
        const joined = [prefix, label].filter((s) => s !== undefined).join(", ");
        edges.push({ from: id, to: target, kind, ...(joined !== "" ? { label: joined } : {}) });
      }
    };

    const onError = asNext(fields.on_error);
    add(next, "next", onError !== undefined && next !== undefined ? "ok" : undefined);
    if (onError !== undefined) add(onError, "error", "on error");

    const skip = record(fields.skip);
    if (skip) add(asNext(skip.next) ?? next, "skip", skipLabel(skip.label, text));

    const question = isQuestion(block);
    const invalid: Readonly<Record<string, unknown>> | undefined = record(fields.invalid) ?? (question ? defaults?.invalid : undefined);
    // A question's own invalid.default is recorded as its answer, so without invalid.next it goes on along next.
    const answered = invalid !== undefined && isScalar(invalid.default);
    if (invalid) add(asNext(invalid.next) ?? (answered ? next : undefined), "invalid", invalidLabel(invalid));

    const timeout = record(fields.timeout) ?? (question ? defaults?.timeout : undefined);
    if (timeout) add(asNext(timeout.next), "timeout", timeoutLabel(timeout.after));

    if (block.type === "goto_scenario") {
      const to = `scenario:${block.scenario}`;
      if (!targets.some((n) => n.id === to)) targets.push({ id: to, shape: "scenario", lines: [block.scenario, "scenario"] });
      edges.push({ from: id, to, kind: "handover" });
    }
  }
  return { scenarioId: scenario.id, start: scenario.def.start, nodes: [...nodes, ...targets], edges };
}

/** The short texts under a block's id and type: what it says, its buttons, what it runs, sets or passes on. */
function blockTexts(block: ScenarioBlock, text: (t: Localized | number) => string): string[] {
  switch (block.type) {
    case "message_with_keyboard":
      return [text(block.text), short(block.buttons.map((b) => localizedLabel(b.label, text)).join(" · "))];
    case "action":
      return configSummary(block.config);
    case "set":
      return [short(Object.keys(block.set).join(", "))];
    case "goto_scenario": {
      const passed = Object.keys(block.variables ?? {});
      return [short(`to ${block.scenario}${passed.length > 0 ? ` with ${passed.join(", ")}` : ""}`)];
    }
    default: {
      // Any other type, known or not: its text when it has one, else what its author noted.
      const fields = block as Readonly<Record<string, unknown>>;
      const own = isLocalized(fields.text) ? text(fields.text) : typeof fields.description === "string" ? short(fields.description) : "";
      return own === "" ? [] : [own];
    }
  }
}

function localizedLabel(label: Localized | number, text: (t: Localized | number) => string): string {
  return typeof label === "number" ? String(label) : text(label);
}

/** An action's scalar config values (`type: quality`), the part a reviewer can read at a glance. */
function configSummary(config: Readonly<Record<string, unknown>> | undefined): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(config ?? {})) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") out.push(`${key}: ${String(value)}`);
  }
  return out.length > 0 ? [short(out.join(", "))] : [];
}

/** Where `next` leads, each with its rule as a label; the rules after a default are never taken. */
function branches(next: NextSpec | undefined): { to: string; label?: string }[] {
  if (next === undefined) return [];
  if (typeof next === "string") return [{ to: next }];
  const out: { to: string; label?: string }[] = [];
  for (const rule of next) {
    if ("default" in rule) {
      out.push({ to: rule.default, label: "otherwise" });
      break;
    }
    out.push({ to: rule.goto, label: ruleLabel(rule) });
  }
  return out;
}

/** `quality_answer <= 2`; the loader allows one operator per rule, the interpreter would take any of several. */
export function ruleLabel(rule: Extract<RuleSpec, { var: string }>): string {
  const tests: string[] = [];
  if (rule.equals !== undefined) tests.push(`${rule.var} = ${JSON.stringify(rule.equals)}`);
  if (rule.lte !== undefined) tests.push(`${rule.var} <= ${rule.lte}`);
  if (rule.gte !== undefined) tests.push(`${rule.var} >= ${rule.gte}`);
  if (rule.in !== undefined) tests.push(`${rule.var} in [${rule.in.map((v) => JSON.stringify(v)).join(", ")}]`);
  return tests.join(" or ");
}

function skipLabel(label: unknown, text: (t: Localized | number) => string): string {
  return isLocalized(label) ? `skip “${text(label)}”` : "skip";
}

/** `max_attempts` counts re-prompts: the answer after the last one takes this edge. */
function invalidLabel(invalid: Readonly<Record<string, unknown>>): string {
  const max = typeof invalid.max_attempts === "number" ? invalid.max_attempts : DEFAULT_MAX_ATTEMPTS;
  const recorded = isScalar(invalid.default) ? `, records ${JSON.stringify(invalid.default)}` : "";
  return `invalid after ${max} re-prompt${max === 1 ? "" : "s"}${recorded}`;
}

/** The duration as the file writes it; a bare number is seconds. */
function timeoutLabel(after: unknown): string {
  return typeof after === "number" ? `timeout after ${after}s` : typeof after === "string" ? `timeout after ${after}` : "timeout";
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * One line, at most LABEL_TEXT_LENGTH characters (an emoji or a letter with its accents counts
 * once), "…" when cut: at the last space when one is near the end, so a word is not cut in two.
 */
export function short(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const chars = Array.from(segmenter.segment(line), (s) => s.segment);
  if (chars.length <= LABEL_TEXT_LENGTH) return line;
  const kept = chars.slice(0, LABEL_TEXT_LENGTH - 1);
  const space = chars[kept.length] === " " ? kept.length : kept.lastIndexOf(" ");
  const end = space >= (LABEL_TEXT_LENGTH * 2) / 3 ? space : kept.length;
  return `${kept.slice(0, end).join("").trimEnd()}…`;
}

function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** A `next`-shaped value: an id, or rules (the loader has checked their shape against the schema). */
function asNext(value: unknown): NextSpec | undefined {
  if (typeof value === "string") return value;
  return Array.isArray(value) && value.every((r) => record(r) !== undefined) ? (value as NextSpec) : undefined;
}

function isScalar(value: unknown): value is string | number {
  return typeof value === "string" || typeof value === "number";
}

function isLocalized(value: unknown): value is Localized {
  return typeof value === "string" || (record(value) !== undefined && Object.values(value as object).every((v) => typeof v === "string"));
}
