/**
 * The settings of http__request and the custom actions, read by app/config.ts for
 * `botflow serve` and by the CLI commands that load scenarios (`validate`, `run`, `chat`,
 * `test`), so all of them accept the same scenarios:
 *
 * - BOTFLOW_ACTIONS: custom action modules, comma-separated paths;
 * - BOTFLOW_HTTP_ALLOW_HOSTS: the hosts http__request may call (default none);
 * - BOTFLOW_HTTP_ENV: the environment variables scenarios may send as `{{env.NAME}}` (default none).
 *
 * @example
 * const settings = readActionSettings(get, problems, { cwd, requireSecrets: true });
 */
import path from "node:path";
import { HOST_PATTERN } from "../actions/host-allowlist.ts";

/** The variables, with what they mean (merged into CONFIG_VARIABLES). */
export const ACTION_VARIABLES: Readonly<Record<string, string>> = {
  BOTFLOW_ACTIONS:
    "custom action modules, comma-separated paths (relative to the working directory, or to the configuration file's folder when set there), each with a default export listing its actions (examples/actions/); validate, run, chat and test read it too",
  BOTFLOW_HTTP_ALLOW_HOSTS: "hosts http__request may call, comma-separated: api.example.com, *.crm.example (every name under it); any port (default: none, so no scenario can call out)",
  BOTFLOW_HTTP_ENV: "environment variables scenarios may send as {{env.NAME}} in an http__request's url, headers or body, comma-separated (default none); their values are never logged",
};

/** What the actions are configured with. Holds secrets (`http.env`): never log it. */
export interface ActionSettings {
  /** Absolute paths of the custom action modules, in the order given. */
  modules: string[];
  http: {
    /** Host patterns, lower case. */
    allowHosts: string[];
    /** Each allowed secret name with its value; undefined when the environment does not set it. */
    env: Record<string, string | undefined>;
  };
}

export interface ReadActionSettingsOptions {
  cwd: string;
  /** The configuration file's folder, when BOTFLOW_ACTIONS came from one: its paths start there. */
  fileDir?: string;
  /** `botflow serve`: an allowed secret that is not set is a problem (every call using it would fail). */
  requireSecrets: boolean;
  /** Names scenarios may never send (botflow's own settings: its tokens and database URLs). */
  reserved: readonly string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads the three variables through `get`; each problem is pushed onto `problems`. */
export function readActionSettings(get: (name: string) => string | undefined, problems: string[], o: ReadActionSettingsOptions): ActionSettings {
  const base = o.fileDir ?? o.cwd;
  const modules = list(get("BOTFLOW_ACTIONS")).map((p) => path.resolve(base, p));

  const allowHosts: string[] = [];
  for (const entry of list(get("BOTFLOW_HTTP_ALLOW_HOSTS")).map((h) => h.toLowerCase())) {
    if (HOST_PATTERN.test(entry)) allowHosts.push(entry);
    else if (entry === "*" || entry.startsWith("*") || entry.includes("*")) problems.push(`BOTFLOW_HTTP_ALLOW_HOSTS "${entry}": only a leading "*." is a wildcard (*.crm.example); name the hosts scenarios may call`);
    else problems.push(`BOTFLOW_HTTP_ALLOW_HOSTS "${entry.slice(0, 80)}" is not a host name: write the host only (api.example.com), without scheme, port or path`);
  }

  const env: Record<string, string | undefined> = {};
  for (const name of list(get("BOTFLOW_HTTP_ENV"))) {
    if (!ENV_NAME.test(name)) {
      problems.push(`BOTFLOW_HTTP_ENV "${name.slice(0, 80)}" is not a variable name: letters, digits and _`);
      continue;
    }
    if (o.reserved.includes(name)) {
      problems.push(`BOTFLOW_HTTP_ENV: ${name} is one of botflow's own settings and cannot be sent by scenarios; give the secret its own variable, e.g. CRM_TOKEN`);
      continue;
    }
    const value = get(name);
    if (value === undefined && o.requireSecrets) problems.push(`BOTFLOW_HTTP_ENV names ${name}, but ${name} is not set: set it, or remove it from BOTFLOW_HTTP_ENV`);
    env[name] = value;
  }
  return { modules, http: { allowHosts, env } };
}

/** The names BOTFLOW_HTTP_ENV allows, for the checks of unknown variables (a configuration file may set them). */
export function allowedSecretNames(get: (name: string) => string | undefined): string[] {
  return list(get("BOTFLOW_HTTP_ENV")).filter((n) => ENV_NAME.test(n));
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
