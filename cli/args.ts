/**
 * `node:util` parseArgs with botflow's usage-error handling: a bad option prints what was wrong
 * and the command's usage to stderr, and the command exits 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { println, type CliIo } from "./io.ts";

/** Parses `config.args` strictly; on a usage error prints it with `usage` and returns undefined. */
export function parseCommandArgs<const T extends ParseArgsConfig>(config: T, io: CliIo, usage: string): ReturnType<typeof parseArgs<T>> | undefined {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    printUsageError(io, usage, err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

/** Prints a usage error (what was wrong, then how to call the command) to stderr. */
export function printUsageError(io: CliIo, usage: string, message: string): void {
  println(io.stderr, `error: ${message}`);
  println(io.stderr, usage.trimEnd());
}
