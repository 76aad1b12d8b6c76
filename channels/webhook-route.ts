/**
 * The one webhook route of every webhook channel (Telegram, Teams, WhatsApp Cloud API), owning
 * the status contract with the messenger, so each channel is only its checks and its parser:
 *
 * | status | when | the messenger |
 * |---|---|---|
 * | 401 | the secret header is missing or wrong (checked before the body is read), or the body's signature / the SDK's token check fails | gives up |
 * | `dropStatus` (400, or 200 for messengers that redeliver anything but a 2xx) | the body is not JSON, not a payload of this messenger, or one its parser refuses (a retyped id, a malformed keyboard): a *drop*, logged once at warn and counted (`onDrop`) | gives up |
 * | 413 | the body is larger than `bodyLimit` (fastify) | gives up |
 * | 503 + Retry-After | the process is closing, the conversation is busy, its lock was lost, a store is away, the messenger's API is away (matched by error class and code, never by message), or the work did not finish within `deadlineMs` (it goes on) | delivers again later |
 * | 500 | anything else failed: nothing was saved | delivers again |
 * | 200 | every event of the payload was saved (or it had none) | done |
 *
 * Nothing is answered 5xx forever: a payload that failed for another reason than our own stores
 * (a bug, a permanent refusal) gets its 500 once and is dropped on its next delivery
 * (`failed_again`); one whose reply target (the messenger's API) stays away is answered 503 up to
 * {@link MAX_UNREACHABLE} times, then dropped (`reply_target_unreachable`). Our own stores being
 * away never drops anything. Payloads are told apart by a hash of their bytes, in a bounded memory.
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
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import { errorSummary, isOwnInfrastructureBusy, isRetryLater } from "../engine/errors.ts";
import { silentLogger, type Logger } from "../engine/ports.ts";
import type { InFlight } from "./in-flight.ts";

/**
 * What a handler may answer besides "saved" (200): a refusal an SDK made itself (Teams' token
 * check), or a payload acknowledged without processing (`dropped`: why, a short code).
 */
export type WebhookOutcome = { status: 200; body?: unknown; dropped?: string } | { status: 400 | 401; reason: string };

/** What the composition root sets for every webhook route: the deadline, and who counts the drops. */
export interface WebhookPolicy {
  /** Longest a call may take before it is answered 503 with Retry-After (the work goes on); default 5 s. */
  deadlineMs?: number;
  /** Hears every dropped payload (botflow_inbound_dropped_total{channel,reason}). */
  onDrop?: (channel: string, reason: string) => void;
}

/** 503s a payload may get while the messenger's API stays away, before it is dropped. */
export const MAX_UNREACHABLE = 5;
/** Payloads remembered for the "never 5xx forever" rule; the oldest is forgotten first. */
const REMEMBERED = 10_000;

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
  /** What a 401 from `authenticate` says is missing (default "the secret header is missing or wrong"). */
  credentials?: string;
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
  /**
   * What a dropped payload is answered: 400 (default), or 200 for a messenger that redelivers
   * anything but a 2xx (Telegram, Meta), which would otherwise keep sending what can never succeed.
   */
  dropStatus?: 200 | 400;
  policy?: WebhookPolicy;
}

