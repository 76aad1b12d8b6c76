/**
 * Custom actions: the modules named by BOTFLOW_ACTIONS, each exporting ActionDefinition objects,
 * loaded once at start by the one loader `botflow serve`, `validate`, `run`, `chat` and `test`
 * share. The one shape: the module's default export is a list of definitions (named exports are
 * the module's own business and are not read). A definition needs a `name` (lower case, digits, `_`; `crm__create_ticket`),
 * a `description`, a `configSchema` (JSON Schema of the block's `config`, draft 2020-12) and
 * `run(config, ctx)`; the scenario loader then checks every block's config against the schema,
 * with line and column, as it does for the built-ins.
 *
 * @example
 * // my-actions.js: the default export, a list
 * export default [{ name: "crm__note", description: "…", configSchema: { type: "object" }, async run(config, ctx) {} }];
 */
import { stat } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import { ConfigError } from "../engine/errors.ts";
import type { ActionDefinition } from "./registry.ts";

/** What an action name may be: the scenario schema's `action:` pattern. */
const ACTION_NAME = /^[a-z][a-z0-9_]*$/;
const ajv = new Ajv2020({ strict: false });

/**
 * Imports each module (absolute paths) and returns every action definition, in order. Throws
 * ConfigError listing every problem (a module that does not load, a definition without a name,
 * schema or run, an invalid schema, a name used twice or by a built-in in `reserved`).
 */
export async function loadCustomActions(modules: readonly string[], reserved: readonly string[]): Promise<ActionDefinition[]> {
  const problems: string[] = [];
  const found: ActionDefinition[] = [];
  const seen = new Map<string, string>();
  for (const file of modules) {
    if (!(await isFile(file))) {
      problems.push(`${file}: no such file; check the path (relative paths start from the working directory, or from the configuration file's folder)`);
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${file}: cannot load the module (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`);
      continue;
    }
    const candidates = exportedDefinitions(mod);
    if (candidates.length === 0) {
      problems.push(`${file}: exports no action; export default [ { name, description, configSchema, run } ] (see examples/actions/)`);
      continue;
    }
    for (const { where, value } of candidates) {
      const at = `${file} (${where})`;
      const def = checkDefinition(value, at, problems);
      if (!def) continue;
      if (reserved.includes(def.name)) {
        problems.push(`${at}: action "${def.name}" is a built-in action's name; give yours another, e.g. "myorg__${def.name.replace(/__/g, "_")}"`);
        continue;
      }
      const first = seen.get(def.name);
      if (first !== undefined) {
        problems.push(`${at}: action "${def.name}" is also defined by ${first}; each action needs its own name`);
        continue;
      }
      seen.set(def.name, at);
      found.push(def);
    }
  }
  if (problems.length > 0) throw new ConfigError(`custom actions (BOTFLOW_ACTIONS) cannot be loaded:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return found;
}

/** The default export's items; a default export that is one definition counts as a list of one. */
function exportedDefinitions(mod: Record<string, unknown>): { where: string; value: unknown }[] {
  const def = mod.default;
  if (Array.isArray(def)) return def.map((value, i) => ({ where: `default export [${i}]`, value }));
  return def === undefined ? [] : [{ where: "default export", value: def }];
}

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() === true;
}

function checkDefinition(value: unknown, at: string, problems: string[]): ActionDefinition | undefined {
  if (!isObject(value)) {
    problems.push(`${at}: not an action definition (an object with name, description, configSchema and run)`);
    return undefined;
  }
  const v = value as Partial<Record<keyof ActionDefinition, unknown>>;
  const missing: string[] = [];
  if (typeof v.name !== "string") missing.push("name (a string)");
  if (typeof v.description !== "string") missing.push("description (a string)");
  if (!isObject(v.configSchema)) missing.push("configSchema (a JSON Schema object)");
  if (typeof v.run !== "function") missing.push("run (a function of config and context)");
  if (v.checkConfig !== undefined && typeof v.checkConfig !== "function") missing.push("checkConfig as a function, or none");
  if (v.savesVariables !== undefined && typeof v.savesVariables !== "function") missing.push("savesVariables as a function, or none");
  const shown = typeof v.name === "string" ? `action "${v.name}"` : "the definition";
  if (missing.length > 0) {
    problems.push(`${at}: ${shown} needs ${missing.join(", ")}`);
    return undefined;
  }
  const name = v.name as string;
  if (!ACTION_NAME.test(name)) {
    problems.push(`${at}: action name "${name.slice(0, 64)}" must be lower-case letters, digits and _ starting with a letter (e.g. crm__create_ticket)`);
    return undefined;
  }
  try {
    ajv.compile(v.configSchema as Record<string, unknown>);
  } catch (err) {
    problems.push(`${at}: action "${name}": configSchema is not a valid JSON Schema (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
  return value as unknown as ActionDefinition;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
