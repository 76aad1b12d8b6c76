/**
 * Mounts the Telegram webhook on a fastify server: POST /telegram/webhook, through the channels'
 * one webhook route (channels/webhook-route.ts owns the status contract): 401 for a missing or
 * wrong secret, checked from the header before the body is read; 200 `{dropped}` (counted) for a
 * body that is not an Update botflow can use, since Telegram redelivers anything else; 503 while
 * closing, when the conversation is busy or a store is away, so Telegram redelivers and nothing is
 * lost; 200 once the update's events are saved.
 */
import type { FastifyInstance } from "fastify";
import type { Update } from "grammy/types";
import type { Logger } from "../../engine/ports.ts";
import { sameSecret } from "../secret.ts";
import { webhookRoute, type WebhookPolicy } from "../webhook-route.ts";
import { TELEGRAM, updateProblem } from "./inbound.ts";
import type { TelegramChannel } from "./telegram-channel.ts";

export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

export interface TelegramRoutesOptions {
  channel: TelegramChannel;
  /** Telegram's `secret_token` of setWebhook; undefined accepts any caller (local use only). */
  secret: string | undefined;
  logger?: Logger;
  webhook?: WebhookPolicy;
}

/** Registers POST /telegram/webhook. */
export async function telegramRoutes(app: FastifyInstance, options: TelegramRoutesOptions): Promise<void> {
  const secret = options.secret;
  await webhookRoute(app, {
    channel: TELEGRAM,
    path: TELEGRAM_WEBHOOK_PATH,
    redeliverer: "Telegram",
    ...(secret !== undefined ? { authenticate: (headers) => sameSecret(headers[SECRET_HEADER], secret) } : {}),
    parse: (body) => {
      const problem = updateProblem(body);
      return problem === undefined ? { ok: true, payload: body as Update } : { ok: false, reason: problem };
    },
    // Telegram redelivers anything but a 2xx, and holds the bot's next updates behind it meanwhile.
    dropStatus: 200,
    bodyLimit: 1024 * 1024,
    ...(options.webhook ? { policy: options.webhook } : {}),
    handle: (update) => options.channel.handleUpdate(update),
    closing: () => options.channel.isClosing,
    inflight: options.channel.inflight,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