/** Registers `POST spec.path` in a scope of its own (its raw-body parser touches no other route). */
export async function webhookRoute<P>(app: FastifyInstance, spec: WebhookSpec<P>): Promise<void> {
  const log = spec.logger ?? silentLogger;
  const retryAfter = String(spec.retryAfterSeconds ?? 5);
  const deadlineMs = spec.policy?.deadlineMs ?? 5_000;
  const dropStatus = spec.dropStatus ?? 400;
  const failures = new FailureMemory(REMEMBERED);
  const unavailable = (reply: FastifyReply, message: string) => reply.code(503).header("retry-after", retryAfter).send({ error: "unavailable", message });
  const unauthorized = (reply: FastifyReply, reason: string) => {
    log.warn({ channel: spec.channel, status: 401 }, `${spec.channel} webhook call refused: ${reason}`);
    return reply.code(401).send({ error: "unauthorized", message: reason });
  };
  /** Acknowledges without processing: one warn line (no payload), the metric, and the channel's drop status. */
  const drop = (reply: FastifyReply, reason: string, message: string) => {
    log.warn({ channel: spec.channel, reason, status: dropStatus }, `${spec.channel} webhook payload dropped: ${message}`);
    spec.policy?.onDrop?.(spec.channel, reason);
    return dropStatus === 200 ? reply.code(200).send({ ok: true, dropped: reason }) : reply.code(400).send({ error: "bad_request", reason, message });
  };
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: spec.bodyLimit ?? 1024 * 1024 }, (_req, body, done) => done(null, body));
    scope.route({
      method: "POST",
      url: spec.path,
      // Runs before the body is read: a caller without the secret, or a closing process, costs no upload.
      onRequest: async (req, reply) => {
        if (spec.authenticate && !spec.authenticate(req.headers)) return unauthorized(reply, spec.credentials ?? "the secret header is missing or wrong");
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
          return drop(reply, "unparsable", "the body is not JSON");
        }
        const parsed = spec.parse(body);
        if (!parsed.ok) return drop(reply, "malformed", parsed.reason);
        const work = spec.inflight.track(spec.handle(parsed.payload, { method: req.method, headers: req.headers, raw }));
        let outcome: WebhookOutcome | void;
        try {
          outcome = await withDeadline(work, deadlineMs);
        } catch (err) {
          if (err === DEADLINE) {
            // The work goes on (close() waits for it); a redelivery after it saved is a duplicate.
            work.catch((late: unknown) => log.error({ channel: spec.channel, err: errorSummary(late) }, `${spec.channel} webhook call failed after its deadline had been answered 503`));
            log.warn({ channel: spec.channel, deadlineMs }, `${spec.channel} webhook call not finished within the deadline; answered 503 so ${spec.redeliverer} delivers it again`);
            return unavailable(reply, "not finished in time; deliver again later");
          }
          return failed(err, fingerprintOf(raw), reply);
        }
        // Hashing costs a little: only when some payload failed lately.
        if (failures.size > 0) failures.forget(fingerprintOf(raw));
        if (outcome === undefined || outcome.status === 200) {
          if (outcome?.dropped !== undefined) return drop(reply, outcome.dropped, "the payload cannot be used");
          return reply.code(200).send(outcome?.body ?? { ok: true });
        }
        if (outcome.status === 401) return unauthorized(reply, outcome.reason);
        return drop(reply, "refused", outcome.reason);
      },
    });
  });

  /** The answer to a failed call, by the error's class and code and by what this payload met before. */
  function failed(err: unknown, fingerprint: string, reply: FastifyReply) {
    const ours = isOwnInfrastructureBusy(err);
    if (!ours) {
      const times = failures.add(fingerprint);
      const retryable = isRetryLater(err);
      if (retryable ? times > MAX_UNREACHABLE : times > 1) {
        log.error({ channel: spec.channel, err: errorSummary(err), times }, `${spec.channel} webhook payload failed again; dropped so ${spec.redeliverer} stops sending it`);
        return drop(reply, retryable ? "reply_target_unreachable" : "failed_again", "it failed on every delivery");
      }
      if (!retryable) {
        log.error({ channel: spec.channel, status: 500, err: errorSummary(err) }, `${spec.channel} webhook call not processed; answered 500 so ${spec.redeliverer} delivers it again`);
        return reply.code(500).send({ error: "not_processed", message: "the payload could not be processed now; deliver it again" });
      }
    }
    log.warn({ channel: spec.channel, status: 503, err: errorSummary(err) }, `${spec.channel} webhook call not processed now; answered 503 so ${spec.redeliverer} delivers it again`);
    return unavailable(reply, ours ? "a store is busy or away; deliver again later" : "the messenger's API is away; deliver again later");
  }
}

const DEADLINE = Symbol("deadline");

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function fingerprintOf(raw: Buffer): string {
  return createHash("sha256").update(raw).digest("base64url").slice(0, 22);
}

/** How often each payload (by fingerprint) failed lately; bounded, the oldest forgotten first. */
class FailureMemory {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max: number) {}

  get size(): number {
    return this.seen.size;
  }

  add(fingerprint: string): number {
    const times = (this.seen.get(fingerprint) ?? 0) + 1;
    this.seen.delete(fingerprint);
    this.seen.set(fingerprint, times);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string);
    return times;
  }

  forget(fingerprint: string): void {
    this.seen.delete(fingerprint);
  }
}
