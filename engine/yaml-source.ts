/**
 * Safe YAML parsing with positions: size and depth limits, alias-bomb and duplicate-key
 * refusal, and lookups from a JSON path to the line and column of the node in the file.
 */
import { createHash } from "node:crypto";
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from "yaml";

export const MAX_SCENARIO_BYTES = 1024 * 1024;
export const MAX_DEPTH = 40;
export const MAX_ALIAS_COUNT = 100;

export type PathSeg = string | number;
export interface Pos {
  line: number;
  col: number;
}
export interface ParseProblem extends Pos {
  message: string;
}

export interface YamlSource {
  doc: Document.Parsed;
  value: unknown;
  hash: string;
  /** Position of the node at `path` (its key when `key` is set); the nearest existing ancestor otherwise. */
  locate(path: readonly PathSeg[], key?: boolean): Pos;
}

export function parseYamlSource(text: string): { source?: YamlSource; problems: ParseProblem[] } {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_SCENARIO_BYTES) {
    return {
      problems: [{ line: 1, col: 1, message: `file is ${bytes} bytes; scenarios are limited to ${MAX_SCENARIO_BYTES} bytes` }],
    };
  }
  const lc = new LineCounter();
  const depthProblem = checkFlowDepth(text);
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, stringKeys: true, prettyErrors: false, strict: true });
  const posOf = (offset: number): Pos => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  if (depthProblem) return { problems: [depthProblem] };
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({ ...posOf(e.pos[0]), message: yamlMessage(e.code, e.message) })),
    };
  }
  const deep = findTooDeep(doc.contents, 0);
  if (deep) return { problems: [{ ...posOf(deep), message: `nesting deeper than ${MAX_DEPTH} levels; scenarios are never this deep` }] };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return {
      problems: [{ line: 1, col: 1, message: `YAML aliases expand too far (${(err as Error).message}); use fewer aliases` }],
    };
  }
  const locate = (path: readonly PathSeg[], key = false): Pos => {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n);
      if (key && n === path.length && n > 0) {
        const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(sub[sub.length - 1]));
          if (pair && isNode(pair.key) && pair.key.range) return posOf(pair.key.range[0]);
        }
      }
      const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
      if (isNode(node) && node.range) return posOf(node.range[0]);
      if (isPair(node) && isNode(node.key) && node.key.range) return posOf(node.key.range[0]);
    }
    return { line: 1, col: 1 };
  };
  return { source: { doc, value, locate, hash: createHash("sha256").update(text).digest("hex").slice(0, 12) }, problems: [] };
}

function yamlMessage(code: string, message: string): string {
  const first = message.split("\n")[0] ?? message;
  const clean = first.replace(/ at line \d+, column \d+:?$/, "");
  if (code === "DUPLICATE_KEY") return `duplicate key: ${clean}`;
  if (code === "NON_STRING_KEY") return "keys must be plain strings (no lists, maps or ? complex keys)";
  return `YAML syntax: ${clean}`;
}

/** Flow collections ([[[[...) are parsed recursively; refuse absurd depth before the parser sees it. */
function checkFlowDepth(text: string): ParseProblem | undefined {
  let depth = 0;
  let inQuote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuote) {
      if (c === inQuote) inQuote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      // only a quote at a value start opens a quoted scalar; good enough for a depth guard
      const prev = text[i - 1];
      if (prev === undefined || prev === " " || prev === "[" || prev === "{" || prev === "," || prev === ":" || prev === "\n") inQuote = c;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "[" || c === "{") {
      if (++depth > MAX_DEPTH) {
        // positions are known only after parsing; count lines by hand
        const before = text.slice(0, i);
        const line = before.split("\n").length;
        const col = i - before.lastIndexOf("\n");
        return { line, col, message: `nesting deeper than ${MAX_DEPTH} levels; scenarios are never this deep` };
      }
    } else if (c === "]" || c === "}") {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function findTooDeep(node: unknown, depth: number): number | undefined {
  if (depth > MAX_DEPTH) return isNode(node) && node.range ? node.range[0] : 0;
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      const child = isPair(item) ? item.value : item;
      const hit = findTooDeep(child, depth + 1);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}
