/**
 * The checks that run once a scenario matches the schema: the block graph (targets,
 * reachability, loops that never wait, rules), keyboards (numeric values for statistics,
 * duplicates, channel limits, a re-prompt default among the values), texts (default locale,
 * channel limits, variables), set blocks (operations, operands) and actions (known names,
 * config keys). Each problem is reported at the node at fault.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import { NUMERIC_STAT_VARIABLES, type ActionSpec, type ChannelLimits } from "./catalog.ts";
import { quote, schemaProblems } from "./schema-problems.ts";
import type { Handover } from "./scenario.ts";
import { isQuestion, SET_OPERATIONS, type KeyboardBlock, type NextSpec, type Scenario, type ScenarioBlock, type SetBlock, type WaitBlock } from "./schema/scenario-schema.ts";
import { NUMBER_TEXT } from "./set-block.ts";
import { checkChannels, variants, type QuestionChannelPlans } from "./channel-checks.ts";
import { closest, suggest } from "./suggest.ts";
import { parseSurveyRules, type SurveyRules } from "./survey-rules.ts";
import { localize } from "./text.ts";
import type { PathSeg } from "./yaml-source.ts";

/** Records a problem at `path` (its key when `key` is set). */
export type Report = (path: PathSeg[], message: string, severity?: "error" | "warning", key?: boolean) => void;

export interface CheckOptions {
  actions?: readonly ActionSpec[];
  /** The enabled channels: what they cannot send is an error. */
  channels?: readonly ChannelLimits[];
  /** The channels that are not enabled: what they cannot send is a warning. */
  otherChannels?: readonly ChannelLimits[];
}

const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
const actionValidators = new WeakMap<ActionSpec, ValidateFunction>();
const OPERATORS = ["equals", "lte", "gte", "in"] as const;
const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

type Edges = Map<string, Map<string, PathSeg[]>>;

/** What the checks parsed on the way, for the loaded scenario to carry. */
export interface Checked {
  /** `survey_rules:` as the trigger API applies them; absent when the scenario declares none or they are invalid. */
  surveyRules?: SurveyRules;
  /** The goto_scenario blocks (the loader adds where each stands). */
  handovers: Omit<Handover, "line" | "col">[];
  /** What each channel makes of each question block (`botflow validate --channels`). */
  channelPlans: QuestionChannelPlans[];
}

/**
 * A scenario as far as it matched the schema: every block and top-level key here is valid; an
 * `id` or `start` that was not is absent, and the blocks that failed are in {@link Unchecked}.
 */
export type CheckableScenario = Omit<Scenario, "id" | "start"> & { id?: string; start?: string };

/** What the schema refused, so the checks skip only what cannot be checked. */
export interface Unchecked {
  /** Every block id in the file's order, the refused ones too: they exist, so a `next` to one is no unknown target. */
  ids: readonly string[];
  /** Blocks that failed the schema and are not checked: whether one waits for the user, and the keys it has. */
  blocks: ReadonlyMap<string, { waits: boolean; keys: ReadonlySet<string> }>;
  /** The ways on that could be read under what the schema refused (a block's `next` beside a wrong `text`; `timeout.next` beside a wrong `timeout.after`). */
  flow: readonly { blockId: string; path: PathSeg[]; next: NextSpec }[];
  /** Blocks with a way on that could not be read: whatever they lead to may be reached. */
  unreadableFlow: ReadonlySet<string>;
  /** Some save_to, set or action config could not be read: a variable may be saved that the checks cannot see. */
  uncertainSaves: boolean;
}

const ALL_CHECKED: Unchecked = { ids: [], blocks: new Map(), flow: [], unreadableFlow: new Set(), uncertainSaves: false };

/**
 * Runs every check on a scenario, or on what of it matched the schema (`unchecked` says what did
 * not): a refused block is still a block that `next` may name, and its readable `next` still
 * reaches others.
 */
