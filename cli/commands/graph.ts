/**
 * `botflow graph FILE [--format mermaid|dot] [--locale xx]`: prints the scenario as a diagram —
 * its blocks, `next` and its rules, and the skip, invalid, timeout, action-failure and
 * goto_scenario edges — so a reviewer sees the flow without reading YAML. Mermaid (the default)
 * goes into a ```mermaid block in Markdown; DOT goes to Graphviz (`| dot -Tsvg > flow.svg`).
 * The file is loaded as `botflow run` loads it, with the same actions (BOTFLOW_ACTIONS,
 * BOTFLOW_HTTP_ALLOW_HOSTS), so a broken one prints the same `file:line:col` problems to stderr.
 *
 * Exit codes: 0 printed, 1 the scenario has errors or cannot be read, 2 usage error.
 */
import { renderDot } from "../../engine/scenario-graph-dot.ts";
import { renderMermaid } from "../../engine/scenario-graph-mermaid.ts";
import { scenarioGraph } from "../../engine/scenario-graph.ts";
import { parseCommandArgs, printUsageError, scenarioArgs } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import type { CliIo } from "../io.ts";
import { loadScenarioForCli } from "../load-scenario.ts";
import { createScenarioKit, loadCliActions } from "../scenario-kit.ts";

export const summary = "Print a scenario as a diagram (Mermaid flowchart or Graphviz DOT)";

const FORMATS = { mermaid: renderMermaid, dot: renderDot } as const;
type Format = keyof typeof FORMATS;

const USAGE = `usage: botflow graph FILE [--format mermaid|dot] [--locale xx]

Prints the scenario's blocks and the ways between them to stdout: next (each rule labelled),
skip, invalid (once the re-prompts run out), timeout, an action's on_error, goto_scenario.
  --format mermaid  a Mermaid flowchart, for a \`\`\`mermaid block in Markdown (the default)
  --format dot      Graphviz DOT:  botflow graph FILE --format dot | dot -Tsvg > flow.svg
  --locale xx       the translation the labels show (default: the scenario's locale)

Exit 0 when printed, 1 when the scenario has errors (printed to stderr as file:line:col), 2 on
a usage error.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { format: { type: "string", short: "f" }, locale: { type: "string" } }, allowPositionals: true },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const format = values.format ?? "mermaid";
  if (!isFormat(format)) {
    printUsageError(io, USAGE, `--format must be mermaid or dot; got "${format}"`);
    return EXIT_USAGE;
  }
  const picked = scenarioArgs(positionals, values.locale, io, USAGE);
  if (typeof picked === "number") return picked;

  // The actions of the environment (custom modules, http__request's hosts), as validate and run
  // load them: a scenario using them draws where it runs.
  const actions = await loadCliActions(io);
  if (!actions) return EXIT_FAILED;
  const loaded = await loadScenarioForCli(picked.file, io, createScenarioKit({ actions }));
  if (!loaded) return EXIT_FAILED;
  const graph = scenarioGraph(loaded.scenario, picked.locale !== undefined ? { locale: picked.locale } : {});
  io.stdout.write(FORMATS[format](graph));
  return EXIT_OK;
}

function isFormat(value: string): value is Format {
  return Object.hasOwn(FORMATS, value);
}
