/**
 * What a CLI command may touch of the outside world. Commands never use `process`
 * directly, so tests run them in-process with in-memory streams.
 */
import path from "node:path";

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative file arguments are resolved against this directory. */
  cwd: string;
}

/** The real process's streams, environment and working directory. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Resolves a file argument as the user typed it against the command's working directory. */
export function resolveArg(io: CliIo, file: string): string {
  return path.resolve(io.cwd, file);
}

/** Writes one line (a newline is appended). */
export function println(stream: NodeJS.WritableStream, line = ""): void {
  stream.write(`${line}\n`);
}
