/**
 * One delivery attempt of a webhook: POST the stored body, signed for this attempt's time, to one
 * endpoint. A 2xx is delivered. Anything else throws a ChannelError (channel "webhook") that the
 * outbox's policy reads (triggers/outbox.ts `afterFailure`): retryable for a timeout, a network
 * failure, 408, 425, 429 and 5xx, with the receiver's Retry-After (seconds or an HTTP date) honoured
 * on a 429 or 503 up to the backoff cap; any other 4xx is final (to the dead letter at once, for
 * `botflow webhooks replay` once the receiver is fixed). Errors name the endpoint by its origin and
 * never carry the body, the secret or the receiver's answer.
 *
 * @example
 * await deliverWebhook(job.payload, { secret, clock });
 */
import { ChannelError } from "../engine/errors.ts";
import { systemClock, type Clock } from "../engine/ports.ts";
import { signatureHeaders } from "./sign.ts";
import { endpointName } from "./webhook-settings.ts";
import type { WebhookEventType } from "./webhook-event.ts";

/** A delivery job's payload: one event for one endpoint. The body is fixed when queued, so every attempt sends the same bytes. */
export interface WebhookDelivery {
  url: string;
  eventId: string;
  type: WebhookEventType;
  /** The JSON of the WebhookEvent. Holds the comment: never log it. */
  body: string;
}

export interface DeliverOptions {
  /** Secret: never log it. */
  secret: string;
  clock?: Clock;
  /** Longest an attempt may take (default 10 s); a timeout is retried. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Statuses after which another attempt may succeed. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Resolves when the endpoint answered 2xx; throws a ChannelError otherwise. */
export async function deliverWebhook(d: WebhookDelivery, o: DeliverOptions): Promise<void> {
  const clock = o.clock ?? systemClock;
  const where = `POST ${endpointName(d.url)}`;
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(d.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "botflow-webhooks",
        "x-botflow-event": d.type,
        "x-botflow-event-id": d.eventId,
        ...signatureHeaders(o.secret, d.body, clock.now()),
      },
      body: d.body,
      redirect: "manual",
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    const why = name === "TimeoutError" ? `no answer within ${o.timeoutMs ?? 10_000} ms` : `could not connect (${causeCode(err)})`;
    throw new ChannelError("webhook", where, why, { retryable: true });
  }
  // The answer's body is the receiver's business (and may echo ours): read it only to free the socket.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return;
  const retryable = RETRYABLE.has(res.status) || res.status >= 500;
  const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get("retry-after"), clock.now()) : undefined;
  const hint = retryable ? "" : res.status >= 300 && res.status < 400 ? " (a redirect: give the final URL)" : " (not retried: fix the receiver, then botflow webhooks replay)";
  throw new ChannelError("webhook", where, `answered ${res.status}${hint}`, { status: res.status, retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

/** Retry-After as ms from `nowMs`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(raw: string | null, nowMs: number): number | undefined {
  if (raw === null || raw.trim() === "") return undefined;
  const v = raw.trim();
  if (/^[0-9]+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** A network error's code (ECONNREFUSED, …), never its message (it may quote the URL). */
function causeCode(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? cause.code : err instanceof Error ? err.name : "error";
}
