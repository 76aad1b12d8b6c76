/**
 * The one webhook route of every webhook channel (Telegram, Teams, WhatsApp Cloud API), owning
 * the status contract with the messenger, so each channel is only its checks and its parser:
 *
 * | status | when | the messenger |
 * |---|---|---|
 * | 401 | the secret header is missing or wrong (checked before the body is read), or the body's signature / the SDK's token check fails | gives up |
 * | 400 | the body is not JSON, or not a payload of this messenger | gives up |
 * | 413 | the body is larger than `bodyLimit` (fastify) | gives up |
 * | 503 + Retry-After | the process is closing, the conversation is busy, its lock was lost or a store is away (matched by error code, never by message) | delivers again later |
 * | 500 | anything else failed: nothing was saved | delivers again |
 * | 200 | every event of the payload was saved (or it had none) | done |
 *
 * The body is read as raw bytes (a signature covers the bytes exactly as sent) and parsed here,
 * so an unparsable body gets the same 400 on every channel. Accepted work is counted in the
 * channel's {@link InFlight} until it settles, so `close()` can refuse new calls and drain.
 *
 * @example
 * await webhookRoute(app, { channel: "telegram", path: "/telegram/webhook", authenticate: (h) => sameSecret(h[SECRET], secret),
 *   parse: (body) => (isUpdate(body) ? { ok: true, payload: body } : { ok: false, reason: "not an Update" }),
 *   handle: (update) => channel.handleUpdate(update), closing: () => channel.isClosing, inflight, logger, redeliverer: "Telegram" });
 */
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import { errorSummary, isRetryLater } from "../engine/errors.ts";
import { silentLogger, type Logger } from "../engine/ports.ts";
import type { InFlight } from "./in-flight.ts";

/** What a handler may answer besides "saved" (200): a refusal an SDK made itself (Teams' token check). */
export type WebhookOutcome = { status: 200; body?: unknown } | { status: 400 | 401; reason: string };

/** A payload the channel can process, or why the body is not one (400; `reason` never echoes the body). */
export type WebhookParse<P> = { ok: true; payload: P } | { ok: false; reason: string };

export interface WebhookRequest {
  method: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

export interface WebhookSpec<P> {
  /** The channel's name, for logs. */
  channel: string;
  path: string;
  /** Who delivers again after a non-2xx, for the log line ("Telegram", "Meta", "the Bot Framework"). */
  redeliverer: string;
  /** Checked from the headers alone, before the body is read; false answers 401. */
  authenticate?: (headers: IncomingHttpHeaders) => boolean;
  /** Checked on the raw bytes before they are parsed (a body signature); false answers 401. */
  verify?: (raw: Buffer, headers: IncomingHttpHeaders) => boolean;
  /** Turns the parsed JSON into the channel's payload. */
  parse: (body: unknown) => WebhookParse<P>;
  /** Processes the payload; resolves once its events are saved, rejects when they were not. */
  handle: (payload: P, request: WebhookRequest) => Promise<WebhookOutcome | void>;
  /** True once the channel's close() began: new calls get 503. */
  closing: () => boolean;
  inflight: InFlight;
  logger?: Logger;
  /** Largest body accepted (default 1 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** Retry-After of a 503, in seconds (default 5). */
  retryAfterSeconds?: number;
}

/** Registers `POST spec.path` in a scope of its own (its raw-body parser touches no other route). */
export async function webhookRoute<P>(app: FastifyInstance, spec: WebhookSpec<P>): Promise<void> {
  const log = spec.logger ?? silentLogger;
  const retryAfter = String(spec.retryAfterSeconds ?? 5);
  const unavailable = (reply: FastifyReply, message: string) => reply.code(503).header("retry-after", retryAfter).send({ error: "unavailable", message });
  const unauthorized = (reply: FastifyReply, reason: string) => {
    log.warn({ channel: spec.channel, status: 401 }, `${spec.channel} webhook call refused: ${reason}`);
    return reply.code(401).send({ error: "unauthorized", message: reason });
  };
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: spec.bodyLimit ?? 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.route({
      method: "POST",
      url: spec.path,
      // Runs before the body is read: a caller without the secret, or a closing process, costs no upload.
      onRequest: async (req, reply) => {
        if (spec.authenticate && !spec.authenticate(req.headers)) return unauthorized(reply, "the secret header is missing or wrong");
        if (spec.closing()) return unavailable(reply, "shutting down; deliver again later");
        return undefined;
      },
      handler: async (req, reply) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (spec.verify && !spec.verify(raw, req.headers)) return unauthorized(reply, "the body's signature does not match");
        if (spec.closing()) return unavailable(reply, "shutting down; deliver again later");
        let body: unknown;
        try {
          body = JSON.parse(raw.toString("utf8"));
        } catch {
          return reply.code(400).send({ error: "bad_request", message: "the body is not JSON" });
        }
        const parsed = spec.parse(body);
        if (!parsed.ok) {
          log.warn({ channel: spec.channel, reason: parsed.reason }, `${spec.channel} webhook body refused`);
          return reply.code(400).send({ error: "bad_request", message: parsed.reason });
        }
        let outcome: WebhookOutcome | void;
        try {
          outcome = await spec.inflight.track(spec.handle(parsed.payload, { method: req.method, headers: req.headers, raw }));
        } catch (err) {
          const status = isRetryLater(err) ? 503 : 500;
          log.error({ channel: spec.channel, status, err: errorSummary(err) }, `${spec.channel} webhook call not processed; answered ${status} so ${spec.redeliverer} delivers it again`);
          if (status === 503) return unavailable(reply, "the conversation is busy; deliver again later");
          return reply.code(500).send({ error: "not_processed", message: "the payload could not be processed now; deliver it again" });
        }
        if (outcome === undefined || outcome.status === 200) return reply.code(200).send(outcome?.body ?? { ok: true });
        if (outcome.status === 401) return unauthorized(reply, outcome.reason);
        log.warn({ channel: spec.channel, reason: outcome.reason }, `${spec.channel} webhook body refused`);
        return reply.code(400).send({ error: "bad_request", message: outcome.reason });
      },
    });
  });
}
