/**
 * Survey dimensions: the variables a scenario names under `dimensions:` (agent, team, tags,
 * ticket) whose values are frozen into the survey when its rating is offered, so figures can say
 * whose customers are unhappy. Frozen at the offer, not read when the answer arrives: a ticket
 * reassigned between the question and the tap stays with the agent the customer rated
 * (chatwoot#14872 is the bug this avoids).
 *
 * A dimension is `group`ed (rolled up, for figures grouped by it) unless it says `group: false`
 * (many distinct values, such as a ticket id: stored on the survey and searchable only). A
 * `list` dimension (tags) holds a comma-separated value and counts the survey under each item.
 *
 * @example
 * const dims = parseDimensions(["agent", { name: "tags", list: true }, { name: "ticket", group: false }]);
 * dimensionValues(dims, { agent: "olena", tags: "billing, urgent", ticket: "T-1" });
 * // { agent: "olena", tags: ["billing", "urgent"], ticket: "T-1" }
 */
import type { VarValue } from "./types.ts";

export interface Dimension {
  name: string;
  /** Rolled up (figures group by it). */
  group: boolean;
  /** A comma-separated value: one entry per item. */
  list: boolean;
}

/** A survey's dimension values as recorded: a string, or the items of a list dimension. */
export type DimensionValues = Readonly<Record<string, string | readonly string[]>>;

/** Longest value (or list item) kept, in UTF-16 code units; longer ones are cut. */
export const MAX_DIMENSION_VALUE = 200;
/** Items of one list dimension kept at most. */
export const MAX_LIST_ITEMS = 20;

/** The schema-valid `dimensions:` list as the engine uses it. */
export function parseDimensions(spec: readonly (string | { name: string; group?: boolean; list?: boolean })[] | undefined): Dimension[] {
  if (!spec) return [];
  return spec.map((d) => (typeof d === "string" ? { name: d, group: true, list: false } : { name: d.name, group: d.group ?? true, list: d.list ?? false }));
}

/**
 * The dimensions' values in `vars` at this moment: a dimension without a value (unset, or blank)
 * is left out; numbers are recorded as their text; list values split on commas, trimmed, blanks
 * and repeats dropped.
 */
export function dimensionValues(dims: readonly Dimension[], vars: Readonly<Record<string, VarValue>>): Record<string, string | string[]> | undefined {
  let out: Record<string, string | string[]> | undefined;
  for (const d of dims) {
    const raw = vars[d.name];
    if (raw === undefined) continue;
    const text = String(raw).trim();
    if (text === "") continue;
    let value: string | string[];
    if (d.list) {
      const items = [...new Set(text.split(",").map((t) => t.trim().slice(0, MAX_DIMENSION_VALUE)).filter((t) => t !== ""))].slice(0, MAX_LIST_ITEMS);
      if (items.length === 0) continue;
      value = items;
    } else value = text.slice(0, MAX_DIMENSION_VALUE);
    (out ??= {})[d.name] = value;
  }
  return out;
}
