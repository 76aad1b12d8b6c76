#!/usr/bin/env node
// The botflow command. Sources are TypeScript; tsx compiles them on load, so
// `npx botflow ...` works straight after `npm ci` with no build step. `--version` and
// `--help` are answered before tsx is loaded (cli/command-index.js is plain JavaScript):
// registering tsx costs about twice what starting node does.
import { quickAnswer } from "../cli/command-index.js";

const argv = process.argv.slice(2);
const quick = await quickAnswer(argv);
if (quick) {
  process.stdout.write(quick.stdout);
  process.stderr.write(quick.stderr);
  process.exitCode = quick.code;
} else {
  const { register } = await import("tsx/esm/api");
  register();
  const { main } = await import("../cli/main.ts");
  process.exitCode = await main(argv);
}
