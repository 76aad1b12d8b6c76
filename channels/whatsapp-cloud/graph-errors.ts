/**
 * What a Graph API error means for botflow: whether trying again may help, whether the recipient
 * cannot be reached at all (ChannelError.recipient, which a trigger reports as its failure), and a
 * hint on how to fix it. WhatsApp's own codes win over the HTTP status: a throughput limit may come
 * as a 400, a re-engagement error as a 400 that no retry will fix.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
 */
import type { RecipientProblem } from "../../engine/errors.ts";

/** The `error` object of a Graph API answer, bounded. */
export interface GraphErrorBody {
  message?: string;
  code?: number;
  details?: string;
}

export interface GraphErrorMeaning {
  retryable: boolean;
  recipient?: RecipientProblem;
  /** A wait to honour when the answer had no Retry-After header. */
  retryAfterMs?: number;
  /** Appended to the error's message: what to do. */
  hint: string;
}

const RECIPIENT: ReadonlyMap<number, { recipient: RecipientProblem; hint: string }> = new Map([
  [131047, { recipient: "window_closed", hint: "more than 24 hours have passed since the user last wrote: only a template can reach them (WHATSAPP_CLOUD_TEMPLATE, or the trigger's options.template)" }],
  [131026, { recipient: "unknown_recipient", hint: "the recipient cannot receive it (not a WhatsApp user, or has not accepted WhatsApp's terms, or runs an old app version)" }],
  // The On-Premises API's codes for an unknown recipient, which some accounts still see.
  [1006, { recipient: "unknown_recipient", hint: "the recipient is not a WhatsApp user" }],
  [1013, { recipient: "unknown_recipient", hint: "the recipient is not a WhatsApp user" }],
  [131030, { recipient: "not_allowed", hint: "the recipient is not in the test number's allowed list: add it under WhatsApp → API Setup, or send from a production number" }],
  [131050, { recipient: "blocked", hint: "the user has stopped marketing messages from this business" }],
] as const);

/** Throughput and pair rate limits, and the Graph API's own temporary failures. */
const RETRYABLE = new Set([2, 4, 80007, 130429, 131016, 131056, 133004]);
/** 131056: one business may send one user a message about every 6 s. */
const PAIR_RATE_WAIT_MS = 6_000;

/** The meaning of an answer with HTTP `status` and WhatsApp `code` (undefined when there was none). */
export function meaningOf(status: number, code: number | undefined): GraphErrorMeaning {
  const known = code !== undefined ? RECIPIENT.get(code) : undefined;
  if (known) return { retryable: false, recipient: known.recipient, hint: `; ${known.hint}` };
  if (status === 429 || status >= 500 || (code !== undefined && RETRYABLE.has(code))) {
    return { retryable: true, ...(code === 131056 ? { retryAfterMs: PAIR_RATE_WAIT_MS } : {}), hint: code === 131056 ? "; too many messages to this user in a short time" : "" };
  }
  if (code === 132001) return { retryable: false, hint: "; no approved template of that name in that language: check the name and language in WhatsApp Manager" };
  if (code === 132000 || code === 132012) return { retryable: false, hint: "; the template's parameters or buttons do not match it: one body parameter per {{n}}, one quick-reply button per button of the question, in order" };
  if (status === 401) return { retryable: false, hint: "; check WHATSAPP_CLOUD_ACCESS_TOKEN (expired or revoked?)" };
  if (status === 403 || status === 404) return { retryable: false, hint: "; check WHATSAPP_CLOUD_PHONE_NUMBER_ID and the token's permissions" };
  return { retryable: false, hint: "" };
}

/** The `error` of a Graph API answer's body, or undefined when it has none (not JSON, an HTML proxy page). */
export function readGraphError(text: string): GraphErrorBody | undefined {
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown; code?: unknown; error_data?: { details?: unknown } } }).error;
    if (!e || typeof e !== "object") return undefined;
    return {
      ...(typeof e.message === "string" ? { message: e.message.slice(0, 300) } : {}),
      ...(typeof e.code === "number" ? { code: e.code } : {}),
      ...(typeof e.error_data?.details === "string" ? { details: e.error_data.details.slice(0, 300) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The error's words for a log line and a ChannelError: its message, details and code, never the request. */
export function describeGraphError(e: GraphErrorBody | undefined): string {
  if (!e || e.message === undefined) return "no error details";
  const details = e.details !== undefined && e.details !== e.message ? ` (${e.details})` : "";
  return `${e.message}${details}${e.code !== undefined ? ` (code ${e.code})` : ""}`;
}
