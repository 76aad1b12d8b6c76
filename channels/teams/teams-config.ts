/**
 * The Teams channel's configuration, read by app/config.ts (the only module that sees the
 * environment) through `get`. The channel is enabled by MICROSOFT_APP_ID (Bot Framework token
 * authentication on), or by BOTFLOW_TEAMS_EMULATOR=true without one (authentication off, for the
 * Bot Framework Emulator on this machine).
 */

export interface TeamsConfig {
  /** Undefined in Emulator mode. */
  appId?: string;
  /** Secret: never logged nor echoed in errors. */
  appPassword?: string;
  tenantId?: string;
  appType?: "MultiTenant" | "SingleTenant" | "UserAssignedMSI";
  /** Start the scenario when the bot is added to a conversation. */
  startOnInstall: boolean;
}

/** The variables, with what each means (merged into CONFIG_VARIABLES). */
export const TEAMS_VARIABLES: Readonly<Record<string, string>> = {
  MICROSOFT_APP_ID: "Teams: the Azure Bot's Microsoft App ID; setting it enables the channel on POST /api/messages, with Bot Framework token authentication",
  MICROSOFT_APP_PASSWORD: "Teams: the App ID's client secret (required with MICROSOFT_APP_ID unless MICROSOFT_APP_TYPE=UserAssignedMSI)",
  MICROSOFT_APP_TENANT_ID: "Teams: the Microsoft Entra tenant id (required for SingleTenant and UserAssignedMSI bots)",
  MICROSOFT_APP_TYPE: "Teams: MultiTenant (default), SingleTenant or UserAssignedMSI, as registered in Azure",
  BOTFLOW_TEAMS_EMULATOR: "Teams: `true` serves /api/messages without MICROSOFT_APP_ID, authentication OFF, for the Bot Framework Emulator (local use only)",
  BOTFLOW_TEAMS_START_ON_INSTALL: "Teams: `true` starts the scenario when the bot is added to a conversation (default false: the user's first message starts it)",
};

const APP_TYPES = ["MultiTenant", "SingleTenant", "UserAssignedMSI"] as const;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The channel's settings, undefined when it is not enabled; problems go to `problems` (never quoting a secret). */
export function parseTeamsConfig(get: (name: string) => string | undefined, problems: string[]): TeamsConfig | undefined {
  const appId = get("MICROSOFT_APP_ID");
  const appPassword = get("MICROSOFT_APP_PASSWORD");
  const tenantId = get("MICROSOFT_APP_TENANT_ID");
  const typeRaw = get("MICROSOFT_APP_TYPE");
  const emulator = readBool("BOTFLOW_TEAMS_EMULATOR", get, problems);
  const startOnInstall = readBool("BOTFLOW_TEAMS_START_ON_INSTALL", get, problems) ?? false;

  if (appId === undefined) {
    const others = ["MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "MICROSOFT_APP_TYPE"].filter((n) => get(n) !== undefined);
    if (others.length > 0) {
      problems.push(`${others.join(", ")} ${others.length === 1 ? "is" : "are"} set but MICROSOFT_APP_ID is not: set the Azure Bot's App ID to enable Teams, or unset ${others.length === 1 ? "it" : "them"}`);
      return undefined;
    }
    return emulator ? { startOnInstall } : undefined;
  }
  if (emulator) {
    problems.push("BOTFLOW_TEAMS_EMULATOR=true turns authentication off, but MICROSOFT_APP_ID is set: unset one of them (the Emulator also works with the App ID and password)");
  }
  if (!GUID.test(appId)) problems.push("MICROSOFT_APP_ID is not an App ID (a GUID such as 00000000-0000-0000-0000-000000000000): copy it from the Azure Bot's Configuration page");
  let appType: TeamsConfig["appType"];
  if (typeRaw !== undefined) {
    appType = APP_TYPES.find((t) => t.toLowerCase() === typeRaw.toLowerCase());
    if (!appType) problems.push(`MICROSOFT_APP_TYPE "${typeRaw.slice(0, 40)}" is not an app type: use ${APP_TYPES.join(", ")}`);
  }
  if (appPassword === undefined && appType !== "UserAssignedMSI") {
    problems.push("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not: create a client secret for the App ID (Azure Bot → Configuration → Manage Password) and set it");
  }
  if (tenantId === undefined && (appType === "SingleTenant" || appType === "UserAssignedMSI")) {
    problems.push(`MICROSOFT_APP_TYPE=${appType} needs MICROSOFT_APP_TENANT_ID: set the Microsoft Entra tenant id of the bot's registration`);
  }
  if (tenantId !== undefined && !GUID.test(tenantId) && !/^[A-Za-z0-9.-]+$/.test(tenantId)) {
    problems.push("MICROSOFT_APP_TENANT_ID is not a tenant id (a GUID, or a domain such as contoso.onmicrosoft.com)");
  }
  return {
    appId,
    ...(appPassword !== undefined ? { appPassword } : {}),
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(appType !== undefined ? { appType } : {}),
    startOnInstall,
  };
}

function readBool(name: string, get: (name: string) => string | undefined, problems: string[]): boolean | undefined {
  const raw = get(name);
  if (raw === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  problems.push(`${name} "${raw.slice(0, 40)}" is not a boolean: use true or false`);
  return undefined;
}
