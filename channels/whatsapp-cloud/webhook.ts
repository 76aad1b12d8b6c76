/**
 * The incoming half of the WhatsApp Cloud API: the webhook's signature check and the mapping of
 * its `messages` notifications to engine events. Pure functions, no I/O.
 *
 * Besides the events, a notification tells when each user last wrote (their 24-hour window opens)
 * and which sends failed because a window was closed (131047 in a `failed` status).
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

/** When one user last wrote, as a notification says: opens the 24-hour window (service-window.ts). */
export interface UserSeen {
  waId: string;
  /** The message's own time (epoch ms); undefined when its timestamp is not a number. */
  at: number | undefined;
}

/** A parsed notification: its events, and what it says of the users' 24-hour windows. */
export type WebhookParse =
  | {
      ok: true;
      events: InboundEvent[];
      /** Each user who sent a message (of any type but `system`), with their latest message's time. */
      seen: UserSeen[];
      /** Users a message failed to reach because their window was closed (a `failed` status with 131047). */
      windowClosed: string[];
    }
  | Extract<ParseResult, { ok: false }>;

/** The status error code of a message sent outside the 24-hour window. */
const RE_ENGAGEMENT = 131047;

/**
 * The events of one webhook body. Statuses (sent, delivered, read) and other fields carry no
 * user input and yield no event. A message from someone with no dialogue in progress may start
 * the scenario (`startIfIdle`); whether it does is the scenario's `start_on` (engine/start-on.ts),
 * so every message that is not typed text (an image, a location, a contact card, another
 * template's quick reply) is marked `nonText`: it starts only a scenario with `start_on: any`.
 */
export function parseWebhook(body: unknown, o: ParseWebhookOptions): WebhookParse {
  if (!isObject(body) || body.object !== "whatsapp_business_account" || !Array.isArray(body.entry)) {
    return { ok: false, reason: "not a WhatsApp Business Account webhook (object must be whatsapp_business_account with an entry list)" };
  }
  const events: InboundEvent[] = [];
  const seen = new Map<string, number | undefined>();
  const windowClosed = new Set<string>();
  for (const entry of body.entry) {
    if (!isObject(entry) || !Array.isArray(entry.changes)) continue;
    for (const change of entry.changes) {
      if (!isObject(change) || change.field !== "messages" || !isObject(change.value)) continue;
      const value = change.value;
      const metadata = isObject(value.metadata) ? value.metadata : {};
      if (metadata.phone_number_id !== o.phoneNumberId) continue;
      for (const m of Array.isArray(value.messages) ? value.messages : []) {
        noteSeen(m, seen);
        const event = toEvent(m, o.scenarioId !== undefined ? { scenarioId: o.scenarioId } : {});
        if (event) events.push(event);
      }
      for (const st of Array.isArray(value.statuses) ? value.statuses : []) {
        if (!isObject(st) || st.status !== "failed" || typeof st.recipient_id !== "string" || !Array.isArray(st.errors)) continue;
        if (st.errors.some((e) => isObject(e) && e.code === RE_ENGAGEMENT)) windowClosed.add(st.recipient_id);
      }
    }
  }
  return { ok: true, events, seen: [...seen].map(([waId, at]) => ({ waId, at })), windowClosed: [...windowClosed] };
}

/** Any message the user sent opens their window, reactions and media included; `system` ones (a number change) are not theirs. */
function noteSeen(m: unknown, seen: Map<string, number | undefined>): void {
  if (!isObject(m) || typeof m.from !== "string" || !/^[0-9]{1,20}$/.test(m.from) || m.type === "system") return;
  const seconds = typeof m.timestamp === "string" && /^[0-9]{1,12}$/.test(m.timestamp) ? Number(m.timestamp) : undefined;
  const at = seconds !== undefined ? seconds * 1000 : undefined;
  const before = seen.get(m.from);
  if (!seen.has(m.from) || (at !== undefined && (before === undefined || at > before))) seen.set(m.from, at);
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
  if (m.type === "button" && isObject(m.button)) {
    // A template's quick-reply button: botflow gave it the payload of the question's button (template.ts).
    const ref = typeof m.button.payload === "string" ? parseReplyId(m.button.payload) : undefined;
    if (ref) return { ...base, kind: "choice", promptId: ref.promptId, buttonIndex: ref.buttonIndex };
    // Another template's button (a marketing message's "Yes, interested"): its text answers like a typed
    // one, but a tap on someone else's template is no request for a survey unless the scenario says any message is.
    if (typeof m.button.text === "string") return { ...base, kind: "text", text: m.button.text, startIfIdle: true, nonText: true, ...scenario };
  }
  // Media, locations, contacts: no answer to a question; a first one starts only a `start_on: any` scenario.
  return { ...base, kind: "text", text: "", startIfIdle: true, nonText: true, ...scenario };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
