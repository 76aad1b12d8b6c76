/**
 * The HTTP server: ops endpoints (/healthz, /readyz) and whatever the composition root
 * mounts (channels, later the dashboard). fastify with @fastify/websocket.
 */
import websocket from "@fastify/websocket";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { AppLogger } from "./logger.ts";
import type { ReadinessReport } from "./readiness.ts";

export interface ServerOptions {
  logger: AppLogger;
  readiness: () => Promise<ReadinessReport>;
  /** Registered after the ops routes, in order. */
  mounts: ((app: FastifyInstance) => Promise<void>)[];
  /** Where GET / sends a visitor. */
  home: string;
  /** Hears of every response (metrics); `route` is the route pattern, never the raw URL. */
  onResponse?: (r: { method: string; route: string; status: number; seconds: number }) => void;
  /** Largest WebSocket message accepted before the socket is closed (1009). */
  maxWebSocketBytes?: number;
}

/** Probed every few seconds: their request lines only at trace. */
const QUIET = new Set(["/healthz", "/readyz"]);

/** Builds the fastify instance (not listening yet). */
export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: o.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), return503OnClosing: true });
  app.addHook("onResponse", async (req, reply) => {
    const path = req.url.split("?")[0] ?? "";
    const entry = { method: req.method, path: loggedPath(path), status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    o.onResponse?.({ method: req.method, route: req.routeOptions.url ?? "unmatched", status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    // One line per request is what a busy server cannot afford at info: debug, as the health probes'.
    // Failures are logged where they happen (fastify's error handler, the routes), at warn or error.
    if (QUIET.has(path)) req.log.trace(entry, "request");
    else req.log.debug(entry, "request");
  });
  await app.register(websocket, { options: { maxPayload: o.maxWebSocketBytes ?? 384 * 1024 } });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const report = await o.readiness();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get("/", async (_req, reply) => reply.redirect(o.home));
  for (const mount of o.mounts) await mount(app);
  return app;
}

/** The path as logged: a person's erasure (app/user-routes.ts) names the person in it, so only the channel is kept. */
function loggedPath(path: string): string {
  return path.startsWith("/api/users/") ? path.replace(/^(\/api\/users\/[^/]*\/).*$/, "$1[redacted]") : path;
}
