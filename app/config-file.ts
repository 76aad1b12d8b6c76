/**
 * The optional configuration file (`botflow serve --config FILE`, or BOTFLOW_CONFIG): the same
 * variables as the environment, one `NAME=value` per line (the .env format: `#` comments,
 * optional quotes, an optional `export ` prefix). The environment wins over the file.
 *
 * @example
 * # botflow.env
 * PORT=8080
 * BOTFLOW_SCENARIO=csat_emoji
 */
import { readFile } from "node:fs/promises";
import { ConfigError } from "../engine/errors.ts";

export interface ConfigFile {
  /** As given, for messages. */
  name: string;
  vars: Record<string, string>;
  /** Line of each variable, for messages. */
  lines: Record<string, number>;
}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Parses the file's text; throws ConfigError listing every line it cannot read. */
export function parseConfigFile(text: string, name: string): ConfigFile {
  const vars: Record<string, string> = {};
  const lines: Record<string, number> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = LINE.exec(line);
    if (!m) {
      problems.push(`${name}:${i + 1}: not a NAME=value line`);
      return;
    }
    const key = m[1] as string;
    let value = (m[2] as string).trim();
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2] as string;
    else value = value.replace(/\s+#.*$/, "");
    if (key in vars) problems.push(`${name}:${i + 1}: ${key} is set twice (first on line ${lines[key]})`);
    vars[key] = value;
    lines[key] = i + 1;
  });
  if (problems.length > 0) throw new ConfigError(`the configuration file cannot be read:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return { name, vars, lines };
}

/** Reads and parses `path` (shown as `name` in messages). */
export async function readConfigFile(path: string, name = path): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`configuration file ${name} cannot be read (${code ?? String(err)}): check --config or BOTFLOW_CONFIG`);
  }
  return parseConfigFile(text, name);
}
