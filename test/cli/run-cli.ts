/**
 * Runs the botflow CLI in-process with in-memory streams, for fast command tests.
 */
import { Readable, Writable } from "node:stream";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../cli/main.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURES = path.join(ROOT, "test/cli/fixtures");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

class StringSink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** `botflow ...argv` run from the repository root (or `cwd`), with `stdin` piped in and `env` as its environment (default none). */
export async function runCli(argv: string[], options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const stdout = new StringSink();
  const stderr = new StringSink();
  const stdin = Readable.from(options.stdin === undefined ? [] : [options.stdin]);
  const code = await main(argv, { stdout, stderr, stdin, env: options.env ?? {}, cwd: options.cwd ?? ROOT });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