export function checkScenario(def: CheckableScenario, options: CheckOptions, report: Report, unchecked: Unchecked = ALL_CHECKED): Checked {
  const checked: Checked = { handovers: [], channelPlans: [] };
  // A variable warning is only as good as the list of saved ones: when some could not be read, leave them out.
  const warnUnsaved = !unchecked.uncertainSaves;
  if (def.survey_rules !== undefined) {
    // The schema checked the shapes; what it cannot (a real time zone, quiet hours of zero length) is checked by the one parser.
    const rules = parseSurveyRules(def.survey_rules, "survey_rules");
    if (rules.ok) checked.surveyRules = rules.rules;
    else report(rules.field.split("."), `${rules.field}: ${rules.message}`);
  }
  if (def.dimensions !== undefined) {
    const seen = new Set<string>();
    def.dimensions.forEach((d, i) => {
      const name = typeof d === "string" ? d : d.name;
      if (seen.has(name)) report(["dimensions", i], `dimensions: ${quote(name)} is listed twice; list each variable once`);
      seen.add(name);
    });
  }
  const ids = unchecked.ids.length > 0 ? [...unchecked.ids] : Object.keys(def.blocks);
  const idSet = new Set(ids);
  const edges: Edges = new Map(ids.map((id) => [id, new Map()]));
  const saved = new Set<string>();
  for (const block of Object.values(def.blocks)) {
    if ("save_to" in block && block.save_to !== undefined) saved.add(block.save_to);
    if (block.type === "set") for (const name of Object.keys(block.set)) saved.add(name);
  }
  for (const block of Object.values(def.blocks)) if (block.type === "action") for (const v of actionSaves(block.action, block.config, options.actions)) saved.add(v);

  const target = (path: PathSeg[], id: string, where: string, from: string | null): boolean => {
    if (!idSet.has(id)) {
      const near = closest(id, ids);
      const hint = near ? ` (did you mean "${near}"?)` : `; blocks are: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}`;
      report(path, `${where}: no block ${quote(id)}${hint}`);
      return false;
    }
    const out = from === null ? undefined : edges.get(from);
    if (out && !out.has(id)) out.set(id, path);
    return true;
  };
  const walkNext = (path: PathSeg[], next: NextSpec | undefined, where: string, from: string | null): boolean => {
    if (next === undefined) return true;
    if (typeof next === "string") return target(path, next, where, from);
    let ok = true;
    let dead = false;
    next.forEach((rule, i) => {
      const at = [...path, i];
      const w = `${where}[${i}]`;
      if (i > 0 && "default" in (next[i - 1] as object)) {
        report(at, `${w}: this rule comes after the default rule and is never used; move the default rule to the end`, "warning");
      }
      // A rule after the default is never taken: its target must exist but is not reached through it.
      const edgeFrom = dead ? null : from;
      if ("default" in rule) {
        ok = target([...at, "default"], rule.default, `${w}.default`, edgeFrom) && ok;
        dead = true;
        return;
      }
      // In the order written, so the second operator is the one pointed at.
      const ops = Object.keys(rule).filter((k): k is (typeof OPERATORS)[number] => (OPERATORS as readonly string[]).includes(k));
      if (ops.length === 0) {
        report(at, `${w}: a rule needs one of equals, lte, gte or in, e.g. { var: ${rule.var}, lte: 2, goto: ${rule.goto} }`);
      } else if (ops.length > 1) {
        report([...at, ops[1] as string], `${w}: a rule tests one operator, found ${ops.join(" and ")}; split it into one rule per operator (use in: [3, 4] for a set of values)`, "error", true);
      }
      if (warnUnsaved && !saved.has(rule.var)) {
        report([...at, "var"], `${w}: no block saves variable ${quote(rule.var)}${suggest(rule.var, saved)}, so this rule never matches; name a save_to variable`, "warning");
      }
      ok = target([...at, "goto"], rule.goto, `${w}.goto`, edgeFrom) && ok;
    });
    return ok;
  };

  if (def.start !== undefined) target(["start"], def.start, "start", null);
  for (const f of unchecked.flow) walkNext(f.path, f.next, `block "${f.blockId}" ${f.path.slice(2).join(".")}`, f.blockId);
  for (const [id, block] of Object.entries(def.blocks)) {
    const base: PathSeg[] = ["blocks", id];
    const label = `block "${id}"`;
    if (block.type !== "end" && block.type !== "goto_scenario") walkNext([...base, "next"], block.next, `${label} next`, id);
    if (block.type === "action") {
      walkNext([...base, "on_error"], block.on_error, `${label} on_error`, id);
      checkAction(base, id, block.action, block.config, options.actions, report);
    }
    if (isQuestion(block)) {
      walkNext([...base, "invalid", "next"], block.invalid?.next, `${label} invalid.next`, id);
      walkNext([...base, "skip", "next"], block.skip?.next, `${label} skip.next`, id);
      walkNext([...base, "timeout", "next"], block.timeout?.next, `${label} timeout.next`, id);
      checkButtons(def, base, id, block, report);
      checkDefault(def, base, id, block, report);
    }
    // Its next is walked above like any block's, so a loop of set blocks is a loop that never waits.
    if (block.type === "set") checkSet(base, id, block, saved, warnUnsaved, report);
    if (block.type === "wait_for_response" && block.min_length !== undefined && block.max_length !== undefined && block.min_length > block.max_length) {
      report([...base, "min_length"], `${label}: min_length ${block.min_length} is greater than max_length ${block.max_length}; no answer could be accepted`);
    }
  }
  checkTexts(def, saved, warnUnsaved, report);
  checked.channelPlans = checkChannels(def, { enabled: options.channels ?? [], others: options.otherChannels ?? [] }, report);

  // A waiting block without its own `invalid` / `timeout` follows the scenario's defaults.
  for (const key of ["invalid", "timeout"] as const) {
    const next = def.defaults?.[key]?.next;
    if (next === undefined || !walkNext(["defaults", key, "next"], next, `defaults.${key}.next`, null)) continue;
    for (const [id, block] of Object.entries(def.blocks)) {
      if (isQuestion(block) && block[key] === undefined) {
        for (const t of targetsOf(next)) if (!edges.get(id)?.has(t)) edges.get(id)?.set(t, ["defaults", key, "next"]);
      }
    }
    for (const [id, part] of unchecked.blocks) {
      if (part.waits && !part.keys.has(key)) for (const t of targetsOf(next)) if (!edges.get(id)?.has(t)) edges.get(id)?.set(t, ["defaults", key, "next"]);
    }
  }

  if (def.start !== undefined && idSet.has(def.start)) {
    const reached = new Set<string>([def.start]);
    const queue = [def.start];
    while (queue.length > 0) {
      const cur = queue.pop() as string;
      for (const n of edges.get(cur)?.keys() ?? []) if (!reached.has(n)) (reached.add(n), queue.push(n));
    }
    // Past a block whose way on could not be read, anything may be reached: say nothing rather than something false.
    const blind = [...unchecked.unreadableFlow].some((id) => reached.has(id));
    for (const id of blind ? [] : ids) {
      if (!reached.has(id)) report(["blocks", id], `block "${id}" is never reached from start "${def.start}"; link it from another block's next, or remove it`, "warning", true);
    }
  }
  checkLoops(def, edges, report);
  checked.handovers = checkSelfHandovers(def, edges, (id) => unchecked.blocks.get(id)?.waits ?? isQuestion(def.blocks[id]), report);
  return checked;
}

