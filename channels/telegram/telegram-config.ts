/**
 * The Telegram channel's configuration, read by app/config.ts (the only module that sees the
 * environment) through `get`. The channel is enabled when TELEGRAM_BOT_TOKEN is set. Webhook
 * mode (the default) refuses to start without TELEGRAM_WEBHOOK_SECRET unless
 * TELEGRAM_WEBHOOK_INSECURE says this is local use.
 */
import { isHttpUrl } from "../http-url.ts";
import { parseMessagesPerSecond } from "../rate-limit/rate-config.ts";

/** Telegram's broadcast limit per bot: about 30 messages a second. */
export const TELEGRAM_MESSAGES_PER_SECOND = 30;

export interface TelegramConfig {
  /** Secret: never logged nor echoed in errors. */
  token: string;
  apiRoot: string;
  mode: "webhook" | "polling";
  /** Secret: Telegram sends it back in X-Telegram-Bot-Api-Secret-Token. */
  webhookSecret?: string;
  /** The bot's pace for triggered surveys (each chat is held to Telegram's 1 a second besides). */
  messagesPerSecond: number;
}

export const DEFAULT_TELEGRAM_API_ROOT = "https://api.telegram.org";

/** The variables, with what each means (merged into CONFIG_VARIABLES). */
export const TELEGRAM_VARIABLES: Readonly<Record<string, string>> = {
  TELEGRAM_BOT_TOKEN: "Telegram: the bot token from @BotFather; setting it enables the channel",
  TELEGRAM_API_ROOT: `Telegram: Bot API root (default ${DEFAULT_TELEGRAM_API_ROOT}; a local Bot API server works too)`,
  TELEGRAM_MODE: "Telegram: `webhook` (POST /telegram/webhook, the default) or `polling` (long polling, no public URL needed)",
  TELEGRAM_WEBHOOK_SECRET: "Telegram: the secret_token given to setWebhook; webhook calls without it get 401 (1–256 of A-Z a-z 0-9 _ -)",
  TELEGRAM_WEBHOOK_INSECURE: "Telegram: `true` lets webhook mode start without TELEGRAM_WEBHOOK_SECRET (local use only)",
  TELEGRAM_MESSAGES_PER_SECOND: `Telegram: the bot's pace, messages a second, that triggered surveys wait for and replies count against, shared by every process (default ${TELEGRAM_MESSAGES_PER_SECOND}, Telegram's limit; 1 a second in one chat always)`,
};

/** The channel's settings, undefined when it is not enabled; problems go to `problems` (never quoting a secret). */
export function parseTelegramConfig(get: (name: string) => string | undefined, problems: string[]): TelegramConfig | undefined {
  const token = get("TELEGRAM_BOT_TOKEN");
  const others = ["TELEGRAM_MODE", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_ROOT"].filter((n) => get(n) !== undefined);
  if (token === undefined) {
    if (others.length > 0) problems.push(`${others.join(", ")} ${others.length === 1 ? "is" : "are"} set but TELEGRAM_BOT_TOKEN is not: set the token from @BotFather to enable the Telegram channel, or unset ${others.length === 1 ? "it" : "them"}`);
    return undefined;
  }
  const before = problems.length;
  if (!/^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$/.test(token)) {
    problems.push("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then 20 or more of A-Z a-z 0-9 _ -): copy it again from @BotFather");
  }
  const apiRoot = (get("TELEGRAM_API_ROOT") ?? DEFAULT_TELEGRAM_API_ROOT).replace(/\/+$/, "");
  if (!isHttpUrl(apiRoot)) {
    problems.push(`TELEGRAM_API_ROOT is not an http(s) URL: use ${DEFAULT_TELEGRAM_API_ROOT} or your local Bot API server's address`);
  }
  const mode = (get("TELEGRAM_MODE") ?? "webhook").toLowerCase();
  if (mode !== "webhook" && mode !== "polling") problems.push(`TELEGRAM_MODE "${mode.slice(0, 40)}" is not a mode: use webhook or polling`);
  const webhookSecret = get("TELEGRAM_WEBHOOK_SECRET");
  if (webhookSecret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(webhookSecret)) {
    problems.push("TELEGRAM_WEBHOOK_SECRET is not a valid secret token: Telegram allows 1–256 characters of A-Z a-z 0-9 _ and -");
  }
  const insecureRaw = get("TELEGRAM_WEBHOOK_INSECURE");
  let insecure = false;
  if (insecureRaw !== undefined) {
    if (/^(1|true|yes|on)$/i.test(insecureRaw)) insecure = true;
    else if (!/^(0|false|no|off)$/i.test(insecureRaw)) problems.push(`TELEGRAM_WEBHOOK_INSECURE "${insecureRaw.slice(0, 40)}" is not a boolean: use true or false`);
  }
  if (mode === "webhook" && webhookSecret === undefined && !insecure) {
    problems.push(
      "TELEGRAM_MODE is webhook but TELEGRAM_WEBHOOK_SECRET is not set: anyone who finds /telegram/webhook could answer surveys. " +
        "Set a random secret (e.g. `openssl rand -hex 32`) and pass the same as secret_token to setWebhook, use TELEGRAM_MODE=polling, " +
        "or set TELEGRAM_WEBHOOK_INSECURE=true for local use",
    );
  }
  const messagesPerSecond = parseMessagesPerSecond(get, "TELEGRAM_MESSAGES_PER_SECOND", TELEGRAM_MESSAGES_PER_SECOND, problems);
  if (problems.length > before) return undefined;
  return { token, apiRoot, mode: mode as "webhook" | "polling", messagesPerSecond, ...(webhookSecret !== undefined ? { webhookSecret } : {}) };
}
