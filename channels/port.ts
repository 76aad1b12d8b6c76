/**
 * The Channel port: what every messenger adapter (web chat, Telegram, Teams, WhatsApp)
 * implements so the runtime and the composition root never see an SDK type.
 *
 * A channel does two things. Inbound, it turns one of its own payloads (a webhook body,
 * a WebSocket frame) into normalised {@link InboundEvent}s, or says why it refused the
 * payload. Outbound, it delivers the user-visible effects of one event to one conversation:
 * `send` (a message, perhaps with buttons), `close` (a prompt was answered or expired: disable
 * its buttons) and `ignored` (a stale or unknown tap: tell the user without changing anything).
 *
 * Deliberately left out, because the runtime or the composition root owns them:
 * - dedupe and per-conversation ordering: the channel puts a stable `dedupeKey` on each event
 *   and the runtime processes it once, one event at a time per conversation;
 * - HTTP mounting: each channel folder exports its own server plugin; the port names no web
 *   framework, so a channel can be driven by a test or a CLI without one;
 * - retries and backoff of outbound calls: a `deliver` that throws makes the runtime drop the
 *   step unsaved and the messenger redeliver the inbound payload;
 * - `track` and `runAction` effects: statistics and actions never reach a channel;
 * - media, typing indicators, user profiles and anything else the scenario language has no
 *   block for.
 *
 * @example
 * const parsed = channel.parseInbound(payload);
 * if (parsed.ok) for (const event of parsed.events) await runtime.handle(event);
 */
import type { ChannelLimits } from "../engine/catalog.ts";
import type { Delivery } from "../engine/ports.ts";
import type { InboundEvent } from "../engine/types.ts";

/** What a channel made of one inbound payload. */
export type ParseResult =
  | { ok: true; events: InboundEvent[] }
  /** `reason` is safe to show the sender and to log: it never echoes the payload. */
  | { ok: false; reason: string };

/**
 * One messenger adapter. `Inbound` is the channel's own payload type (a parsed webhook body,
 * a frame with the socket's conversation); it never leaves the channel's folder.
 */
export interface Channel<Inbound = unknown> extends Delivery {
  /** The name events and conversation refs carry (`webchat`, `telegram`). */
  readonly name: string;
  /** Rendering limits the loader checks every scenario against when this channel is enabled. */
  readonly limits: ChannelLimits;
  /** Turns a payload into events; never throws on hostile input. */
  parseInbound(input: Inbound): ParseResult;
  /** Stops taking inbound payloads and waits for the ones in flight; then releases connections. */
  close(): Promise<void>;
}