/**
 * The goto_scenario blocks, each marked when it is reached from start without a waiting block;
 * one that hands over to this very scenario that way would restart it forever: refuse it.
 * (Loops through other scenarios need them all: engine/handovers.ts checks those.)
 */
function checkSelfHandovers(def: CheckableScenario, edges: Edges, waits: (id: string) => boolean, report: Report): Checked["handovers"] {
  const immediate = new Set<string>();
  if (def.start !== undefined && edges.has(def.start)) {
    const queue = [def.start];
    immediate.add(def.start);
    while (queue.length > 0) {
      const cur = queue.pop() as string;
      if (waits(cur)) continue; // the user answers before anything after it
      for (const n of edges.get(cur)?.keys() ?? []) if (!immediate.has(n)) (immediate.add(n), queue.push(n));
    }
  }
  const out: Checked["handovers"] = [];
  for (const [id, block] of Object.entries(def.blocks)) {
    if (block.type !== "goto_scenario") continue;
    const now = immediate.has(id);
    out.push({ blockId: id, target: block.scenario, immediate: now });
    if (now && def.id !== undefined && block.scenario === def.id) {
      report(
        ["blocks", id, "scenario"],
        `block "${id}": hands over to this scenario ("${def.id}") itself before anything waits for the user, so it would restart forever; put a message_with_keyboard or wait_for_response block on the way from start "${def.start ?? ""}", or end the dialogue instead`,
      );
    }
  }
  return out;
}

function targetsOf(next: NextSpec): string[] {
  if (typeof next === "string") return [next];
  return next.map((r) => ("default" in r ? r.default : r.goto));
}

