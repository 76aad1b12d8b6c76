/**
 * Strict scenario loading: YAML → schema (ajv, draft 2020-12) → graph checks, every
 * problem with its file, line and column. Nothing runs until a scenario loads clean.
 *
 * @example
 * const scenario = await loadScenarioFile("scenarios/csat.yaml", { actions });
 */
import { open } from "node:fs/promises";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import type { ActionSpec, ChannelLimits } from "./catalog.ts";
import { ScenarioError, type ScenarioProblem } from "./errors.ts";
import { parseDimensions } from "./survey-dimensions.ts";
import type { QuestionChannelPlans } from "./channel-checks.ts";
import { checkScenario, type CheckableScenario, type Report, type Unchecked } from "./scenario-checks.ts";
import { schemaProblems } from "./schema-problems.ts";
import { BLOCK_SCHEMAS, ID_PATTERN, Next, ScenarioSchema, type BlockType, type NextSpec, type Scenario, type ScenarioBlock } from "./schema/scenario-schema.ts";
import type { LoadedScenario } from "./scenario.ts";
import { suggest } from "./suggest.ts";
import { cleanText, needsCleaning } from "./text.ts";
import { MAX_SCENARIO_BYTES, parseYamlSource, type PathSeg, type YamlSource } from "./yaml-source.ts";

export interface LoadOptions {
  /** Actions scenarios may use; unknown names and config keys are errors. */
  actions?: readonly ActionSpec[];
  /** Limits of the enabled channels: a scenario they cannot send does not load. */
  channels?: readonly ChannelLimits[];
  /** Limits of the channels that are not enabled: what they cannot send is a warning (channels/capabilities.ts lists them all). */
  otherChannels?: readonly ChannelLimits[];
}

export interface LoadResult {
  scenario?: LoadedScenario;
  problems: ScenarioProblem[];
  /** What each channel given makes of each question block that matched the schema, in the file's order. */
  channelPlans: LocatedChannelPlans[];
}

/** A question block's channel plans, with where the block stands. */
export interface LocatedChannelPlans extends QuestionChannelPlans {
  line: number;
  col: number;
}

/** More blocks than any hand-written scenario has; keeps checking a hostile file fast. */
export const MAX_BLOCKS = 1000;
/** Problems listed per file; past that, one line says how many more there are. */
export const MAX_PROBLEMS = 100;

// verbose: messages quote the offending value and read descriptions from the schema.
const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
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
const validateNext = ajv.compile(structuredClone(Next));
/** The keys of a block that lead on: a refused block's readable ones still link blocks. */
const FLOW_PATHS: readonly (readonly string[])[] = [["next"], ["on_error"], ["invalid", "next"], ["skip", "next"], ["timeout", "next"]];
/** The keys a block saves variables with. */
const SAVING_KEYS: ReadonlySet<string> = new Set(["save_to", "set", "action", "config"]);

/** Loads and checks one scenario file; throws ScenarioError listing every problem when it has errors. */
export async function loadScenarioFile(file: string, options: LoadOptions = {}): Promise<LoadedScenario> {
  const read = await readScenarioFile(file);
  const result = "text" in read ? loadScenarioText(read.text, file, options) : { problems: [read.problem], channelPlans: [] };
  if (!result.scenario) throw new ScenarioError(result.problems);
  return result.scenario;
}

/**
 * Reads a scenario file as UTF-8 text without ever holding more than MAX_SCENARIO_BYTES + 1
 * bytes (a scenario path pointing at a huge file or a device must not exhaust memory).
 * Filesystem errors (ENOENT, EACCES) are thrown as they are.
 */
