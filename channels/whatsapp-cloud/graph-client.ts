/**
 * The outgoing half of the WhatsApp Cloud API: POST {apiRoot}/{phone-number-id}/messages with
 * the access token as a Bearer header, over plain fetch (no SDK). Rate limits (429) and server
 * errors (5xx, network failures) are retried through the channels' retry policy (full-jitter
 * exponential backoff, Retry-After honoured; channels/retry.ts), and so are WhatsApp's own
 * throughput codes whatever their HTTP status; anything else is a ChannelError that says what the
 * Graph API answered (never the token), with `recipient` set when the user cannot be reached
 * (131047 window closed, 131026 not a WhatsApp user, 131030 not in the allowed list: graph-errors.ts).
 *
 * @example
 * const graph = new GraphClient({ apiRoot: "https://graph.facebook.com/v21.0", phoneNumberId, accessToken });
 * await graph.send({ messaging_product: "whatsapp", to: "15551234567", type: "text", text: { body: "Hi" } });
 */
import { ChannelError } from "../../engine/errors.ts";
import { defaultSleep, retry } from "../retry.ts";
import { describeGraphError, meaningOf, readGraphError } from "./graph-errors.ts";

export const WHATSAPP_CLOUD = "whatsapp-cloud";

/** One Graph API `messages` request body (text or interactive); see render.ts. */
export type GraphMessage = Record<string, unknown> & { messaging_product: "whatsapp"; to: string; type: string };

export interface GraphClientOptions {
  /** Graph API base URL with its version, e.g. https://graph.facebook.com/v21.0 */
  apiRoot: string;
  phoneNumberId: string;
  /** Secret: sent only in the Authorization header. */
  accessToken: string;
  /** Attempts per message, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff pause; doubles per retry (default 500 ms). */
  baseDelayMs?: number;
  /** Longest pause, also the cap on a Retry-After header (default 8 s). */
  maxDelayMs?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Injected so tests check the backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** The jitter's draw in [0, 1] (default Math.random); `() => 1` makes each pause its ceiling. */
  random?: () => number;
  fetch?: typeof fetch;
}

export class GraphClient {
  private readonly url: string;
  private readonly o: Required<Omit<GraphClientOptions, "apiRoot" | "phoneNumberId">>;

  constructor(options: GraphClientOptions) {
    this.url = `${options.apiRoot.replace(/\/+$/, "")}/${encodeURIComponent(options.phoneNumberId)}/messages`;
    this.o = {
      accessToken: options.accessToken,
      maxAttempts: options.maxAttempts ?? 4,
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 8_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      sleep: options.sleep ?? defaultSleep,
      random: options.random ?? Math.random,
      fetch: options.fetch ?? fetch,
    };
  }

  /** Sends one message; resolves with the message id WhatsApp gave it. */
  async send(message: GraphMessage): Promise<string | undefined> {
    const body = JSON.stringify(message);
    return retry(() => this.post(body), {
      attempts: this.o.maxAttempts,
      baseMs: this.o.baseDelayMs,
      capMs: this.o.maxDelayMs,
      retryable: (err) => err instanceof ChannelError && err.retryable,
      retryAfterMs: (err) => (err instanceof ChannelError ? err.retryAfterMs : undefined),
      sleep: this.o.sleep,
      random: this.o.random,
    });
  }

  private async post(body: string): Promise<string | undefined> {
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(this.url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.o.accessToken}`, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new ChannelError(WHATSAPP_CLOUD, "send", `could not reach the Graph API (${what}); check WHATSAPP_CLOUD_API_ROOT and the network`, { retryable: true, cause: err });
    }
    if (res.ok) return messageIdOf(text);
    const error = readGraphError(text);
    const meaning = meaningOf(res.status, error?.code);
    const wait = retryAfter(res.headers.get("retry-after")) ?? meaning.retryAfterMs;
    throw new ChannelError(WHATSAPP_CLOUD, "send", `the Graph API answered ${res.status}: ${describeGraphError(error)}${meaning.hint}`, {
      status: res.status,
      retryable: meaning.retryable,
      ...(meaning.recipient !== undefined ? { recipient: meaning.recipient } : {}),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    });
  }
}

function messageIdOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { messages?: { id?: unknown }[] };
    const id = parsed.messages?.[0]?.id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

function retryAfter(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  const s = Number(raw);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}
