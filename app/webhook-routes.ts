/**
 * The embedded default's webhook dead letter, for `botflow webhooks` (in production the command
 * reads the BullMQ outbox in Redis itself). Behind the token like the queue view; never payloads
 * (they hold comments), only ids, attempts and reasons.
 *
 *   GET  /api/webhooks/dead     { dead: [{ id, eventId, attempts, reason, deadAt }] }
 *   POST /api/webhooks/replay   { id } (an event id or a delivery id) or { all: true } → { replayed: [ids] }
 */
import type { FastifyInstance } from "fastify";
import { listDeadWebhooks, replayDeadWebhooks } from "../webhooks/replay.ts";
import type { WebhookDispatcher } from "../webhooks/webhook-dispatcher.ts";
import { requireAuth, type Auth } from "./auth.ts";

export async function webhookRoutes(app: FastifyInstance, o: { webhooks: WebhookDispatcher; auth: Auth }): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("preHandler", requireAuth(o.auth, "/dashboard/login"));
    scope.addHook("onSend", async (_req, reply) => void reply.header("cache-control", "no-store"));
    scope.get("/api/webhooks/dead", async () => ({
      dead: (await listDeadWebhooks(o.webhooks.outbox)).map((d) => ({ id: d.id, eventId: d.eventId, attempts: d.attempts, reason: d.reason, deadAt: d.deadAt })),
    }));
    scope.post("/api/webhooks/replay", async (req, reply) => {
      const body = (req.body ?? {}) as { id?: unknown; all?: unknown };
      if (body.all === true) return { replayed: await replayDeadWebhooks(o.webhooks.outbox, "all") };
      if (typeof body.id === "string" && body.id.length > 0 && body.id.length <= 300) return { replayed: await replayDeadWebhooks(o.webhooks.outbox, { eventId: body.id }) };
      return reply.code(400).send({ error: "bad_request", message: 'send {"id": "<event id>"} or {"all": true}' });
    });
  });
}