export async function readScenarioFile(file: string): Promise<{ text: string } | { problem: ScenarioProblem }> {
  const fh = await open(file, "r");
  const buf = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
  let size = 0;
  try {
    while (size < buf.length) {
      const { bytesRead } = await fh.read(buf, size, buf.length - size, null);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  const at = { file, line: 1, col: 1, severity: "error" as const };
  if (size > MAX_SCENARIO_BYTES) {
    return { problem: { ...at, message: `file is larger than ${MAX_SCENARIO_BYTES} bytes; scenarios are limited to 256 KiB: split it into several scenarios` } };
  }
  const bytes = buf.subarray(0, size);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const lenient = bytes.toString("utf8");
    const bad = lenient.indexOf("\uFFFD");
    const before = lenient.slice(0, Math.max(0, bad));
    const line = before.split("\n").length;
    return { problem: { ...at, line, col: bad - before.lastIndexOf("\n"), message: "file is not valid UTF-8 text here; save it as UTF-8 (is this a binary file?)" } };
  }
}

/**
 * Checks a scenario's text; returns the scenario when there is no error, and every problem found.
 * Once the YAML parses, everything is checked in one pass: the schema, and the graph and channel
 * checks on whatever matched it (a block the schema refused still exists for `next`, and its
 * readable `next` still links), so a file with several kinds of mistake shows them all at once.
 */
export function loadScenarioText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const parsed = parseYamlSource(text);
  if (!parsed.source) {
    return { problems: capProblems(parsed.problems.map((p) => ({ file, line: p.line, col: p.col, severity: "error", message: p.message }))), channelPlans: [] };
  }
  const problems: ScenarioProblem[] = [];
  const src = parsed.source;
  const report = (path: PathSeg[], message: string, severity: "error" | "warning" = "error", key = false): void => {
    const pos = src.locate(path, key);
    const blockId = path[0] === "blocks" && typeof path[1] === "string" ? path[1] : undefined;
    problems.push({ file, line: pos.line, col: pos.col, severity, message, ...(blockId !== undefined ? { blockId } : {}) });
  };
  const schema = checkSchema(src, report);
  if (schema.refused) cleanStrings(src.value, [], report);
  const parts = schema.refused ? checkableParts(src.value as Record<string, unknown>, schema.refused) : undefined;
  const checked = parts ? checkScenario(parts.def, options, report, parts.unchecked) : undefined;
  const capped = capProblems(dedupe(problems).sort((a, b) => a.line - b.line || a.col - b.col));
  const channelPlans = (checked?.channelPlans ?? []).map((p) => ({ ...p, ...src.locate(["blocks", p.blockId], true) }));
  const def = schema.valid ? (src.value as Scenario) : undefined;
  if (!def || problems.some((p) => p.severity === "error")) return { problems: capped, channelPlans };
  return {
    problems: capped,
    channelPlans,
    scenario: {
      def,
      id: def.id,
      // The content hash always takes part: an edit that forgot to bump `version:` must not
      // swap the blocks under conversations that started on the old content.
      version: def.version !== undefined ? `${String(def.version)}+${src.hash}` : src.hash,
      locale: def.locale ?? "en",
      source: file,
      ...(checked?.surveyRules ? { surveyRules: checked.surveyRules } : {}),
      ...(def.dimensions && def.dimensions.length > 0 ? { dimensions: parseDimensions(def.dimensions) } : {}),
      ...(checked && checked.handovers.length > 0 ? { handovers: checked.handovers.map((h) => ({ ...h, ...src.locate(["blocks", h.blockId, "scenario"]) })) } : {}),
    },
  };
}