/** A loop through message and action blocks only would run forever without the user: refuse it. */
function checkLoops(def: CheckableScenario, edges: Edges, report: Report): void {
  const moving = (id: string): boolean => def.blocks[id] !== undefined && !isQuestion(def.blocks[id]);
  const color = new Map<string, "open" | "done">();
  const reported = new Set<string>();
  for (const root of Object.keys(def.blocks)) {
    if (!moving(root) || color.has(root)) continue;
    // Iterative depth-first search: `stack` is the current path, each with its pending successors.
    const stack: { id: string; rest: string[] }[] = [{ id: root, rest: [...(edges.get(root)?.keys() ?? [])] }];
    color.set(root, "open");
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; rest: string[] };
      const n = top.rest.shift();
      if (n === undefined) {
        color.set(top.id, "done");
        stack.pop();
        continue;
      }
      if (!moving(n)) continue;
      const c = color.get(n);
      if (c === undefined) {
        color.set(n, "open");
        stack.push({ id: n, rest: [...(edges.get(n)?.keys() ?? [])] });
      } else if (c === "open") {
        const cycle = stack.slice(stack.findIndex((f) => f.id === n)).map((f) => f.id);
        const key = [...cycle].sort().join("\u0000");
        if (reported.has(key)) continue;
        reported.add(key);
        const path = edges.get(top.id)?.get(n) ?? ["blocks", n];
        report(
          path,
          `blocks ${showCycle([...cycle, n])} loop without waiting for the user and would repeat forever; send the loop through a message_with_keyboard or wait_for_response block, or end it`,
        );
      }
    }
  }
}

/** `"a" → "b" → "a"`; a long loop shows its ends and how many blocks it passes. */
function showCycle(ids: string[]): string {
  const q = (x: string): string => `"${x}"`;
  if (ids.length <= 8) return ids.map(q).join(" → ");
  return `${ids.slice(0, 3).map(q).join(" → ")} → … → ${ids.slice(-3).map(q).join(" → ")} (${ids.length - 1} blocks)`;
}

function validatorOf(spec: ActionSpec): ValidateFunction {
  let validate = actionValidators.get(spec);
  if (!validate) {
    validate = ajv.compile(spec.configSchema);
    actionValidators.set(spec, validate);
  }
  return validate;
}

/** The variables an action block saves (ActionSpec.savesVariables), when its config is valid. */
function actionSaves(name: string, config: Record<string, unknown> | undefined, actions: readonly ActionSpec[] | undefined): string[] {
  const spec = actions?.find((a) => a.name === name);
  if (!spec?.savesVariables || !validatorOf(spec)(config ?? {})) return [];
  return spec.savesVariables(config ?? {});
}

function checkAction(base: PathSeg[], id: string, name: string, config: Record<string, unknown> | undefined, actions: readonly ActionSpec[] | undefined, report: Report): void {
  if (!actions) return;
  const spec = actions.find((a) => a.name === name);
  if (!spec) {
    const known = actions.map((a) => a.name);
    report([...base, "action"], `block "${id}": unknown action ${quote(name)}${suggest(name, known)}; known actions: ${known.join(", ") || "none"}`);
    return;
  }
  const validate = validatorOf(spec);
  if (validate(config ?? {})) {
    // Beyond the schema: what only the action can judge (an allowlisted host), at the key at fault.
    for (const p of spec.checkConfig?.(config ?? {}) ?? []) report([...base, "config", ...p.path], `block "${id}" (${name}): ${p.message}`);
    return;
  }
  if (config === undefined) {
    // No config at all: the action line is what needs one; show a config to start from.
    const schema = spec.configSchema as { required?: unknown; properties?: Record<string, { enum?: unknown }> };
    const required = Array.isArray(schema.required) ? schema.required.map(String) : [];
    const example = required.map((k) => {
      const choices = schema.properties?.[k]?.enum;
      return `${k}: ${Array.isArray(choices) && choices.length > 0 ? String(choices[0]) : "<value>"}`;
    });
    report([...base, "action"], `block "${id}": ${name} needs a config; add config: { ${example.join(", ")} }`);
    return;
  }
  // An if/then's own error ("must match then schema") only repeats the specific ones beside it.
  const all = validate.errors ?? [];
  // A key refused as unknown (additionalProperties) is not reported again by a propertyNames rule.
  const unknown = new Set(all.flatMap((e) => (e.keyword === "additionalProperties" ? [`${e.instancePath}/${String((e.params as { additionalProperty?: unknown }).additionalProperty)}`] : [])));
  const named = (e: (typeof all)[number]) => `${e.instancePath}/${String(e.propertyName ?? (e.params as { propertyName?: unknown }).propertyName)}`;
  const errors = all.filter((e) => e.keyword !== "if" && !((e.keyword === "propertyNames" || e.propertyName !== undefined) && unknown.has(named(e))));
  for (const p of schemaProblems(errors, [...base, "config"], `block "${id}" (${name})`, ["config"])) report(p.path, p.message, "error", p.key);
}

