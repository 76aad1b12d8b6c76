/**
 * Telegram's entry in channels/index.ts: on with TELEGRAM_BOT_TOKEN; webhook routes unless polling.
 * grammY and the routes load in `create`, so reading the configuration (validate, the CLI) loads no SDK.
 */
import { defineChannel } from "../module.ts";
import { parseTelegramConfig, TELEGRAM_VARIABLES, type TelegramConfig } from "./telegram-config.ts";
import { TELEGRAM_LIMITS } from "./capabilities.ts";
import { TELEGRAM } from "./inbound.ts";
import type { TelegramOptions } from "./telegram-channel.ts";

export const telegramModule = defineChannel<TelegramConfig>({
  ...{ name: TELEGRAM, title: "Telegram", variables: TELEGRAM_VARIABLES, limits: TELEGRAM_LIMITS },
  parseConfig: (get, problems) => parseTelegramConfig(get, problems),
  async create(config, deps) {
    const seams = (deps.seams ?? {}) as Partial<Pick<TelegramOptions, "sleep" | "pollingAttempts">>;
    const [{ TelegramChannel }, { telegramRoutes }] = await Promise.all([import("./telegram-channel.ts"), import("./plugin.ts")]);
    const channel = new TelegramChannel({
      token: config.token,
      apiRoot: config.apiRoot,
      mode: config.mode,
      messagesPerSecond: config.messagesPerSecond,
      logger: deps.logger,
      storage: deps.storage,
      ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}),
      ...seams,
    });
    if (config.mode !== "webhook") return { channel };
    return { channel, routes: (app, context) => telegramRoutes(app, { channel, secret: config.webhookSecret, logger: context.logger, webhook: context.webhook }) };
  },
  // The open keyboards' message ids, `prompt:<conversation>:<prompt>` (prompt-messages.ts): a private chat's
  // id, or a group member's `<chat>:<user>` (group-chat.ts), whose prefix no other conversation's key shares.
  forget: (storage, conversationId) => storage.deleteMatching(`prompt:${conversationId}:`),
});
