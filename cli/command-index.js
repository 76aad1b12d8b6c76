// @ts-check
/**
 * botflow's command list, version and help page, in plain JavaScript: bin/botflow.js answers
 * `--version` and `--help` with this alone, before TypeScript (tsx) is loaded, which costs more
 * than the answer itself. A command's summary is read from its file's
 * `export const summary = "…";` line, so listing the commands imports none of them (nor their
 * dependencies); a summary written any other way makes the caller load the module instead.
 * Types: cli/command-index.d.ts.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const COMMANDS_DIR = fileURLToPath(new URL("./commands/", import.meta.url));
export const COMMAND_NAME = /^[a-z][a-z-]*$/;
const PACKAGE_JSON = new URL("../package.json", import.meta.url);
const SUMMARY = /^export const summary = ("(?:[^"\\\n]|\\.)*");$/m;

/** The commands present in cli/commands, sorted. */
export async function commandNames() {
  const files = await readdir(COMMANDS_DIR);
  return files
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .map((f) => f.slice(0, -3))
    .filter((n) => COMMAND_NAME.test(n))
    .sort();
}

/** The summary line written as a string literal in the command's file; undefined when it is not. */
export async function staticSummary(name) {
  const source = await readFile(path.join(COMMANDS_DIR, `${name}.ts`), "utf8").catch(() => "");
  const literal = SUMMARY.exec(source)?.[1];
  if (literal === undefined) return undefined;
  try {
    const value = JSON.parse(literal);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The package's version. */
export async function version() {
  const pkg = JSON.parse(await readFile(PACKAGE_JSON, "utf8"));
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

/** The help page for these commands and summaries. */
export function helpText(rows) {
  const width = Math.max(...rows.map(([n]) => n.length), 4);
  return [
    "usage: botflow <command> [options]",
    "",
    "commands:",
    ...rows.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    "",
    'Run "botflow help <command>" or "botflow <command> --help" for its options; "botflow --version" for the version.',
    "",
  ].join("\n");
}

/**
 * What `botflow <argv>` prints when it needs no command module: the version, or the help page
 * when every summary is a literal. Undefined when a command must run (or a summary be imported).
 */
export async function quickAnswer(argv) {
  const [first, second] = argv;
  if ((first === "--version" || first === "-v") && second === undefined) return { code: 0, stdout: `${await version()}\n`, stderr: "" };
  const help = first === "--help" || first === "-h" || (first === "help" && second === undefined);
  if (!help && first !== undefined) return undefined;
  const names = await commandNames();
  const summaries = await Promise.all(names.map((n) => staticSummary(n)));
  if (summaries.some((s) => s === undefined)) return undefined;
  const text = helpText(names.map((n, i) => [n, /** @type {string} */ (summaries[i])]));
  return help ? { code: 0, stdout: text, stderr: "" } : { code: 2, stdout: "", stderr: text };
}
