/**
 * Loads the one scenario file `chat` and `run` work on, printing its problems (as
 * `file:line:col: severity: message`) to stderr. Undefined means it cannot run. The scenarios it
 * hands over to (goto_scenario, and theirs) come from the same folder, as `related`.
 */
import path from "node:path";
import { formatProblem } from "../engine/errors.ts";
import { checkHandovers } from "../engine/handovers.ts";
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
  if (!result.scenario.handovers) return { scenario: result.scenario, related };
  // The scenarios it hands over to come from its folder, checked as the server checks a folder.
  const folder = new ScenarioRegistry(kit.loadOptions);
  const broken = new Set((await folder.loadDir(path.dirname(resolveArg(io, file)))).filter((p) => p.severity === "error").map((p) => p.file));
  const others = folder.list().filter((s) => s.id !== result.scenario?.id);
  const problems = checkHandovers([result.scenario], [result.scenario, ...others]);
  for (const p of problems) println(io.stderr, formatProblem(p));
  if (problems.length > 0) {
    const dir = path.dirname(file) || ".";
    const also = broken.size > 0 ? ` (${broken.size === 1 ? "1 file there does" : `${broken.size} files there do`} not load: botflow validate ${dir})` : "";
    println(io.stderr, `${file}: goto_scenario looks for its scenarios in the file's folder${also}; fix the id or add the scenario there`);
    return undefined;
  }
  const wanted = [result.scenario];
  const seen = new Set([result.scenario.id]);
  while (wanted.length > 0) {
    const from = wanted.pop() as LoadedScenario;
    for (const { target } of from.handovers ?? []) {
      const found = folder.get(target);
      if (seen.has(target) || !found) continue;
      seen.add(target);
      related.push(found);
      wanted.push(found);
    }
  }
  return { scenario: result.scenario, related };
}
