/**
 * `node:util` parseArgs with botflow's conventions for every command: `-h`/`--help` prints the
 * command's usage to stdout (exit 0); a bad option prints what was wrong and the usage to
 * stderr (exit 2).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { LOCALE_PATTERN } from "../engine/schema/scenario-schema.ts";
import { EXIT_OK, EXIT_USAGE } from "./command.ts";
import { println, type CliIo } from "./io.ts";

/**
 * Parses `config.args` strictly. Returns the parsed arguments, or the exit code when the
 * command should stop here: help was printed (0) or a usage error was (2).
 *
 * @example
 * const parsed = parseCommandArgs({ args, options: { json: { type: "boolean" } } }, io, USAGE);
 * if (typeof parsed === "number") return parsed;
 */
export function parseCommandArgs<const T extends ParseArgsConfig>(config: T, io: CliIo, usage: string): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    const options = { ...config.options, help: { type: "boolean", short: "h" } } as const;
    parsed = parseArgs({ strict: true, ...config, options }) as unknown as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    printUsageError(io, usage, err instanceof Error ? err.message : String(err));
    return EXIT_USAGE;
  }
  if ((parsed.values as { help?: boolean }).help) {
    println(io.stdout, usage);
    return EXIT_OK;
  }
  return parsed;
}

const LOCALE = new RegExp(LOCALE_PATTERN);

/** Whether `value` is a locale code (en, uk, pt-BR), as scenarios write them. */
export function isLocale(value: string): boolean {
  return LOCALE.test(value);
}

/**
 * The one scenario file `chat` and `run` work on, and the `--locale` they were given; or the
 * exit code after a usage error was printed.
 */
export function scenarioArgs(positionals: readonly string[], locale: string | undefined, io: CliIo, usage: string): { file: string; locale?: string } | number {
  if (positionals.length !== 1) {
    printUsageError(io, usage, positionals.length === 0 ? "no scenario file given" : `one scenario file at a time; got ${positionals.length}`);
    return EXIT_USAGE;
  }
  if (locale !== undefined && !isLocale(locale)) {
    printUsageError(io, usage, `--locale must look like en, uk or pt-BR; got "${locale}"`);
    return EXIT_USAGE;
  }
  return { file: positionals[0] as string, ...(locale !== undefined ? { locale } : {}) };
}

/** Prints a usage error (what was wrong, then how to call the command) to stderr. */
export function printUsageError(io: CliIo, usage: string, message: string): void {
  println(io.stderr, `error: ${message}`);
  println(io.stderr, usage.trimEnd());
}
