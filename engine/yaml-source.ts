/**
 * Safe YAML parsing with positions. Scenario files come from integrators and may be
 * hostile, so this refuses, each with the line and column where it starts: files over
 * MAX_SCENARIO_BYTES, control characters (binary files), nesting deeper than MAX_DEPTH
 * (checked on the parser's token tree, before the recursive composer ever sees it),
 * directives, tags (`!!js/function`, `!custom`: scenarios are plain data), duplicate
 * keys, collection keys (`? [a, b]`), more than one document, and aliases that expand
 * past MAX_ALIAS_EXPANSION nodes (billion laughs). Scalar keys are read as strings
 * (`1: x` has the key "1"). It also maps a JSON path back to the line and column of its
 * node in the file.
 */
import { createHash } from "node:crypto";
import { Composer, isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, Parser, visit, type Document, type Node, type YAMLMap, type Pair } from "yaml";

/**
 * 256 KiB: a thousand-block scenario with translations fits; the YAML parser needs about a
 * second per MiB on a busy machine, so a bigger limit would let one file stall a reload.
 */
export const MAX_SCENARIO_BYTES = 256 * 1024;
/** Collections inside collections; a scenario needs about 6 (blocks → block → next → rule → in). */
export const MAX_DEPTH = 40;
/** Nodes that aliases may add to the document when expanded; shared button lists need a few hundred. */
export const MAX_ALIAS_EXPANSION = 10_000;

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

// C0 and C1 controls except tab, LF, CR and NEL, and the two non-characters: YAML's c-printable.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]/;

