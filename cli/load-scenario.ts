/**
 * Loads the one scenario file `chat` and `run` work on, printing its problems (as
 * `file:line:col: severity: message`) to stderr. Undefined means it cannot run. The scenarios it
 * hands over to (goto_scenario, and theirs) come from the same folder, as `related`.
 */
import path from "node:path";
import { formatProblem } from "../engine/errors.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { loadScenarioText, readScenarioFile } from "../engine/loader.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { println, resolveArg, type CliIo } from "./io.ts";
import type { ScenarioKit } from "./scenario-kit.ts";

export interface CliScenario {
  scenario: LoadedScenario;
  /** What it hands over to, to load beside it. */
  related: LoadedScenario[];
}

export async function loadScenarioForCli(file: string, io: CliIo, kit: ScenarioKit): Promise<CliScenario | undefined> {
  let text: string;
  try {
    // Bounded read: a huge or binary file is a scenario problem, never an out-of-memory crash.
    const read = await readScenarioFile(resolveArg(io, file));
    if ("problem" in read) {
      println(io.stderr, formatProblem({ ...read.problem, file }));
      return undefined;
    }
    text = read.text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    println(io.stderr, `${file}: ${code === "ENOENT" ? "no such file; check the path" : `cannot read it (${code ?? String(err)})`}`);
    return undefined;
  }
  const result = loadScenarioText(text, file, kit.loadOptions);
  for (const p of result.problems) println(io.stderr, formatProblem(p));
  if (!result.scenario) {
    println(io.stderr, `${file}: the scenario has errors; run "botflow validate ${file}" after fixing them`);
    return undefined;
  }
  const related: LoadedScenario[] = [];
  if (handoverTargets(result.scenario).length === 0) return { scenario: result.scenario, related };
  const dir = path.dirname(resolveArg(io, file));
  const folder = new ScenarioRegistry(kit.loadOptions);
  await folder.loadDir(dir);
  const wanted = [result.scenario];
  const seen = new Set([result.scenario.id]);
  while (wanted.length > 0) {
    const from = wanted.pop() as LoadedScenario;
    for (const { block, target } of handoverTargets(from)) {
      if (seen.has(target)) continue;
      const found = folder.get(target);
      if (!found) {
        println(io.stderr, `${file}: block "${block}" of ${from.id}: goto_scenario names "${target}", which no scenario in ${path.dirname(file) || "."} loads as; add it there or fix the id`);
        return undefined;
      }
      seen.add(target);
      related.push(found);
      wanted.push(found);
    }
  }
  return { scenario: result.scenario, related };
}

/** The goto_scenario blocks of a scenario and the ids they name. */
function handoverTargets(s: LoadedScenario): { block: string; target: string }[] {
  return Object.entries(s.def.blocks).flatMap(([block, b]) => (b.type === "goto_scenario" ? [{ block, target: b.scenario }] : []));
}
