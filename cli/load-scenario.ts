/**
 * Loads the one scenario file `chat` and `run` work on, printing its problems (as
 * `file:line:col: severity: message`) to stderr. Undefined means it cannot run.
 */
import { readFile } from "node:fs/promises";
import { formatProblem } from "../engine/errors.ts";
import { loadScenarioText } from "../engine/loader.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { println, resolveArg, type CliIo } from "./io.ts";
import type { ScenarioKit } from "./scenario-kit.ts";

export async function loadScenarioForCli(file: string, io: CliIo, kit: ScenarioKit): Promise<LoadedScenario | undefined> {
  let text: string;
  try {
    text = await readFile(resolveArg(io, file), "utf8");
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
