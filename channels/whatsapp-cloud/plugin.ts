/**
 * Mounts the WhatsApp Cloud API webhook on a fastify server:
 *
 *   GET  /whatsapp/webhook   Meta's subscription check: echoes hub.challenge when hub.verify_token matches
 *   POST /whatsapp/webhook   notifications, signed with the app secret (X-Hub-Signature-256)
 *
 * The POST route is the channels' one webhook route (channels/webhook-route.ts): it reads the body
 * as raw bytes, since the signature covers the bytes exactly as sent, which re-serialised JSON
 * would not match. A notification is answered 200 only once its messages were processed and
 * saved; otherwise 5xx, and Meta delivers it again (the message id dedupes what was done).
 */
import type { FastifyInstance } from "fastify";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import { sameSecret } from "../secret.ts";
import { webhookRoute, type WebhookPolicy } from "../webhook-route.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import { verifySignature } from "./webhook.ts";
import type { WhatsappCloudChannel } from "./whatsapp-cloud-channel.ts";

export const WEBHOOK_PATH = "/whatsapp/webhook";

export interface WhatsappCloudRoutesOptions {
  channel: WhatsappCloudChannel;
  logger?: Logger;
  /** Largest webhook body accepted (default 3 MiB: Meta batches up to 1,000 changes in one call). */
  bodyLimit?: number;
  webhook?: WebhookPolicy;
}

/** Registers the webhook routes. */
export async function whatsappCloudRoutes(app: FastifyInstance, o: WhatsappCloudRoutesOptions): Promise<void> {
  const log = o.logger ?? silentLogger;
  const channel = o.channel;
  await app.register(async (scope) => {
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
  });
  await webhookRoute(app, {
    channel: WHATSAPP_CLOUD,
    path: WEBHOOK_PATH,
    redeliverer: "Meta",
    // A call without a well-formed signature header is refused before its body is read.
    authenticate: (headers) => typeof headers["x-hub-signature-256"] === "string" && /^sha256=[0-9a-f]{64}$/i.test(headers["x-hub-signature-256"]),
    credentials: "the X-Hub-Signature-256 header is missing or malformed",
    verify: (raw, headers) => {
      const signature = headers["x-hub-signature-256"];
      return verifySignature(raw, typeof signature === "string" ? signature : undefined, channel.appSecret);
    },
    // Signed by Meta yet not a notification we know: a redelivery would be the same, so it is
    // dropped (200, counted): Meta retries anything but a 200 for days.
    parse: (body) => {
      const parsed = channel.parseInbound(body);
      return parsed.ok ? { ok: true, payload: parsed } : { ok: false, reason: parsed.reason };
    },
    dropStatus: 200,
    handle: async (parsed) => {
      await channel.process(parsed);
      return { status: 200, body: { ok: true, events: parsed.events.length } };
    },
    closing: () => channel.isClosing,
    inflight: channel.inflight,
    logger: log,
    bodyLimit: o.bodyLimit ?? 3 * 1024 * 1024,
    ...(o.webhook ? { policy: o.webhook } : {}),
  });
}
