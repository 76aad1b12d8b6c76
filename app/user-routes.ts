/**
 * A person's erasure over HTTP (app/user-erasure.ts):
 *
 *   DELETE /api/users/{channel}/{id}   200 {erased: {surveys, triggers, conversations, channelEntries, queueJobs, queued}},
 *                                      400 an unknown channel or a malformed id, 401 without the token, 503 retry
 *
 * `id` is the conversation id on the channel (what a trigger's `to` names), URL-encoded (Teams
 * ids hold ':'). Always behind `Authorization: Bearer <BOTFLOW_TOKEN>`, as the trigger API: it is
 * called by a helpdesk or a privacy tool, never by a browser, and without a configured token it
 * answers 401. Idempotent: the same call again answers zeros.
 *
 * @example
 * curl -X DELETE -H "Authorization: Bearer $BOTFLOW_TOKEN" http://127.0.0.1:3000/api/users/telegram/42
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorSummary } from "../engine/errors.ts";
import type { Logger } from "../engine/ports.ts";
import type { Auth } from "./auth.ts";
import { parseUserRef, type UserErasure } from "./user-erasure.ts";

export interface UserRoutesOptions {
  erasure: UserErasure;
  /** Every channel botflow knows (channels/index.ts), enabled or not: a person may be erased from a channel turned off since. */
  channels: readonly string[];
  auth: Auth;
  logger: Logger;
}

export async function userRoutes(app: FastifyInstance, o: UserRoutesOptions): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (req, reply) => {
      if (!o.auth.enabled) {
        return reply.code(401).send({ error: "unauthorized", message: "erasure needs BOTFLOW_TOKEN: set it on the server and send it as Authorization: Bearer <token>" });
      }
      if (!o.auth.bearer(req)) return reply.code(401).send({ error: "unauthorized", message: "send the server's BOTFLOW_TOKEN as Authorization: Bearer <token>" });
      return undefined;
    });
    scope.addHook("onSend", async (_req, reply) => void reply.header("cache-control", "no-store"));
    scope.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return reply.code(status).send({ error: "bad_request", message: err.message });
      o.logger.error({ err: errorSummary(err) }, "user erasure failed");
      return reply.code(503).send({ error: "unavailable", message: "the erasure did not finish (see the server log and /readyz): call again, it is safe to repeat" });
    });

    scope.delete("/api/users/:channel/:id", async (req: FastifyRequest, reply: FastifyReply) => {
      const { channel, id } = req.params as { channel: string; id: string };
      const user = parseUserRef(channel, id, o.channels);
      if (typeof user === "string") return reply.code(400).send({ error: "bad_request", message: user });
      return { erased: await o.erasure.erase(user) };
    });
  });
}
