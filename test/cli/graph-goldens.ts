/**
 * The scenarios `botflow graph`'s golden files cover and where those files are, for
 * test/cli/graph.test.ts (the command's output) and test/cli/graph-mermaid.test.ts (Mermaid's
 * reading of it).
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./run-cli.ts";

export const GOLDEN_DIR = "test/cli/fixtures/graph/golden";

/** A scenario file: `*.yaml`, not a `botflow test` file (`*.test.yaml`) beside it. */
const isScenario = (name: string): boolean => name.endsWith(".yaml") && !name.endsWith(".test.yaml");

/** The example scenarios, then the graph fixtures (their names must not clash: they share the folder). */
export const GRAPHED: readonly string[] = [
  ...readdirSync(path.join(ROOT, "scenarios")).filter(isScenario).sort().map((f) => `scenarios/${f}`),
  ...readdirSync(path.join(ROOT, "test/cli/fixtures/graph")).filter(isScenario).sort().map((f) => `test/cli/fixtures/graph/${f}`),
];

/** The golden file of `file` in `format`, from the repository root (`…/golden/csat.mmd`, `…/golden/branches.dot`). */
export function goldenOf(file: string, format: "mermaid" | "dot"): string {
  return `${GOLDEN_DIR}/${path.basename(file, ".yaml")}.${format === "mermaid" ? "mmd" : "dot"}`;
}
