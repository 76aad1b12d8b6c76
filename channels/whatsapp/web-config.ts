/**
 * The whatsapp-web.js channel's configuration, read by app/config.ts through `get`. The channel
 * (and with it a Chromium) starts only when WHATSAPP_WEB_ENABLED is on, never by default.
 */
import path from "node:path";
import { parseMessagesPerSecond } from "../rate-limit/rate-config.ts";

export interface WhatsappWebConfig {
  /** Absolute; LocalAuth keeps the logged-in session here (keep it private: it is the login). */
  authDir: string;
  /** The system's Chromium; puppeteer never downloads one. */
  executablePath: string;
  /** Also send each question as a WhatsApp poll (the numbered text prompt always goes). */
  polls: boolean;
  /** Where the login lives: this host's authDir (LocalAuth), or Redis too (RemoteAuth) so another host can restore it. */
  auth: { kind: "local" } | { kind: "redis"; redisUrl: string; keyPrefix: string };
  /** The account's pace for triggered surveys (WHATSAPP_WEB_MESSAGES_PER_SECOND). */
  messagesPerSecond: number;
}

/**
 * WhatsApp publishes no rate for a linked device, and bans numbers that send in bulk: one message
 * a second keeps a 10,000-survey trigger to under three hours and looks like a person typing fast.
 */
export const WHATSAPP_WEB_MESSAGES_PER_SECOND = 1;

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

export const WHATSAPP_WEB_VARIABLES: Readonly<Record<string, string>> = {
  WHATSAPP_WEB_ENABLED: "WhatsApp Web (whatsapp-web.js): 1 starts the client and its Chromium; log in by scanning the QR (default off)",
  WHATSAPP_WEB_AUTH_DIR: "WhatsApp Web: folder of the saved login session (LocalAuth; default BOTFLOW_DATA_DIR/whatsapp-web)",
  WHATSAPP_WEB_AUTH: "WhatsApp Web: where the login is kept: local (WHATSAPP_WEB_AUTH_DIR) or redis (backed up to REDIS_URL every 5 minutes, so another host can restore it) (default local)",
  WHATSAPP_WEB_POLLS: "WhatsApp Web: true also sends each question as a poll beside the numbered text prompt (default false)",
  WHATSAPP_WEB_MESSAGES_PER_SECOND:
    `WhatsApp Web: the account's pace, messages a second, that triggered surveys wait for and replies count against (default ${WHATSAPP_WEB_MESSAGES_PER_SECOND}: WhatsApp bans numbers that send in bulk from a linked device)`,
  PUPPETEER_EXECUTABLE_PATH: `WhatsApp Web: the system Chromium to run (default ${DEFAULT_CHROMIUM}); never downloaded`,
};

/** The channel's settings, undefined when it is off; problems go to `problems`. */
export function parseWhatsappWebConfig(
  get: (name: string) => string | undefined,
  problems: string[],
  o: { cwd: string; dataDir: string },
): WhatsappWebConfig | undefined {
  const enabled = parseBool("WHATSAPP_WEB_ENABLED", get("WHATSAPP_WEB_ENABLED"), false, problems);
  const polls = parseBool("WHATSAPP_WEB_POLLS", get("WHATSAPP_WEB_POLLS"), false, problems);
  if (!enabled) return undefined;
  const executablePath = get("PUPPETEER_EXECUTABLE_PATH") ?? DEFAULT_CHROMIUM;
  if (!path.isAbsolute(executablePath)) problems.push(`PUPPETEER_EXECUTABLE_PATH "${executablePath}" is not an absolute path: point it at the system Chromium, e.g. ${DEFAULT_CHROMIUM}`);
  const dir = get("WHATSAPP_WEB_AUTH_DIR");
  const authDir = dir !== undefined ? path.resolve(o.cwd, dir) : path.join(o.dataDir, "whatsapp-web");
  const kind = (get("WHATSAPP_WEB_AUTH") ?? "local").toLowerCase();
  let auth: WhatsappWebConfig["auth"] = { kind: "local" };
  if (kind === "redis") {
    const redisUrl = get("REDIS_URL");
    if (redisUrl === undefined) problems.push("WHATSAPP_WEB_AUTH=redis keeps the WhatsApp Web login in Redis, but REDIS_URL is not set: set it, or use WHATSAPP_WEB_AUTH=local");
    else auth = { kind: "redis", redisUrl, keyPrefix: `${get("BOTFLOW_STATE_PREFIX") ?? "botflow:"}whatsapp-web:` };
  } else if (kind !== "local") {
    problems.push(`WHATSAPP_WEB_AUTH "${kind}" is not a login store: use local or redis`);
  }
  const messagesPerSecond = parseMessagesPerSecond(get, "WHATSAPP_WEB_MESSAGES_PER_SECOND", WHATSAPP_WEB_MESSAGES_PER_SECOND, problems);
  return { authDir, executablePath, polls, auth, messagesPerSecond };
}

function parseBool(name: string, raw: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (raw === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  problems.push(`${name} "${raw}" is not a boolean: use 1 or 0`);
  return fallback;
}
