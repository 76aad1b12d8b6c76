/**
 * Mounts the Telegram webhook on a fastify server: POST /telegram/webhook. The status code is
 * the delivery contract with Telegram: 200 once the update's events are saved (or it had none),
 * 401 for a missing or wrong secret, 400 for a body that is not an Update, and 5xx when the
 * state could not be saved, so Telegram redelivers and nothing is lost.
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ChannelError } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import { describeError } from "./errors.ts";
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
  const log = options.logger ?? silentLogger;
  const secret = options.secret === undefined ? undefined : Buffer.from(options.secret);
  app.post(TELEGRAM_WEBHOOK_PATH, { bodyLimit: 1024 * 1024 }, async (req, reply) => {
    if (secret && !sameSecret(req.headers[SECRET_HEADER], secret)) {
      log.warn({ channel: TELEGRAM, ip: req.ip }, "telegram webhook call without the right secret token was refused");
      return reply.code(401).send({ error: "missing or wrong X-Telegram-Bot-Api-Secret-Token" });
    }
    const update: unknown = req.body;
    if (!isUpdate(update)) return reply.code(400).send({ error: "the body is not a Telegram Update (no numeric update_id)" });
    try {
      await options.channel.handleUpdate(update);
      return reply.code(200).send({ ok: true });
    } catch (err) {
      const e = describeError(err);
      const busy = (err as { code?: unknown }).code === "CONVERSATION_BUSY" || (err instanceof ChannelError && err.status === 503);
      log.warn({ channel: TELEGRAM, update: update.update_id, err: e }, "telegram update not saved; answering non-2xx so Telegram redelivers it");
      return reply.code(busy ? 503 : 500).send({ error: "the update could not be processed now; it will be redelivered" });
    }
  });
}

function sameSecret(header: string | string[] | undefined, secret: Buffer): boolean {
  if (typeof header !== "string") return false;
  const given = Buffer.from(header);
  return given.length === secret.length && timingSafeEqual(given, secret);
}
