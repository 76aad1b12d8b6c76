/**
 * Hostile variants of real messenger payloads for the webhook fuzz tests: every field deleted,
 * retyped (string ↔ number ↔ object ↔ array, and null), and the raw JSON truncated. Deterministic:
 * the same samples give the same variants in the same order, and a seeded pick keeps runs bounded.
 */
import { prng } from "../stats/figures-dataset.ts";

export interface Mutation {
  /** What was done, for the failure message: `delete message.chat.id`, `retype … → array`, `truncate 50%`. */
  name: string;
  /** The body to send, as raw text (truncated variants are not JSON). */
  raw: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

const RETYPES: readonly [string, Json][] = [
  ["string", "x"],
  ["number", 7],
  ["object", {}],
  ["array", []],
  ["null", null],
];

function paths(value: Json, prefix: Path = [], depth = 6): Path[] {
  if (depth === 0 || value === null || typeof value !== "object") return [];
  const out: Path[] = [];
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const p = [...prefix, k];
    out.push(p, ...paths(v, p, depth - 1));
  }
  return out;
}

function edit(value: Json, path: Path, change: (parent: Record<string | number, Json>, key: string | number) => void): Json {
  const copy = structuredClone(value);
  let node = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  change(node, path[path.length - 1] as string | number);
  return copy;
}

function typeOf(v: Json): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Every variant of `sample`: deletions and retypes of each field, then three truncations. */
export function mutations(sample: unknown): Mutation[] {
  const value = sample as Json;
  const out: Mutation[] = [];
  for (const p of paths(value)) {
    const at = p.join(".");
    out.push({
      name: `delete ${at}`,
      raw: JSON.stringify(edit(value, p, (parent, key) => (Array.isArray(parent) ? parent.splice(key as number, 1) : delete parent[key]))),
    });
    const current = p.reduce<Json>((n, k) => (n as Record<string | number, Json>)[k] as Json, value);
    for (const [type, replacement] of RETYPES) {
      if (type === typeOf(current)) continue;
      out.push({ name: `retype ${at} → ${type}`, raw: JSON.stringify(edit(value, p, (parent, key) => (parent[key] = replacement))) });
    }
  }
  const raw = JSON.stringify(value);
  for (const share of [0.25, 0.5, 0.9]) out.push({ name: `truncate ${share * 100}%`, raw: raw.slice(0, Math.floor(raw.length * share)) });
  for (const whole of ["{}", "[]", "null", "42", '"text"']) out.push({ name: `body ${whole}`, raw: whole });
  return out;
}

/** At most `n` of `items`, picked by a seeded shuffle (mulberry32), in a stable order. */
export function pick<T>(items: readonly T[], n: number, seed: number): T[] {
  if (items.length <= n) return [...items];
  const rnd = prng(seed);
  const idx = items.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, n)
    .sort((x, y) => x - y)
    .map((i) => items[i]!);
}
