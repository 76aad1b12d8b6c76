/**
 * The JSONPath subset http__request's `save` reads a response with: `$` is the whole body, then
 * any number of `.name` (letters, digits, `_`, `-`) and `[n]` (a list index from 0). Nothing
 * else: no wildcards, filters, slices or recursive descent, so a path names one value or none.
 *
 * @example
 * readJsonPath({ items: [{ name: "Lamp" }] }, "$.items[0].name"); // { found: true, value: "Lamp" }
 */

/** The pattern of a path, for the config's JSON Schema. */
export const JSON_PATH_PATTERN = "^\\$(\\.[A-Za-z0-9_-]+|\\[[0-9]+\\])*$";
const SEGMENT = /\.([A-Za-z0-9_-]+)|\[([0-9]+)\]/g;

/** One step of a path: a key or a list index. */
export type JsonPathStep = string | number;

/** The steps of `path`; undefined when it is not in the subset. */
export function parseJsonPath(path: string): JsonPathStep[] | undefined {
  if (!new RegExp(JSON_PATH_PATTERN).test(path)) return undefined;
  return [...path.slice(1).matchAll(SEGMENT)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}

/** The value at `path` in `body`; `found: false` says which step had nothing (0-based; -1 when the path is invalid). */
export function readJsonPath(body: unknown, path: string): { found: true; value: unknown } | { found: false; failedAt: number } {
  const steps = parseJsonPath(path);
  if (!steps) return { found: false, failedAt: -1 };
  let at: unknown = body;
  for (const [i, step] of steps.entries()) {
    if (typeof step === "number") {
      if (!Array.isArray(at) || step >= at.length) return { found: false, failedAt: i };
      at = at[step];
    } else {
      // Own keys only: "$.constructor" must not find Object's.
      if (at === null || typeof at !== "object" || Array.isArray(at) || !Object.hasOwn(at, step)) return { found: false, failedAt: i };
      at = (at as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: at };
}

/** The path up to and including step `n`, for messages (`$.order.status` → `$.order` for n = 0). */
export function pathPrefix(path: string, n: number): string {
  const steps = parseJsonPath(path) ?? [];
  return `$${steps
    .slice(0, n + 1)
    .map((s) => (typeof s === "number" ? `[${s}]` : `.${s}`))
    .join("")}`;
}
