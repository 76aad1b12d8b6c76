/**
 * The scenarios `botflow graph`'s golden files cover, where those files are and the environment
 * the command runs in for them, for test/cli/graph.test.ts (the command's output) and
 * test/cli/graph-mermaid.test.ts (Mermaid's reading of it).
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadScenarioText } from "../../engine/loader.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import type { CliIo } from "../../cli/io.ts";
import { createScenarioKit, loadCliActions } from "../../cli/scenario-kit.ts";
import { ROOT } from "./run-cli.ts";

export const GOLDEN_DIR = "test/cli/fixtures/graph/golden";

/**
 * What the example scenarios need to load: their custom actions, and the host and token their
 * http__request may use (a stand-in token: graph never calls anything).
 */
export const GRAPH_ENV: Readonly<Record<string, string>> = {
  BOTFLOW_ACTIONS: "./examples/actions/support-actions.js",
  BOTFLOW_HTTP_ALLOW_HOSTS: "api.example.com",
  BOTFLOW_HTTP_ENV: "CRM_TOKEN",
  CRM_TOKEN: "graph-test-token",
};

/** A scenario file in `dir`: `*.yaml`, not a `botflow test` file (`*.test.yaml`), not a link to one listed elsewhere. */
function scenariosIn(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith(".yaml") && !f.endsWith(".test.yaml") && !lstatSync(path.join(ROOT, dir, f)).isSymbolicLink())
    .sort()
    .map((f) => `${dir}/${f}`);
}

const exampleDirs = readdirSync(path.join(ROOT, "examples"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `examples/${d.name}`).sort();

/** The bundled scenarios, the examples' scenarios, then the graph fixtures. */
export const GRAPHED: readonly string[] = [...scenariosIn("scenarios"), ...exampleDirs.flatMap(scenariosIn), ...scenariosIn("test/cli/fixtures/graph")];

/**
 * The golden file of `file` in `format`, from the repository root: `…/golden/csat.mmd` for the
 * bundled scenarios and the fixtures (their names must not clash), `…/golden/examples/support/support-order.dot`.
 */
export function goldenOf(file: string, format: "mermaid" | "dot"): string {
  const name = `${path.basename(file, ".yaml")}.${format === "mermaid" ? "mmd" : "dot"}`;
  return file.startsWith("examples/") ? `${GOLDEN_DIR}/${path.dirname(file)}/${name}` : `${GOLDEN_DIR}/${name}`;
}

/** `file` loaded with the actions `botflow graph` sees in {@link GRAPH_ENV}. */
export async function loadGraphed(file: string): Promise<LoadedScenario> {
  const io = { env: GRAPH_ENV, cwd: ROOT, stderr: process.stderr } as unknown as CliIo;
  const actions = await loadCliActions(io);
  const result = loadScenarioText(readFileSync(path.join(ROOT, file), "utf8"), file, createScenarioKit({ ...(actions ? { actions } : {}) }).loadOptions);
  if (!result.scenario) throw new Error(`${file} does not load: ${result.problems.map((p) => p.message).join("; ")}`);
  return result.scenario;
}