function checkButtons(def: CheckableScenario, base: PathSeg[], id: string, block: KeyboardBlock | WaitBlock, report: Report): void {
  const locale = def.locale ?? "en";
  if (block.type === "message_with_keyboard") {
    const values = new Map<string, number>();
    const seenLabels = new Map<string, number>();
    const numeric = block.save_to !== undefined && NUMERIC_STAT_VARIABLES.has(block.save_to);
    block.buttons.forEach((b, i) => {
      const at: PathSeg[] = [...base, "buttons", i, b.value === undefined ? "label" : "value"];
      const value = b.value ?? (typeof b.label === "number" ? b.label : localize(b.label, locale, locale));
      if (numeric && typeof value !== "number") {
        const numberLike = /^-?[0-9]+(\.[0-9]+)?$/.test(value.trim());
        const fix = numberLike ? (b.value === undefined ? `add value: ${value.trim()}` : `write value: ${value.trim()} without quotes`) : "add value: <number> (e.g. 👍 → 100)";
        report(at, `block "${id}": button ${i + 1} records ${quote(value)} into ${block.save_to}, which feeds statistics and must be a number; ${fix}`);
      }
      const vk = `${typeof value}:${String(value)}`;
      const dup = values.get(vk);
      if (dup !== undefined) report(at, `block "${id}": button ${i + 1} records the same value ${quote(value)} as button ${dup + 1}; give each button its own value`);
      else values.set(vk, i);
      const lk = localize(typeof b.label === "number" ? String(b.label) : b.label, locale, locale).trim().toLowerCase();
      const dupLabel = seenLabels.get(lk);
      if (dupLabel !== undefined) report([...base, "buttons", i, "label"], `block "${id}": button ${i + 1} has the same label as button ${dupLabel + 1}; a typed answer could not tell them apart`);
      else seenLabels.set(lk, i);
    });
  }
}

/** A set block: one known operation per value, numbers where `add` needs them, variables that exist. */
function checkSet(base: PathSeg[], id: string, block: SetBlock, saved: Set<string>, warnUnsaved: boolean, report: Report): void {
  for (const [name, value] of Object.entries(block.set)) {
    const at: PathSeg[] = [...base, "set", name];
    const where = `block "${id}" set.${name}`;
    const operands: { path: PathSeg[]; text: string }[] = [];
    let text = false; // whether the value is text (for variables that must hold numbers)
    if (typeof value === "string") {
      operands.push({ path: at, text: value });
      text = !value.includes("{{") && !NUMBER_TEXT.test(value.trim());
    } else if (typeof value === "object") {
      // The schema refused unknown keys (with a suggestion); what is left is how many there are.
      const ops = SET_OPERATIONS.filter((op) => value[op] !== undefined);
      if (ops.length !== 1) {
        const example = `{ add: ["{{${name}}}", 1] }, { concat: ["{{first}}", " ", "{{last}}"] } or { now: true }`;
        if (ops.length === 0) report(at, `${where}: an operation needs one of ${SET_OPERATIONS.join(", ")}, e.g. ${example}`);
        else report([...at, ops[1] as string], `${where}: one operation per variable, found ${ops.join(" and ")}; assign them to separate variables`, "error", true);
        continue;
      }
      value.add?.forEach((item, i) => {
        if (typeof item !== "string") return;
        operands.push({ path: [...at, "add", i], text: item });
        if (!item.includes("{{") && !NUMBER_TEXT.test(item.trim())) {
          report([...at, "add", i], `${where}.add[${i}]: ${quote(item)} is not a number; write a number, or a {{variable}} that holds one (use concat to join text)`);
        }
      });
      value.concat?.forEach((item, i) => {
        if (typeof item === "string") operands.push({ path: [...at, "concat", i], text: item });
      });
      text = value.concat !== undefined || value.now === "iso";
    }
    if (text && NUMERIC_STAT_VARIABLES.has(name)) {
      report(at, `${where}: assigns text to ${name}, which feeds statistics and must be a number; write a number, or { add: [...] }`);
    }
    for (const o of operands) {
      for (const m of o.text.matchAll(VARIABLE)) {
        const v = m[1] as string;
        if (warnUnsaved && !saved.has(v)) report(o.path, `${where}: {{${v}}} names no saved variable${suggest(v, saved)} and will read as empty; use a save_to or set variable`, "warning");
      }
    }
  }
}

