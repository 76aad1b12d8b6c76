/**
 * `botflow validate [--channel NAME]... [--channels] FILE|DIR...`: strict-loads each scenario
 * (YAML, schema, graph, actions, every channel's limits) and checks that scenario ids are unique
 * across the files given. Problems and the summary go to stdout, one problem per line as
 * `file:line:col: error|warning: message`, so editors and CI can parse them; usage errors go to
 * stderr. What a channel cannot send is an error for the channels named with `--channel` (the
 * ones the scenario runs on) and a warning for the others; `--channels` also prints, per
 * question block, what each channel will show. The channels' limits come from
 * channels/capabilities.ts, so no channel SDK is loaded and no channel secret is needed.
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
import { CHANNEL_LIMITS } from "../../channels/capabilities.ts";
import type { ChannelLimits } from "../../engine/catalog.ts";
import type { LocatedChannelPlans } from "../../engine/loader.ts";

export const summary = "Check scenario files (YAML, schema, graph, actions); print file:line:col problems";

const CHANNEL_NAMES = CHANNEL_LIMITS.map((c) => c.channel);

const USAGE = `usage: botflow validate [--channel NAME]... [--channels] FILE|DIR...

Checks each scenario file (a directory means its *.yaml and *.yml files) and that scenario
ids are unique across them: YAML, schema, graph, actions and every channel's limits, all in
one pass. Prints every problem on its own line to stdout as
  file:line:col: error|warning: message
then a summary line. Exit 0 when every file is valid (warnings allowed), 1 otherwise,
2 on a usage error.

  --channel NAME  a channel the scenarios run on (repeat, or NAME,NAME): what it cannot
                  send is an error, as botflow serve refuses it; for the other channels it
                  is a warning. Channels: ${CHANNEL_NAMES.join(", ")}
  --channels      also print, per question block, what each channel will show (a keyboard,
                  a list, a numbered prompt, a card) or why it would refuse it`;

interface FileReport {
  file: string;
  problems: ScenarioProblem[];
  /** When it loaded without errors. */
  scenario?: LoadedScenario;
  /** What each channel makes of each question block that could be read. */
  channelPlans: LocatedChannelPlans[];
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs({ args, options: { channel: { type: "string", multiple: true }, channels: { type: "boolean" } }, allowPositionals: true }, io, USAGE);
  if (typeof parsed === "number") return parsed;
  if (parsed.positionals.length === 0) {
    printUsageError(io, USAGE, "no scenario files given");
    return EXIT_USAGE;
  }
  const named = (parsed.values.channel ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
  const unknown = named.find((n) => !CHANNEL_NAMES.includes(n));
  if (unknown !== undefined) {
    printUsageError(io, USAGE, `--channel: no channel "${unknown.slice(0, 40)}"; channels are ${CHANNEL_NAMES.join(", ")}`);
    return EXIT_USAGE;
  }
  const enabled = new Set(named);

  const actions = await loadCliActions(io);
  if (!actions) return EXIT_FAILED;
  const kit = createScenarioKit({ actions });
  const channels = channelOptions(enabled);
  const options: LoadOptions = { ...kit.loadOptions, ...channels };
  const reports: FileReport[] = [];
  const ids = new Map<string, string>();
  for (const file of await expandArgs(parsed.positionals, io)) reports.push(await checkFile(file, io, options, ids));
  // Scenarios beside a file are only looked up by id: the enabled channels' errors decide whether one loads.
  await checkFileHandovers(reports, io, { ...kit.loadOptions, channels: channels.channels });
  for (const report of reports) {
    for (const p of report.problems) println(io.stdout, formatProblem(p));
    if (parsed.values.channels) printChannelPlans(io, report);
  }

  const invalid = reports.filter((r) => r.problems.some((p) => p.severity === "error")).length;
  const errors = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === "error").length, 0);
  const warnings = reports.reduce((n, r) => n + r.problems.filter((p) => p.severity === "warning").length, 0);
  println(
    io.stdout,
    `${plural(reports.length, "file")}: ${reports.length - invalid} valid, ${invalid} invalid (${plural(errors, "error")}, ${plural(warnings, "warning")})`,
  );
  return invalid === 0 ? EXIT_OK : EXIT_FAILED;
}

/** The enabled channels' limits (errors) and the others' (warnings), in the channels' order. */
function channelOptions(enabled: ReadonlySet<string>): { channels: ChannelLimits[]; otherChannels: ChannelLimits[] } {
  return { channels: CHANNEL_LIMITS.filter((c) => enabled.has(c.channel)), otherChannels: CHANNEL_LIMITS.filter((c) => !enabled.has(c.channel)) };
}

/**
 * The `--channels` table of one file: per question block, a line per channel in the order of
 * channels/index.ts, what it will show or why it would refuse it; `*` marks an enabled channel.
 */
function printChannelPlans(io: CliIo, report: FileReport): void {
  const enabled = report.channelPlans[0]?.channels.filter((c) => c.enabled).map((c) => c.channel) ?? [];
  println(io.stdout, `${report.file}: what each channel shows${enabled.length > 0 ? ` (* enabled: ${enabled.join(", ")})` : " (no channel enabled: --channel NAME)"}`);
  if (report.channelPlans.length === 0) {
    println(io.stdout, report.problems.some((p) => p.severity === "error") ? "  no question block could be read" : "  no question blocks");
    return;
  }
  const width = Math.max(...CHANNEL_NAMES.map((n) => n.length)) + 2;
  for (const block of report.channelPlans) {
    println(io.stdout, `  ${block.blockId} (${block.line}:${block.col})`);
    // In the order of channels/index.ts, enabled or not.
    const order = (c: { channel: string }): number => CHANNEL_NAMES.indexOf(c.channel);
    for (const c of [...block.channels].sort((x, y) => order(x) - order(y))) {
      const name = `${c.channel}${c.enabled ? " *" : ""}`.padEnd(width);
      println(io.stdout, `    ${name}  ${c.refused !== undefined ? `refused: ${c.refused}` : c.form}`);
    }
  }
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
    return { file, problems: [{ ...where, message: why }], channelPlans: [] };
  }
  if (info.isDirectory()) return { file, problems: [{ ...where, message: "a directory with no scenario files (*.yaml, *.yml)" }], channelPlans: [] };

  // Bounded read: a huge file or a device (/dev/zero) is refused instead of exhausting memory.
  const read = await readScenarioFile(full);
  if ("problem" in read) return { file, problems: [{ ...read.problem, file }], channelPlans: [] };
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
  return { file, problems, channelPlans: result.channelPlans, ...(scenario && !problems.some((p) => p.severity === "error") ? { scenario } : {}) };
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
