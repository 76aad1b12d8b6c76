/**
 * The contract of a `botflow` command: one module per command in cli/commands/<name>.ts,
 * found by file name, so adding a command never means editing cli/main.ts.
 *
 * @example
 * // cli/commands/hello.ts
 * export const summary = "Say hello";
 * export async function run(args: string[], io: CliIo): Promise<number> { println(io.stdout, "hello"); return 0; }
 */
import type { CliIo } from "./io.ts";

export interface CommandModule {
  /** One line for `botflow help`. */
  summary: string;
  /** Runs the command; resolves to the exit code (0 ok, 1 failed, 2 usage error). `--help` prints its usage. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Exit codes every command uses. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export function isCommandModule(m: unknown): m is CommandModule {
  const c = m as Partial<CommandModule> | null;
  return c !== null && typeof c === "object" && typeof c.summary === "string" && typeof c.run === "function";
}
