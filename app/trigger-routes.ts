/**
 * The trigger API: a helpdesk, a CRM or another bot asks botflow to survey someone.
 *
 *   POST /api/dialogues        {channel, to, scenario, variables?, locale?, key?, delay? | at?, policy?, options?}
 *                              202 started / scheduled, 200 duplicate (same key) / skipped (a rule),
 *                              400 a bad field, 404 unknown recipient, 422 a channel or scenario that cannot, 503 retry
 *   GET  /api/dialogues/{id}   the trigger's state: scheduled, sent, answered, completed, declined, expired, failed, skipped
 *
 * Always behind `Authorization: Bearer <BOTFLOW_TOKEN>`: without a configured token the API
 * answers 401 (the dashboard's session cookie does not count: these calls come from servers).
 *
 * @example
 * curl -X POST -H "Authorization: Bearer $BOTFLOW_TOKEN" -H 'content-type: application/json' \
 *   -d '{"channel":"telegram","to":"42","scenario":"csat","variables":{"agent":"olena"},"key":"T-1234"}' \
 *   http://127.0.0.1:3000/api/dialogues
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorSummary } from "../engine/errors.ts";
import type { Clock, Logger } from "../engine/ports.ts";
import { parseTriggerRequest } from "../triggers/trigger-request.ts";
import type { TriggerService } from "../triggers/trigger-service.ts";
import type { Auth } from "./auth.ts";

export interface TriggerRoutesOptions {
  triggers: TriggerService;
  auth: Auth;
  clock: Clock;
  logger: Logger;
}

/** A trigger body is small: variables (≤ 50 × 1,000 characters) and channel options (≤ 8 KB). */
const BODY_LIMIT = 128 * 1024;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function triggerRoutes(app: FastifyInstance, o: TriggerRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (req, reply) => {
      if (!o.auth.enabled) {
        return reply.code(401).send({ error: "unauthorized", message: "the trigger API needs BOTFLOW_TOKEN: set it on the server and send it as Authorization: Bearer <token>" });
      }
      if (!o.auth.bearer(req)) return reply.code(401).send({ error: "unauthorized", message: "send the server's BOTFLOW_TOKEN as Authorization: Bearer <token>" });
      return undefined;
    });
    scope.addHook("onSend", async (_req, reply) => void reply.header("cache-control", "no-store"));
    scope.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
      // Fastify's own refusals (bad JSON, too large, not JSON): the caller's input, said plainly.
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return reply.code(status).send({ error: "bad_request", field: "body", message: err.message });
      o.logger.error({ err: errorSummary(err) }, "trigger API request failed");
      return reply.code(503).send({ error: "unavailable", message: "the trigger could not be recorded (see the server log and /readyz): retry the call with the same key" });
    });

    scope.post("/api/dialogues", { bodyLimit: BODY_LIMIT }, async (req: FastifyRequest, reply: FastifyReply) => {
      const parsed = parseTriggerRequest(req.body, o.clock.now());
      if (!parsed.ok) return reply.code(400).send({ error: "bad_request", field: parsed.field, message: parsed.message });
      const answer = await o.triggers.accept(parsed.request);
      return reply.code(answer.status).send(answer.body);
    });

    scope.get("/api/dialogues/:id", async (req: FastifyRequest, reply: FastifyReply) => {
      const { id } = req.params as { id: string };
      const found = ID.test(id) ? await o.triggers.get(id) : undefined;
      if (!found) return reply.code(404).send({ error: "not_found", message: `no triggered dialogue ${JSON.stringify(id.slice(0, 64))}` });
      return found;
    });
  });
}
