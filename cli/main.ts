/**
 * The `botflow` entry point: dispatches `botflow <command> [args]` to cli/commands/<command>.ts.
 * Commands are discovered on disk, so a new command is a new file in cli/commands/. Only the
 * command that runs is imported: the help page reads each summary from its file
 * (cli/command-index.js), so start-up never pays for every command's dependencies.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { commandNames, COMMAND_NAME, COMMANDS_DIR, helpText, staticSummary, version } from "./command-index.js";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, isCommandModule, type CommandModule } from "./command.ts";
import { println, processIo, type CliIo } from "./io.ts";


/** Runs the CLI with `argv` (without node and the script); resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    await printHelp(io.stderr);
    return EXIT_USAGE;
  }
  if (first === "--help" || first === "-h") {
    await printHelp(io.stdout);
    return EXIT_OK;
  }
  if (first === "help") {
    if (rest[0] === undefined) {
      await printHelp(io.stdout);
      return EXIT_OK;
    }
    return dispatch(rest[0], ["--help"], io);
  }
  if (first === "--version" || first === "-v") {
    println(io.stdout, await version());
    return EXIT_OK;
  }
  return dispatch(first, rest, io);
}

async function dispatch(name: string, args: string[], io: CliIo): Promise<number> {
  const command = COMMAND_NAME.test(name) ? await loadCommand(name) : undefined;
  if (!command) {
    const names = await commandNames();
    println(io.stderr, `botflow: unknown command "${name}". Commands: ${names.join(", ")}. Run "botflow help" for what each does.`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    // Commands report expected failures themselves; this is the backstop for bugs and I/O errors.
    const message = err instanceof Error ? err.message : String(err);
    println(io.stderr, `botflow ${name}: ${message}`);
    if (io.env.BOTFLOW_DEBUG && err instanceof Error && err.stack) println(io.stderr, err.stack);
    return EXIT_FAILED;
  }
}

async function loadCommand(name: string): Promise<CommandModule | undefined> {
  const file = path.join(COMMANDS_DIR, `${name}.ts`);
  if (!existsSync(file)) return undefined;
  const mod: unknown = await import(/* @vite-ignore */ pathToFileURL(file).href);
  if (!isCommandModule(mod)) throw new Error(`${file} must export "summary" (a string) and "run(args, io)"`);
  return mod;
}

async function printHelp(out: NodeJS.WritableStream): Promise<void> {
  const names = await commandNames();
  const rows: [string, string][] = [];
  for (const name of names) {
    // A summary that is not a plain literal costs its module's import; a broken module must not
    // take the whole help page (and the other commands' summaries) down.
    const summary =
      (await staticSummary(name)) ??
      (await loadCommand(name).then(
        (c) => c?.summary ?? "",
        (err: unknown) => `(cannot load: ${err instanceof Error ? err.message.split("\n")[0] : String(err)})`,
      ));
    rows.push([name, summary]);
  }
  out.write(helpText(rows));
}