/** The same mistake found twice (by the schema and by a check, or for two locales) is reported once. */
function dedupe(problems: readonly ScenarioProblem[]): ScenarioProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.col}:${p.severity}:${p.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/**
 * Cleans, in place, every string of the scenario that could not be stored or sent as it is
 * (U+0000, lone surrogates: YAML's "\0" and "\ud800" escapes make them), with a warning where
 * it stands: labels and values become variables and survey data, which must always be storable.
 */
function cleanStrings(node: unknown, path: PathSeg[], report: Report): void {
  if (node === null || typeof node !== "object") return;
  const entries: [PathSeg, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
  for (const [key, value] of entries) {
    if (typeof value === "string") {
      if (!needsCleaning(value)) continue;
      (node as Record<PathSeg, unknown>)[key] = cleanText(value);
      report([...path, key], "text contains U+0000 or a lone UTF-16 surrogate, which no message or database can hold; U+0000 was removed and each lone surrogate replaced with U+FFFD", "warning");
    } else cleanStrings(value, [...path, key], report);
  }
}

/** Keeps the first MAX_PROBLEMS and says how many more there are, at the first one left out. */
function capProblems(problems: ScenarioProblem[]): ScenarioProblem[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const rest = problems.slice(MAX_PROBLEMS);
  const first = rest[0] as ScenarioProblem;
  const errors = rest.filter((p) => p.severity === "error").length;
  return [
    ...problems.slice(0, MAX_PROBLEMS),
    {
      file: first.file,
      line: first.line,
      col: first.col,
      severity: errors > 0 ? "error" : "warning",
      message: `${rest.length} more problems from here on (${errors} errors) are not listed; fix the ones above first`,
    },
  ];
}

/** What the schema refused, for the checks to skip it. */
interface Refused {
  /** Top-level keys with a problem. */
  top: Set<string>;
  /** Per block that failed: the keys with a problem, the paths below the block of each problem, and whether the block as a whole had one (a missing key, no known type, not a mapping). */
  blocks: Map<string, { keys: Set<string>; paths: PathSeg[][]; whole: boolean }>;
}

/**
 * The schema checks. `valid` when the scenario matches the schema; `refused` says what did not,
 * and is absent only when nothing else can be checked (not a mapping, too many blocks, `blocks`
 * itself wrong).
 */
function checkSchema(src: YamlSource, outer: Report): { valid: boolean; refused?: Refused } {
  const refused: Refused = { top: new Set(), blocks: new Map() };
  let blocksBroken = false;
  // Every problem is noted where it stands, so the checks that follow skip exactly that.
  const report: Report = (path, message, severity, key) => {
    outer(path, message, severity, key);
    if (path.length === 0) return;
    if (path[0] !== "blocks") return void refused.top.add(String(path[0]));
    if (path.length === 1) return void (blocksBroken = true);
    const id = String(path[1]);
    const entry = refused.blocks.get(id) ?? { keys: new Set<string>(), paths: [], whole: false };
    if (path.length === 2) entry.whole = true;
    else entry.keys.add(String(path[2]));
    entry.paths.push(path.slice(2));
    refused.blocks.set(id, entry);
  };
  const value = src.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const found = value === null || value === undefined ? "the file is empty" : Array.isArray(value) ? "the file is a list" : "the file is a single value";
    report([], `a scenario is a YAML mapping with id, start and blocks, but ${found}; start from scenarios/csat.yaml`);
    return { valid: false };
  }
  const blocks = (value as { blocks?: unknown }).blocks;
  const isMapping = blocks !== null && typeof blocks === "object" && !Array.isArray(blocks);
  const count = isMapping ? Object.keys(blocks).length : 0;
  if (count > MAX_BLOCKS) {
    report(["blocks"], `blocks: ${count} blocks; a scenario holds at most ${MAX_BLOCKS}: split it into several scenarios`, "error", true);
    return { valid: false };
  }
  let ok = validateTop(value);
  if (!ok) for (const p of schemaProblems(validateTop.errors ?? [], [], "")) report(p.path, p.message, "error", p.key);
  if (!isMapping || count === 0) return { valid: ok, ...(ok ? { refused } : {}) };
  for (const [id, block] of Object.entries(blocks as Record<string, unknown>)) {
    if (block === null || typeof block !== "object" || Array.isArray(block)) continue; // reported by validateTop
    if (Object.hasOwn(block, "<<")) {
      ok = false;
      report(["blocks", id, "<<"], `block "${id}": YAML merge keys (<<) are not supported; write the keys out`, "error", true);
      continue;
    }
    const type = (block as { type?: unknown }).type;
    const validate = typeof type === "string" ? validateBlock.get(type) : undefined;
    if (!validate) {
      ok = false;
      if (type === undefined) {
        report(["blocks", id], `block "${id}": missing required key "type"; add type: one of ${BLOCK_TYPES.join(", ")}`, "error", true);
      } else {
        const shown = typeof type === "string" ? `"${type.slice(0, 40)}"` : JSON.stringify(type);
        report(["blocks", id, "type"], `block "${id}": unknown type ${shown}${typeof type === "string" ? suggest(type, BLOCK_TYPES) : ""}; use one of ${BLOCK_TYPES.join(", ")}`);
      }
      continue;
    }
    if (!validate(block)) {
      ok = false;
      for (const p of schemaProblems(validate.errors ?? [], ["blocks", id], `block "${id}"`)) report(p.path, p.message, "error", p.key);
    }
  }
  return { valid: ok, ...(blocksBroken ? {} : { refused }) };
}

/**
 * What the graph and channel checks can look at in a scenario the schema refused parts of: the
 * top-level keys that matched, every block that matched, and each refused block with its wrong
 * keys taken out when what is left still matches (a type error in `timeout` leaves the rest
 * checked). Any other refused block is only an id, with the ways on that can be read.
 */
function checkableParts(value: Record<string, unknown>, refused: Refused): { def: CheckableScenario; unchecked: Unchecked } {
  const top: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!refused.top.has(k)) top[k] = v;
  for (const k of ["id", "start", "locale"]) if (typeof top[k] !== "string") delete top[k];
  const raw = value.blocks as Record<string, unknown>;
  const blocks: Record<string, ScenarioBlock> = {};
  const partial = new Map<string, { waits: boolean; keys: Set<string> }>();
  const flow: { blockId: string; path: PathSeg[]; next: NextSpec }[] = [];
  const unreadableFlow = new Set<string>();
  let uncertainSaves = false;
  for (const [id, block] of Object.entries(raw)) {
    const wrong = refused.blocks.get(id);
    if (!wrong) {
      blocks[id] = block as ScenarioBlock;
      continue;
    }
    const fields = block !== null && typeof block === "object" && !Array.isArray(block) ? (block as Record<string, unknown>) : undefined;
    if (!fields) {
      unreadableFlow.add(id);
      uncertainSaves = true;
      partial.set(id, { waits: false, keys: new Set() });
      continue;
    }
    if ([...wrong.keys].some((k) => SAVING_KEYS.has(k)) || wrong.whole) uncertainSaves = true;
    const type = fields.type;
    const validate = typeof type === "string" ? validateBlock.get(type) : undefined;
    const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => !wrong.keys.has(k)));
    const salvaged = !wrong.whole && validate?.(rest) === true;
    if (salvaged) blocks[id] = rest as ScenarioBlock;
    else {
      // Its save_to or set is not among the saved variables the checks see.
      if (Object.keys(fields).some((k) => SAVING_KEYS.has(k))) uncertainSaves = true;
      partial.set(id, { waits: type === "message_with_keyboard" || type === "wait_for_response", keys: new Set(Object.keys(fields)) });
    }
    // The ways on that the checks do not see in the block: readable ones link, others blind the reachability check.
    for (const p of FLOW_PATHS) {
      if (salvaged && !wrong.keys.has(p[0] as string)) continue; // checked with the block
      let at: unknown = fields;
      for (const seg of p) at = at !== null && typeof at === "object" && !Array.isArray(at) ? (at as Record<string, unknown>)[seg] : undefined;
      if (at === undefined) continue;
      // A problem at the way on, inside it, or at what holds it (`timeout: soon`) leaves it unread.
      const overlaps = wrong.paths.some((e) => isPrefix(e, p) || isPrefix(p, e));
      if (!overlaps && validateNext(at)) flow.push({ blockId: id, path: ["blocks", id, ...p], next: at as NextSpec });
      else unreadableFlow.add(id);
    }
  }
  const def = { ...top, blocks } as CheckableScenario;
  return { def, unchecked: { ids: Object.keys(raw), blocks: partial, flow, unreadableFlow, uncertainSaves } };
}

function isPrefix(a: readonly PathSeg[], b: readonly PathSeg[]): boolean {
  return a.length <= b.length && a.every((seg, i) => seg === b[i]);
}
