/**
 * BOTFLOW_HTTP_ALLOW_HOSTS and BOTFLOW_HTTP_ENV as `botflow serve` and the CLI read them: bad
 * entries refused with the fix, botflow's own settings never sendable, an allowed secret that
 * is not set stopping serve (every call would fail) but not `validate`, the secret's own variable
 * accepted in a configuration file, and `botflow validate` of the support example under them.
 */
import { describe, expect, it } from "vitest";
import { parseConfigFile } from "../../app/config-file.ts";
import { loadActionSettings, loadConfig } from "../../app/config.ts";
import { runCli } from "../cli/run-cli.ts";

const CWD = { cwd: "/srv/bot" };
const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env, CWD);
    return "";
  } catch (err) {
    return (err as Error).message;
  }
};

describe("the action settings", () => {
  it("reads hosts (lower case) and allowed secrets with their values", () => {
    const config = loadConfig({ BOTFLOW_HTTP_ALLOW_HOSTS: "API.example.com, *.crm.example,127.0.0.1", BOTFLOW_HTTP_ENV: "CRM_TOKEN", CRM_TOKEN: "t0ken-value" }, CWD);
    expect(config.actions.http).toEqual({ allowHosts: ["api.example.com", "*.crm.example", "127.0.0.1"], env: { CRM_TOKEN: "t0ken-value" } });
    expect(config.actions.modules).toEqual([]);
    expect(loadConfig({}, CWD).actions.http).toEqual({ allowHosts: [], env: {} });
  });

  it("refuses a host with a scheme or path, a bare wildcard, a bad name and botflow's own settings", () => {
    const message = problemsOf({ BOTFLOW_HTTP_ALLOW_HOSTS: "https://api.example.com/x,*,a*.example", BOTFLOW_HTTP_ENV: "CRM-TOKEN,TELEGRAM_BOT_TOKEN,DATABASE_URL" });
    expect(message).toContain('BOTFLOW_HTTP_ALLOW_HOSTS "https://api.example.com/x" is not a host name: write the host only (api.example.com), without scheme, port or path');
    expect(message).toContain('BOTFLOW_HTTP_ALLOW_HOSTS "*": only a leading "*." is a wildcard (*.crm.example); name the hosts scenarios may call');
    expect(message).toContain('BOTFLOW_HTTP_ALLOW_HOSTS "a*.example": only a leading "*." is a wildcard');
    expect(message).toContain('BOTFLOW_HTTP_ENV "CRM-TOKEN" is not a variable name');
    expect(message).toContain("BOTFLOW_HTTP_ENV: TELEGRAM_BOT_TOKEN is one of botflow's own settings and cannot be sent by scenarios");
    expect(message).toContain("BOTFLOW_HTTP_ENV: DATABASE_URL is one of botflow's own settings");
  });

  it("serve needs every allowed secret set; the CLI checks scenarios without the values", () => {
    expect(problemsOf({ BOTFLOW_HTTP_ENV: "CRM_TOKEN" })).toContain("BOTFLOW_HTTP_ENV names CRM_TOKEN, but CRM_TOKEN is not set: set it, or remove it from BOTFLOW_HTTP_ENV");
    expect(loadActionSettings({ BOTFLOW_HTTP_ENV: "CRM_TOKEN" }, CWD).http.env).toEqual({ CRM_TOKEN: undefined });
  });

  it("accepts the secret's own variable in a configuration file, and never puts its value in a message", () => {
    const file = parseConfigFile("BOTFLOW_HTTP_ENV=CRM_TOKEN\nCRM_TOKEN=file-s3cret-value\nOTHER_TOKEN=x\n", "botflow.env");
    let message = "";
    try {
      loadConfig({}, { ...CWD, file });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("botflow.env:3: unknown variable OTHER_TOKEN");
    expect(message).not.toContain("CRM_TOKEN");
    expect(message).not.toContain("file-s3cret-value");
    const ok = parseConfigFile("BOTFLOW_HTTP_ENV=CRM_TOKEN\nCRM_TOKEN=file-s3cret-value\n", "botflow.env");
    expect(loadConfig({}, { ...CWD, file: ok }).actions.http.env).toEqual({ CRM_TOKEN: "file-s3cret-value" });
  });
});

describe("botflow validate of examples/support/ under the action settings", () => {
  it("is valid with its host and token allowed, and refuses the lookup block without them", async () => {
    const ok = await runCli(["validate", "examples/support/"], { env: { BOTFLOW_HTTP_ALLOW_HOSTS: "api.example.com", BOTFLOW_HTTP_ENV: "CRM_TOKEN" } });
    expect(ok.stdout).toBe("2 files: 2 valid, 0 invalid (0 errors, 0 warnings)\n");
    expect(ok.code).toBe(0);
    const refused = await runCli(["validate", "examples/support/support-order.yaml"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout.split("\n").slice(0, 2)).toEqual([
      'examples/support/support-order.yaml:29:12: error: block "lookup" (http__request): host "api.example.com" is not allowed: BOTFLOW_HTTP_ALLOW_HOSTS is empty, so no host is; set it to the hosts scenarios may call, e.g. BOTFLOW_HTTP_ALLOW_HOSTS=api.example.com',
      'examples/support/support-order.yaml:31:24: error: block "lookup" (http__request): {{env.CRM_TOKEN}} is not an allowed secret (BOTFLOW_HTTP_ENV; none is allowed); add CRM_TOKEN there to let scenarios send it',
    ]);
  });

  it("stops on invalid settings before reading a scenario", async () => {
    const r = await runCli(["validate", "examples/support/"], { env: { BOTFLOW_HTTP_ALLOW_HOSTS: "https://api.example.com" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the action settings are invalid:");
    expect(r.stdout).toBe("");
  });
});
