/**
 * Mounts the Telegram webhook on a fastify server: POST /telegram/webhook, through the channels'
 * one webhook route (channels/webhook-route.ts owns the status contract): 401 for a missing or
 * wrong secret, checked from the header before the body is read; 400 for a body that is not an
 * Update; 503 while closing or when the conversation is busy; 500 when the state could not be
 * saved, so Telegram redelivers and nothing is lost; 200 once the update's events are saved.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../engine/ports.ts";
import { sameSecret } from "../secret.ts";
import { webhookRoute } from "../webhook-route.ts";
import { isUpdate, TELEGRAM } from "./inbound.ts";
import type { TelegramChannel } from "./telegram-channel.ts";

export const TELEGRAM_WEBHOOK_PATH = "/telegram/webhook";
export const SECRET_HEADER = "x-telegram-bot-api-secret-token";

export interface TelegramRoutesOptions {
  channel: TelegramChannel;
  /** Telegram's `secret_token` of setWebhook; undefined accepts any caller (local use only). */
  secret: string | undefined;
  logger?: Logger;
}

/** Registers POST /telegram/webhook. */
export async function telegramRoutes(app: FastifyInstance, options: TelegramRoutesOptions): Promise<void> {
  const secret = options.secret;
  await webhookRoute(app, {
    channel: TELEGRAM,
    path: TELEGRAM_WEBHOOK_PATH,
    redeliverer: "Telegram",
    ...(secret !== undefined ? { authenticate: (headers) => sameSecret(headers[SECRET_HEADER], secret) } : {}),
    parse: (body) => (isUpdate(body) ? { ok: true, payload: body } : { ok: false, reason: "the body is not a Telegram Update (no numeric update_id)" }),
    handle: (update) => options.channel.handleUpdate(update),
    closing: () => options.channel.isClosing,
    inflight: options.channel.inflight,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
