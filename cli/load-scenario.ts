/**
 * Loads the one scenario file `chat` and `run` work on, printing its problems (as
 * `file:line:col: severity: message`) to stderr. Undefined means it cannot run.
 */
import { formatProblem } from "../engine/errors.ts";
import { loadScenarioText, readScenarioFile } from "../engine/loader.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { println, resolveArg, type CliIo } from "./io.ts";
import type { ScenarioKit } from "./scenario-kit.ts";

export async function loadScenarioForCli(file: string, io: CliIo, kit: ScenarioKit): Promise<LoadedScenario | undefined> {
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
  if (!result.scenario) println(io.stderr, `${file}: the scenario has errors; run "botflow validate ${file}" after fixing them`);
  return result.scenario;
}
