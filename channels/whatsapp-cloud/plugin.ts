/**
 * Mounts the WhatsApp Cloud API webhook on a fastify server:
 *
 *   GET  /whatsapp/webhook   Meta's subscription check: echoes hub.challenge when hub.verify_token matches
 *   POST /whatsapp/webhook   notifications, signed with the app secret (X-Hub-Signature-256)
 *
 * The POST route reads its body as raw bytes (its own content-type parser, in its own scope):
 * the signature covers the bytes exactly as sent, which re-serialised JSON would not match.
 * A notification is answered 200 only once its messages were processed and saved; otherwise
 * 5xx, and Meta delivers it again (the message id dedupes what was already done).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import { verifySignature } from "./webhook.ts";
import type { WhatsappCloudChannel } from "./whatsapp-cloud-channel.ts";

export const WEBHOOK_PATH = "/whatsapp/webhook";

export interface WhatsappCloudRoutesOptions {
  channel: WhatsappCloudChannel;
  handle: (event: InboundEvent) => Promise<{ status: "processed" | "duplicate" }>;
  logger?: Logger;
  /** Largest webhook body accepted (default 1 MiB). */
  bodyLimit?: number;
}

/** Registers the webhook routes. */
export async function whatsappCloudRoutes(app: FastifyInstance, o: WhatsappCloudRoutesOptions): Promise<void> {
  const log = o.logger ?? silentLogger;
  const channel = o.channel;
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: o.bodyLimit ?? 1024 * 1024 }, (_req, body, done) => done(null, body));

    scope.get(WEBHOOK_PATH, async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const challenge = q["hub.challenge"];
      if (q["hub.mode"] === "subscribe" && challenge !== undefined && sameSecret(q["hub.verify_token"] ?? "", channel.verifyToken)) {
        log.info({ channel: WHATSAPP_CLOUD }, "WhatsApp webhook subscription verified");
        return reply.type("text/plain; charset=utf-8").send(challenge);
      }
      log.warn({ channel: WHATSAPP_CLOUD, mode: q["hub.mode"] }, "WhatsApp webhook verification refused: hub.verify_token does not match WHATSAPP_CLOUD_VERIFY_TOKEN");
      return reply.code(403).send({ error: "forbidden", message: "hub.verify_token does not match" });
    });

    scope.post(WEBHOOK_PATH, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const signature = req.headers["x-hub-signature-256"];
      if (!verifySignature(raw, typeof signature === "string" ? signature : undefined, channel.appSecret)) {
        log.warn({ channel: WHATSAPP_CLOUD, signed: signature !== undefined }, "WhatsApp webhook refused: X-Hub-Signature-256 is missing or wrong (check WHATSAPP_CLOUD_APP_SECRET)");
        return reply.code(401).send({ error: "unauthorized", message: "X-Hub-Signature-256 does not match the body" });
      }
      if (channel.isClosing) return reply.code(503).send({ error: "unavailable", message: "shutting down; deliver again later" });
      let body: unknown;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return reply.code(400).send({ error: "bad_request", message: "the body is not JSON" });
      }
      const parsed = channel.parseInbound(body);
      if (!parsed.ok) {
        // Signed by Meta yet not a notification we know: a redelivery would be the same, so 200.
        log.warn({ channel: WHATSAPP_CLOUD, reason: parsed.reason }, "WhatsApp webhook body skipped");
        return reply.send({ ok: true, events: 0 });
      }
      try {
        await channel.track(
          (async () => {
            for (const event of parsed.events) await o.handle(event);
          })(),
        );
      } catch (err) {
        log.error({ channel: WHATSAPP_CLOUD, err: errorSummary(err) }, "WhatsApp message not processed; answering 500 so Meta delivers it again");
        return reply.code(500).send({ error: "not_processed", message: "try again" });
      }
      return reply.send({ ok: true, events: parsed.events.length });
    });
  });
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function errorSummary(err: unknown): { name: string; message: string } {
  return err instanceof Error ? { name: err.name, message: err.message } : { name: "Error", message: String(err) };
}
