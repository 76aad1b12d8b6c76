#!/usr/bin/env node
// The botflow command. Sources are TypeScript; tsx compiles them on load, so
// `npx botflow ...` works straight after `npm ci` with no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
