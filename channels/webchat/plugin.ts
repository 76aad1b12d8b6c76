/**
 * Mounts the web chat on a fastify server: the page at GET /chat (plain HTML, CSS and JS,
 * no build step) and the WebSocket protocol at /chat/ws. Needs @fastify/websocket registered.
 */
import { readFile } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { errorSummary } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import { WebchatConnection, type EventHandler } from "./connection.ts";
import type { ServerFrame } from "./protocol.ts";
import type { FrameSink, WebchatChannel } from "./webchat-channel.ts";

export interface WebchatRoutesOptions {
  channel: WebchatChannel;
  /** Where the frames' events go; default the handler given to the channel's `start`. */
  handle?: EventHandler;
  logger?: Logger;
  /** How often sockets are pinged; one that has not answered the previous ping is dropped. */
  heartbeatMs?: number;
}

const ASSETS = {
  "/chat": { file: "index.html", type: "text/html; charset=utf-8" },
  "/chat/chat.js": { file: "chat.js", type: "text/javascript; charset=utf-8" },
  "/chat/chat.css": { file: "chat.css", type: "text/css; charset=utf-8" },
} as const;

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** Registers the web chat's page and socket routes. */
export async function webchatRoutes(app: FastifyInstance, options: WebchatRoutesOptions): Promise<void> {
  const log = options.logger ?? silentLogger;
  const handle: EventHandler = options.handle ?? ((event) => options.channel.handle(event));
  for (const [url, asset] of Object.entries(ASSETS)) {
    const body = await readFile(new URL(`./public/${asset.file}`, import.meta.url));
    app.get(url, async (_req, reply) => reply.headers(SECURITY_HEADERS).type(asset.type).send(body));
  }
  // A phone that loses its network never sends a close: without pings its socket (and its place
  // in the conversation's delivery list) would stay forever.
  const alive = new WeakSet<object>();
  const sockets = new Set<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const s of sockets) {
      if (!alive.has(s)) {
        s.terminate();
        continue;
      }
      alive.delete(s);
      s.ping();
    }
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();
  app.addHook("onClose", async () => clearInterval(heartbeat));

  app.get("/chat/ws", { websocket: true }, (socket) => {
    sockets.add(socket);
    alive.add(socket);
    socket.on("pong", () => alive.add(socket));
    const sink: FrameSink = {
      send(frame: ServerFrame) {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(frame));
      },
      close(code, reason) {
        socket.close(code, reason);
      },
    };
    const connection = new WebchatConnection(options.channel, handle, sink, log);
    socket.on("message", (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      connection.receive(isBinary ? bytes : bytes.toString("utf8"), isBinary);
    });
    socket.on("close", () => {
      sockets.delete(socket);
      connection.closed();
    });
    socket.on("error", (err) => log.warn({ channel: "webchat", err: errorSummary(err) }, "web chat socket error"));
  });
}
