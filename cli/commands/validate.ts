/**
 * `botflow validate FILE|DIR...`: strict-loads each scenario (YAML, schema, graph, actions) and
 * checks that scenario ids are unique across the files given. Problems and the summary go to
 * stdout, one problem per line as `file:line:col: error|warning: message`, so editors and CI
 * can parse them; usage errors go to stderr.
 *
 * Exit codes: 0 every file is valid (warnings allowed), 1 some file is invalid or unreadable,
 * 2 usage error.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { formatProblem, type ScenarioProblem } from "../../engine/errors.ts";
import { checkHandovers } from "../../engine/handovers.ts";
import { loadScenarioText, readScenarioFile, type LoadOptions } from "../../engine/loader.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import { parseYamlSource } from "../../engine/yaml-source.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, resolveArg, type CliIo } from "../io.ts";
import { plural } from "../plural.ts";
import { createScenarioKit, loadCliActions } from "../scenario-kit.ts";

export const summary = "Check scenario files (YAML, schema, graph, actions); print file:line:col problems";

const USAGE = `usage: botflow validate FILE|DIR...

Checks each scenario file (a directory means its *.yaml and *.yml files) and that scenario
ids are unique across them. Prints every problem on its own line to stdout as
  file:line:col: error|warning: message
then a summary line. Exit 0 when every file is valid (warnings allowed), 1 otherwise,
2 on a usage error.`;

interface FileReport {
  file: string;
  problems: ScenarioProblem[];
  /** When it loaded without errors. */
  scenario?: LoadedScenario;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs({ args, options: {}, allowPositionals: true }, io, USAGE);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length === 0) {
    printUsageError(io, USAGE, "no scenario files given");
    return EXIT_USAGE;
  }

  const actions = await loadCliActions(io);
  if (!actions) return EXIT_FAILED;
  const kit = createScenarioKit({ actions });
  const reports: FileReport[] = [];
  const ids = new Map<string, string>();
  for (const file of await expandArgs(parsed.positionals, io)) reports.push(await checkFile(file, io, kit.loadOptions, ids));
  await checkFileHandovers(reports, io, kit.loadOptions);
  for (const report of reports) for (const p of report.problems) println(io.stdout, formatProblem(p));

  const invalid = reports.filter((r) => r.problems.some((p) => p.severity === "error")).length;
  const errors = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === "error").length, 0);
  const warnings = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === "warning").length, 0);
  println(
    io.stdout,
    `${plural(reports.length, "file")}: ${reports.length - invalid} valid, ${invalid} invalid (${plural(errors, "error")}, ${plural(warnings, "warning")})`,
  );
  return invalid === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Files as the user named them; a directory stands for its scenario files, sorted. Duplicates once. */
async function expandArgs(args: string[], io: CliIo): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    const key = resolveArg(io, file);
    if (!seen.has(key)) (seen.add(key), out.push(file));
  };
  for (const arg of args) {
    const info = await stat(resolveArg(io, arg)).catch(() => undefined);
    if (!info?.isDirectory()) {
      add(arg);
      continue;
    }
    const names = (await readdir(resolveArg(io, arg))).filter((n) => /\.ya?ml$/.test(n)).sort();
    if (names.length === 0) add(arg); // reported as "no scenario files" below
    for (const name of names) add(path.join(arg, name));
  }
  return out;
}

async function checkFile(file: string, io: CliIo, options: LoadOptions, ids: Map<string, string>): Promise<FileReport> {
  const where = { file, line: 1, col: 1, severity: "error" as const };
  const full = resolveArg(io, file);
  const info = await stat(full).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error) {
    const why = info.code === "ENOENT" ? "no such file; check the path" : `cannot read it (${info.code ?? info.message})`;
    return { file, problems: [{ ...where, message: why }] };
  }
  if (info.isDirectory()) return { file, problems: [{ ...where, message: "a directory with no scenario files (*.yaml, *.yml)" }] };

  // Bounded read: a huge file or a device (/dev/zero) is refused instead of exhausting memory.
  const read = await readScenarioFile(full);
  if ("problem" in read) return { file, problems: [{ ...read.problem, file }] };
  const text = read.text;
  const result = loadScenarioText(text, file, options);
  const problems = [...result.problems];
  const scenario = result.scenario;
  if (scenario) {
    const first = ids.get(scenario.id);
    if (first === undefined) ids.set(scenario.id, file);
    else {
      const pos = parseYamlSource(text).source?.locate(["id"]) ?? { line: 1, col: 1 };
      problems.push({
        ...where,
        ...pos,
        message: `scenario id "${scenario.id}" is already used by ${first}; give each scenario its own id`,
      });
      problems.sort((a, b) => a.line - b.line || a.col - b.col);
    }
  }
  return { file, problems, ...(scenario && !problems.some((p) => p.severity === "error") ? { scenario } : {}) };
}

/**
 * goto_scenario targets must be loaded beside the scenario: among the files given, else in the
 * file's folder (where `botflow run` / `chat` and the server look for them).
 */
async function checkFileHandovers(reports: FileReport[], io: CliIo, options: LoadOptions): Promise<void> {
  const subjects = reports.filter((r) => r.scenario?.handovers !== undefined);
  if (subjects.length === 0) return;
  const world = new Map<string, LoadedScenario>();
  for (const r of reports) if (r.scenario && !world.has(r.scenario.id)) world.set(r.scenario.id, r.scenario);
  for (const dir of new Set(subjects.map((r) => path.dirname(resolveArg(io, r.file))))) {
    const folder = new ScenarioRegistry(options);
    await folder.loadDir(dir);
    for (const s of folder.list()) if (!world.has(s.id)) world.set(s.id, s);
  }
  for (const r of subjects) {
    const found = checkHandovers([r.scenario as LoadedScenario], [...world.values()]);
    if (found.length === 0) continue;
    r.problems.push(...found);
    r.problems.sort((a, b) => a.line - b.line || a.col - b.col);
  }
}
