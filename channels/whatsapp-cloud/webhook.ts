/**
 * The incoming half of the WhatsApp Cloud API: the webhook's signature check and the mapping of
 * its `messages` notifications to engine events. Pure functions, no I/O.
 *
 * Meta signs each POST with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body,
 * keyed with the app secret>`; the check runs on the bytes as received, before any parsing.
 */
import { createHmac } from "node:crypto";
import { sameSecret } from "../secret.ts";
import type { InboundEvent } from "../../engine/types.ts";
import type { ParseResult } from "../port.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import { parseReplyId } from "./render.ts";

/** Whether `header` is the app secret's signature of exactly `raw`; timing-safe. */
export function verifySignature(raw: Buffer, header: string | undefined, appSecret: string): boolean {
  if (header === undefined || !header.startsWith("sha256=")) return false;
  const expected = createHmac("sha256", appSecret).update(raw).digest("hex");
  return sameSecret(header.slice(7).trim().toLowerCase(), expected);
}

/** The signature header value Meta would send for `raw` (tests and tools sign with it). */
export function signBody(raw: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(raw).digest("hex")}`;
}

/** Message types that carry no answer and must not start or disturb a survey. */
const IGNORED_TYPES = new Set(["reaction", "unsupported", "system", "ephemeral", "request_welcome", "order"]);

export interface ParseWebhookOptions {
  /** Only messages to this number are taken; others of the same business account are skipped. */
  phoneNumberId: string;
  /** The scenario a first message starts on this channel (BOTFLOW_WHATSAPP_CLOUD_SCENARIO); default the runtime's. */
  scenarioId?: string;
}

/**
 * The events of one webhook body. Statuses (sent, delivered, read) and other fields carry no
 * user input and yield nothing. A typed message may start the scenario (`startIfIdle`).
 */
export function parseWebhook(body: unknown, o: ParseWebhookOptions): ParseResult {
  if (!isObject(body) || body.object !== "whatsapp_business_account" || !Array.isArray(body.entry)) {
    return { ok: false, reason: "not a WhatsApp Business Account webhook (object must be whatsapp_business_account with an entry list)" };
  }
  const events: InboundEvent[] = [];
  for (const entry of body.entry) {
    if (!isObject(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      if (!isObject(change) || change.field !== "messages" || !isObject(change.value)) continue;
      const value = change.value;
      const metadata = isObject(value.metadata) ? value.metadata : {};
      if (metadata.phone_number_id !== o.phoneNumberId || !Array.isArray(value.messages)) continue;
      for (const m of value.messages) {
        const event = toEvent(m, o.scenarioId !== undefined ? { scenarioId: o.scenarioId } : {});
        if (event) events.push(event);
      }
    }
  }
  return { ok: true, events };
}

function toEvent(m: unknown, scenario: { scenarioId?: string }): InboundEvent | undefined {
  if (!isObject(m) || typeof m.from !== "string" || typeof m.id !== "string" || typeof m.type !== "string") return undefined;
  if (m.from === "" || m.id === "" || IGNORED_TYPES.has(m.type)) return undefined;
  const base = { channel: WHATSAPP_CLOUD, conversationId: m.from, userId: m.from, dedupeKey: m.id };
  if (m.type === "text") {
    const text = isObject(m.text) && typeof m.text.body === "string" ? m.text.body : "";
    return { ...base, kind: "text", text, startIfIdle: true, ...scenario };
  }
  if (m.type === "interactive" && isObject(m.interactive)) {
    const i = m.interactive;
    const reply = i.type === "button_reply" ? i.button_reply : i.type === "list_reply" ? i.list_reply : undefined;
    if (!isObject(reply) || typeof reply.id !== "string") return undefined;
    const ref = parseReplyId(reply.id);
    // A reply id botflow did not make (another tool's message): its title is the best answer there is.
    if (!ref) return { ...base, kind: "text", text: typeof reply.title === "string" ? reply.title : "" };
    return { ...base, kind: "choice", promptId: ref.promptId, buttonIndex: ref.buttonIndex };
  }
  if (m.type === "button" && isObject(m.button) && typeof m.button.text === "string") {
    // A template's quick-reply button: its text answers like a typed one.
    return { ...base, kind: "text", text: m.button.text, startIfIdle: true, ...scenario };
  }
  // Media, locations, contacts: no answer to a question, but a first message still opens the survey.
  return { ...base, kind: "text", text: "", startIfIdle: true, ...scenario };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