/**
 * `invalid.default`: what a keyboard records when the re-prompts run out must be one of its
 * buttons' values (statistics see only values a button could give); a number where it feeds them.
 */
function checkDefault(def: CheckableScenario, base: PathSeg[], id: string, block: KeyboardBlock | WaitBlock, report: Report): void {
  const fallback = block.invalid?.default;
  if (fallback === undefined) return;
  const at: PathSeg[] = [...base, "invalid", "default"];
  const where = `block "${id}" invalid.default`;
  if (block.type === "message_with_keyboard") {
    const locale = def.locale ?? "en";
    const values = block.buttons.map((b) => b.value ?? (typeof b.label === "number" ? b.label : localize(b.label, locale, locale)));
    if (!values.some((v) => String(v) === String(fallback))) {
      const wanted = String(fallback).trim().toLowerCase();
      const i = block.buttons.findIndex((b) => localize(typeof b.label === "number" ? String(b.label) : b.label, locale, locale).trim().toLowerCase() === wanted);
      // A default written as a label (👍) rather than its value (100) is the likely slip: name the value.
      const fix = i >= 0 ? `the button labelled ${quote(String(fallback))} records ${quote(values[i])}: write default: ${String(values[i])}` : "use one of them";
      const shown = values.slice(0, 10).map(quote).join(", ") + (values.length > 10 ? ", …" : "");
      report(at, `${where}: ${quote(fallback)} is not one of the keyboard's values (${shown}); ${fix}`);
    }
  } else if (block.save_to !== undefined && NUMERIC_STAT_VARIABLES.has(block.save_to) && typeof fallback !== "number" && !NUMBER_TEXT.test(fallback.trim())) {
    report(at, `${where}: ${quote(fallback)} is recorded into ${block.save_to}, which feeds statistics and must be a number; write a number`);
  }
  if (block.save_to === undefined) report(at, `${where}: the block has no save_to, so the default is recorded nowhere; add save_to or remove default`, "warning");
}

/** Every translatable text: default locale present, variables that exist (channel limits: channel-checks.ts). */
function checkTexts(def: CheckableScenario, saved: Set<string>, warnUnsaved: boolean, report: Report): void {
  const locale = def.locale ?? "en";
  const texts: { path: PathSeg[]; where: string; text: unknown }[] = [];
  const invalidText = def.defaults?.invalid?.text;
  if (invalidText !== undefined) texts.push({ path: ["defaults", "invalid", "text"], where: "defaults.invalid.text", text: invalidText });
  for (const [id, block] of Object.entries(def.blocks)) {
    const base: PathSeg[] = ["blocks", id];
    const where = `block "${id}"`;
    if ("text" in block && block.text !== undefined) texts.push({ path: [...base, "text"], where, text: block.text });
    if (isQuestion(block)) {
      if (block.invalid?.text !== undefined) texts.push({ path: [...base, "invalid", "text"], where: `${where} invalid.text`, text: block.invalid.text });
      if (block.skip) texts.push({ path: [...base, "skip", "label"], where: `${where} skip.label`, text: block.skip.label });
    }
    if (block.type === "message_with_keyboard") {
      block.buttons.forEach((b, i) => texts.push({ path: [...base, "buttons", i, "label"], where: `${where} buttons[${i}].label`, text: b.label }));
    }
  }
  for (const { path, where, text } of texts) {
    if (text !== null && typeof text === "object" && !Object.hasOwn(text, locale)) {
      report(path, `${where}: no translation for the default locale "${locale}" (has ${Object.keys(text).join(", ")}); add ${locale}: <text>, users of other languages see it`, "warning", true);
    }
    for (const [loc, t] of variants(text)) {
      for (const m of t.matchAll(VARIABLE)) {
        const name = m[1] as string;
        if (warnUnsaved && !saved.has(name)) report(path, `${where}: {{${name}}}${loc ? ` (${loc})` : ""} names no saved variable${suggest(name, saved)} and will show as empty; use a save_to variable`, "warning");
      }
    }
  }
}