/** Parses one scenario document; `source` is set only when the YAML itself is acceptable. */
export function parseYamlSource(input: string): { source?: YamlSource; problems: ParseProblem[] } {
  const bytes = Buffer.byteLength(input, "utf8");
  if (bytes > MAX_SCENARIO_BYTES) {
    return { problems: [{ line: 1, col: 1, message: `file is ${bytes} bytes; scenarios are limited to ${MAX_SCENARIO_BYTES} bytes (256 KiB): split it into several scenarios` }] };
  }
  // Editors count columns from after a byte-order mark; so do we.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const control = CONTROL.exec(text);
  if (control) {
    const code = (control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    return { problems: [{ ...posIn(text, control.index), message: `control character U+${code} is not allowed in a scenario; is this a binary file? Scenarios are UTF-8 text` }] };
  }

  const lc = new LineCounter();
  const posOf = (offset: number): Pos => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const tokens = [...new Parser(lc.addNewLine).parse(text)];
  const tokenProblem = checkTokens(tokens);
  if (tokenProblem) return { problems: [{ ...posOf(tokenProblem.offset), message: tokenProblem.message }] };

  const composer = new Composer({ uniqueKeys: false, stringKeys: true, strict: true, prettyErrors: false });
  const docs = [...composer.compose(tokens, true, text.length)];
  const doc = docs[0] as Document.Parsed;
  const second = docs[1];
  if (second) {
    return { problems: [{ ...posOf(second.range[0]), message: "a second YAML document starts here; a scenario file holds exactly one: remove the extra '---' or split the file" }] };
  }
  const yamlProblems = [...doc.errors, ...doc.warnings].sort((a, b) => a.pos[0] - b.pos[0]);
  const firstYaml = yamlProblems[0];
  if (firstYaml) {
    // One syntax error derails the parser for the rest of the file; what follows is noise.
    // An unclosed quote or bracket is reported where it opens, not where the file ends.
    const unclosed = findUnclosed(tokens);
    if (unclosed) return { problems: [{ ...posOf(unclosed.offset), message: unclosed.message }] };
    const offset = skipSpaces(text, firstYaml.pos[0]);
    return { problems: [{ ...posOf(offset), message: yamlMessage(firstYaml.code, firstYaml.message, text.slice(firstYaml.pos[0], firstYaml.pos[1])) }] };
  }
  const duplicate = findDuplicateKey(doc);
  if (duplicate) return { problems: [{ ...posOf(duplicate.offset), message: duplicate.message }] };
  const bomb = findAliasBomb(doc);
  if (bomb) return { problems: [{ ...posOf(bomb.offset), message: bomb.message }] };

  let value: unknown;
  try {
    // The alias check above is the real guard; yaml's own count is a second line of defence.
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    const first = firstAlias(doc);
    return { problems: [{ ...(first ? posOf(first) : { line: 1, col: 1 }), message: `YAML aliases cannot be expanded (${(err as Error).message}); write the values out instead of aliasing them` }] };
  }
  const index = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairIn = (map: YAMLMap, key: PathSeg): Pair | undefined => {
    let byKey = index.get(map);
    if (!byKey) {
      byKey = new Map();
      for (const pair of map.items) if (isScalar(pair.key) && !byKey.has(String(pair.key.value))) byKey.set(String(pair.key.value), pair);
      index.set(map, byKey);
    }
    return byKey.get(String(key));
  };
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const locate = (path: readonly PathSeg[], key = false): Pos => {
    let node: unknown = doc.contents;
    let best: Pos = isNode(node) && node.range ? posOf(node.range[0]) : { line: 1, col: 1 };
    for (let i = 0; i < path.length; i++) {
      const parent = deref(node);
      const seg = path[i] as PathSeg;
      if (isMap(parent)) {
        const pair = pairIn(parent, seg);
        if (!pair) return best;
        if (key && i === path.length - 1 && isNode(pair.key) && pair.key.range) return posOf(pair.key.range[0]);
        node = pair.value;
        // `key:` with nothing after it has an empty value node (or none): point at the key.
        const empty = !isNode(node) || !node.range || node.range[0] === node.range[1];
        const at = !empty && isNode(node) ? node.range : isNode(pair.key) ? pair.key.range : undefined;
        if (at) best = posOf(at[0]);
      } else if (isSeq(parent) && typeof seg === "number") {
        node = parent.items[seg];
        if (!isNode(node) || !node.range) return best;
        best = posOf(node.range[0]);
      } else {
        return best;
      }
    }
    return best;
  };
  return { source: { doc, value, locate, hash: createHash("sha256").update(input).digest("hex").slice(0, 12) }, problems: [] };
}

function posIn(text: string, index: number): Pos {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { line, col: index - before.lastIndexOf("\n") };
}

/** Errors reported at the start of an indented line point at its first character instead. */
function skipSpaces(text: string, offset: number): number {
  let i = offset;
  while (text[i] === " ") i++;
  return text[i] === "\n" || i >= text.length ? offset : i;
}

/** The first quoted scalar or flow collection (`{`, `[`) that is never closed. */
function findUnclosed(tokens: readonly unknown[]): { offset: number; message: string } | undefined {
  const stack: unknown[] = [...tokens].reverse();
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
      continue;
    }
    if (item === null || typeof item !== "object") continue;
    const tok = item as Tok;
    const offset = typeof tok.offset === "number" ? tok.offset : 0;
    const src = typeof tok.source === "string" ? tok.source : "";
    if (tok.type === "double-quoted-scalar" && !/^"(?:[^"\\]|\\[\s\S])*"$/.test(src)) {
      return { offset, message: 'YAML syntax: the " opened here is never closed; add the closing " at the end of the text' };
    }
    if (tok.type === "single-quoted-scalar" && !/^'(?:[^']|'')*'$/.test(src)) {
      return { offset, message: "YAML syntax: the ' opened here is never closed; add the closing ' at the end of the text" };
    }
    if (tok.type === "flow-collection") {
      const open = (tok.start as { source?: unknown } | undefined)?.source;
      const close = open === "{" ? "}" : "]";
      const end = Array.isArray(tok.end) ? (tok.end as { source?: unknown }[]) : [];
      if (!end.some((t) => t.source === close)) {
        return { offset, message: `YAML syntax: the ${String(open)} opened here is never closed; add the closing ${close}` };
      }
    }
    pushChildren(tok, (child) => stack.push(child));
  }
  return undefined;
}

function yamlMessage(code: string, message: string, source: string): string {
  const first = message.split("\n")[0] ?? message;
  const clean = first.replace(/ at line \d+, column \d+:?$/, "");
  const shown = source.length > 40 ? `${source.slice(0, 40)}…` : source;
  switch (code) {
    case "DUPLICATE_KEY":
      return `duplicate key ${JSON.stringify(shown)}; a key may appear only once in a mapping: remove or rename one`;
    case "NON_STRING_KEY":
      return "keys must be plain scalars such as names or ids, not lists, mappings or aliases";
    case "TAG_RESOLVE_FAILED":
      return `YAML tag ${shown} is not allowed; scenarios are plain data: remove the tag`;
    case "BAD_INDENT":
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY":
    case "TAB_AS_INDENT":
      return `YAML syntax: ${clean}; check this line's indentation against the lines above it (spaces only; the items of one list or mapping start in the same column)`;
    case "RESOURCE_EXHAUSTION":
      return `YAML too complex to read (${clean}); simplify the file`;
    default:
      return `YAML syntax: ${clean}`;
  }
}

