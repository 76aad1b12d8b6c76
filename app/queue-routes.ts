/**
 * The queue view for ops, behind the token: job counts by state and the dead letter (ids,
 * attempts and reasons; never payloads, which may hold comment text), with a replay.
 *
 *   GET  /ops/queue               the page
 *   GET  /api/queue               { mode, counts, dead: [...] }
 *   POST /api/queue/replay-dead   queues every dead event again → { replayed }
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { Logger } from "../engine/ports.ts";
import { requireAuth, type Auth } from "./auth.ts";
import type { Services } from "./services.ts";

const HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
};

export async function queueRoutes(app: FastifyInstance, o: { services: Services; auth: Auth; mode: string; logger: Logger }): Promise<void> {
  const [page, js] = await Promise.all(["queue.html", "queue.js"].map((f) => readFile(new URL(`./dashboard/${f}`, import.meta.url), "utf8")));
  await app.register(async (scope) => {
    scope.addHook("preHandler", requireAuth(o.auth, "/dashboard/login"));
    scope.get("/ops/queue", async (_req, reply) => reply.headers(HEADERS).type("text/html; charset=utf-8").send(page));
    scope.get("/ops/queue.js", async (_req, reply) => reply.headers(HEADERS).type("text/javascript; charset=utf-8").send(js));
    scope.get("/api/queue", async (_req, reply) => {
      try {
        const [counts, dead] = await Promise.all([o.services.queueCounts(), o.services.deadLetters(100)]);
        return reply.header("cache-control", "no-store").send({ mode: o.mode, counts, dead });
      } catch (err) {
        o.logger.error({ err: err instanceof Error ? err.message : String(err) }, "queue view could not read the queue");
        return reply.code(503).send({ error: "unavailable", message: "the queue did not answer; see /readyz" });
      }
    });
    scope.post("/api/queue/replay-dead", async (req, reply) => {
      const replayed = await o.services.replayDead();
      req.log.info({ replayed }, "dead survey events replayed from the queue view");
      return reply.send({ replayed });
    });
  });
}