type Tok = { type?: unknown; offset?: unknown; source?: unknown } & Record<string, unknown>;

/** The fields of yaml's CST tokens that hold tokens, in source order. */
const CHILD_FIELDS = ["start", "key", "sep", "value", "items", "props", "end"] as const;

/** Pushes a token's child tokens so that popping visits them in source order. */
function pushChildren(tok: Tok, push: (child: unknown) => void): void {
  for (let f = CHILD_FIELDS.length - 1; f >= 0; f--) {
    const child = tok[CHILD_FIELDS[f] as string];
    if (child !== null && typeof child === "object") push(child);
  }
}

/**
 * Walks the parser's token tree with an explicit stack (the tree may be absurdly deep) and
 * refuses what the composer must never see: deep nesting, tags and directives.
 */
function checkTokens(tokens: readonly unknown[]): { offset: number; message: string } | undefined {
  const stack: [unknown, number][] = tokens.map((t) => [t, 0]);
  // Document order so the first problem in the file is the one reported.
  stack.reverse();
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], depth]);
      continue;
    }
    if (item === null || typeof item !== "object") continue;
    const tok = item as Tok;
    const offset = typeof tok.offset === "number" ? tok.offset : 0;
    let d = depth;
    switch (tok.type) {
      case "block-map":
      case "block-seq":
      case "flow-collection":
        d = depth + 1;
        if (d > MAX_DEPTH) return { offset, message: `nesting deeper than ${MAX_DEPTH} levels; scenarios are never this deep: flatten the structure` };
        break;
      case "tag":
        return { offset, message: `YAML tag ${String(tok.source).slice(0, 40)} is not allowed; scenarios are plain data: remove the tag` };
      case "directive":
        return { offset, message: `YAML directive ${String(tok.source).slice(0, 40)} is not allowed; scenarios are YAML 1.2 documents without directives: remove the line` };
      default:
        break;
    }
    pushChildren(tok, (child) => stack.push([child, d]));
  }
  return undefined;
}

/**
 * The first key repeated within one mapping. yaml's own `uniqueKeys` compares every key with
 * every other (quadratic: seconds for a file of many blocks); a set per mapping is linear.
 */
function findDuplicateKey(doc: Document.Parsed): { offset: number; message: string } | undefined {
  let found: { offset: number; message: string } | undefined;
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue; // non-scalar keys are refused by the composer
        const name = String(pair.key.value);
        if (seen.has(name)) {
          found = { offset: pair.key.range?.[0] ?? 0, message: `duplicate key ${JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)}; a key may appear only once in a mapping: remove or rename one` };
          return visit.BREAK;
        }
        seen.add(name);
      }
      return undefined;
    },
  });
  return found;
}

/** Finds the alias at which expanding every alias would pass MAX_ALIAS_EXPANSION nodes. */
function findAliasBomb(doc: Document.Parsed): { offset: number; message: string } | undefined {
  const sizes = new Map<Node, number>();
  const inProgress = new Set<Node>();
  const sizeOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      return target ? sizeOf(target) : 1;
    }
    if (!isNode(node)) return isPair(node) ? sizeOf(node.key) + sizeOf(node.value) : 0;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (inProgress.has(node)) return Infinity; // an alias inside the node it names
    inProgress.add(node);
    let n = 1;
    if (isMap(node) || isSeq(node)) for (const item of node.items) n += sizeOf(item);
    inProgress.delete(node);
    sizes.set(node, n);
    return n;
  };
  let expanded = 0;
  let found: { offset: number; message: string } | undefined;
  visit(doc, {
    Alias(_key, alias) {
      const size = sizeOf(alias);
      if (size === Infinity) {
        found = { offset: alias.range?.[0] ?? 0, message: `alias *${alias.source} names a node that contains it, which would never end; write the value out` };
        return visit.BREAK;
      }
      expanded += size;
      if (expanded > MAX_ALIAS_EXPANSION) {
        found = {
          offset: alias.range?.[0] ?? 0,
          message: `alias *${alias.source} makes the aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes (aliases of aliases, a "billion laughs" bomb?); use fewer aliases or write the values out`,
        };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function firstAlias(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, alias) {
      offset = alias.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}
