/**
 * The Channel port: what every messenger adapter (web chat, Telegram, Teams, WhatsApp) implements
 * so the runtime and the composition root never see an SDK type. Both halves are here:
 *
 * - inbound, `start(handle)` gives the channel the one {@link EventHandler} (the runtime's
 *   `handle`): a client channel (WhatsApp Web, Telegram polling) starts its client and feeds it;
 *   a webhook channel keeps it for the routes its module mounts (channels/index.ts). Pure payload
 *   parsers stay module functions (`parseUpdate`, `parseActivity`, `parseWebhook`);
 *   `parseInbound` is the channel's configured use of its parser.
 * - outbound, `deliver` shows the user-visible effects of one event in one conversation:
 *   `send` (a message, perhaps with buttons), `close` (a prompt was answered or expired: disable
 *   its buttons) and `ignored` (a stale or unknown tap: tell the user without changing anything).
 *   `track` and `runAction` never reach a channel: {@link visibleEffects} filters them, once.
 * - `close()` refuses new input at once (webhooks answer 503, sockets an error frame) and
 *   resolves when the work already accepted has finished; then it releases its connections.
 *
 * Deliberately left out, because the runtime or the composition root owns them:
 * - dedupe and per-conversation ordering: the channel puts a stable `dedupeKey` on each event
 *   and the runtime processes it once, one event at a time per conversation;
 * - HTTP mounting and the webhook status contract: channels/webhook-route.ts, used by the
 *   module's `routes`; the port names no web framework, so a test or a CLI drives it without one;
 * - retries of outbound calls: channels/retry.ts (or the SDK's own, for grammY and botbuilder);
 *   a `deliver` that still throws makes the runtime drop the step unsaved, and the messenger
 *   redelivers (webhooks) or the client retries a bounded number of times;
 * - what a channel remembers beside conversation state: {@link ChannelStorage}, given in its deps;
 * - media, typing indicators, user profiles and anything else the scenario language has no
 *   block for.
 *
 * @example
 * await channel.start((event) => runtime.handle(event));
 * await channel.deliver(ref, visibleEffects(effects), cause);
 * await channel.close();
 */
import type { ChannelLimits } from "../engine/catalog.ts";
import type { RecipientProblem } from "../engine/errors.ts";
import type { RateLimitKey } from "./rate-limit/token-bucket.ts";
import { assertNever, type ConversationRef, type Effect, type InboundEvent } from "../engine/types.ts";

export type { ChannelStorage } from "./storage/channel-storage.ts";

/** What a channel made of one inbound payload. */
export type ParseResult =
  | { ok: true; events: InboundEvent[] }
  /** `reason` is safe to show the sender and to log: it never echoes the payload. */
  | { ok: false; reason: string };

/** Processes one event (the runtime's `handle`); rejects when it could not be saved. */
export type EventHandler = (event: InboundEvent) => Promise<{ status: "processed" | "duplicate" }>;

/** The effects a user sees; statistics (`track`) and actions (`runAction`) are not among them. */
export type VisibleEffect = Extract<Effect, { type: "send" | "close" | "ignored" }>;

/** The user-visible effects of `effects`, in order: the one place `track` and `runAction` are dropped. */
export function visibleEffects(effects: readonly Effect[]): VisibleEffect[] {
  return effects.filter((e): e is VisibleEffect => e.type === "send" || e.type === "close" || e.type === "ignored");
}

/** How one channel shows each kind of visible effect: what it sends for it (nothing is `[]`). */
export interface EffectRenderer<Out> {
  send(effect: Extract<VisibleEffect, { type: "send" }>): Out[];
  close(effect: Extract<VisibleEffect, { type: "close" }>): Out[];
  ignored(effect: Extract<VisibleEffect, { type: "ignored" }>): Out[];
}

/**
 * The one dispatch over visible effects, so each channel's renderer is three small functions.
 *
 * @example
 * const frames = renderWith(effects, { send: (e) => [frame(e.message)], close: (e) => [edit(e)], ignored: () => [] });
 */
export function renderWith<Out>(effects: readonly VisibleEffect[], r: EffectRenderer<Out>): Out[] {
  return effects.flatMap((e): Out[] => {
    switch (e.type) {
      case "send":
        return r.send(e);
      case "close":
        return r.close(e);
      case "ignored":
        return r.ignored(e);
      default:
        return assertNever(e, "effect");
    }
  });
}

/** Whether `cause` is a trigger's start: its first messages go out unprompted (and are paced, and fail back to the trigger). */
export function isProactiveStart(cause: InboundEvent | undefined): boolean {
  return cause?.kind === "start" && cause.proactive !== undefined;
}

/** What the trigger API asks a channel before it starts a dialogue nobody wrote in (issue 12). */
export interface ProactiveRequest {
  /** The recipient as the caller names it: Telegram chat id, wa_id, `<number>@c.us`, Teams conversation id, web chat visitor id. */
  to: string;
  /** Per-call channel options (WhatsApp Cloud: `{ template: { name, language, parameters } }`); the channel validates its own. */
  options?: Readonly<Record<string, unknown>>;
}

/**
 * Who `to` is on this channel, or why a first message cannot be sent there (a clear 4xx for the
 * caller: `status` 404 for a recipient the channel does not know, 422 for one it cannot reach now
 * or options it cannot use). `reason` is safe to show the caller; it never quotes a secret.
 */
export type ProactiveTarget =
  | { ok: true; ref: ConversationRef }
  | { ok: false; status: 404 | 422; problem: RecipientProblem | "invalid_options"; reason: string };

/**
 * A channel that can start a conversation unprompted. The trigger then runs the scenario with a
 * `start` event carrying `proactive` (engine/types.ts): `deliver` receives it as `cause`, and sends
 * the first question as a new message (WhatsApp Cloud outside the 24-hour window: its template).
 * A recipient that refuses (blocked the bot) is a ChannelError with `recipient` set and
 * `retryable: false`; a rate limit is `retryable` with `retryAfterMs`.
 */
export interface ProactiveCapability {
  resolve(request: ProactiveRequest): Promise<ProactiveTarget>;
}

/**
 * One messenger adapter. `Inbound` is the channel's own payload type (a parsed webhook body,
 * a frame with the socket's conversation); it never leaves the channel's folder.
 */
export interface Channel<Inbound = unknown> {
  /** The name events and conversation refs carry (`webchat`, `telegram`). */
  readonly name: string;
  /** Rendering limits the loader checks every scenario against when this channel is enabled. */
  readonly limits: ChannelLimits;
  /** Turns a payload into events; never throws on hostile input. */
  parseInbound(input: Inbound): ParseResult;
  /** Takes the handler every event goes to; client channels start their client here. */
  start(handle: EventHandler): Promise<void>;
  /**
   * Shows `effects` in the conversation. `cause` is the inbound event behind them (by identity),
   * so a channel can answer the tap or reply in the turn it came from; undefined for timeouts.
   */
  deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent): Promise<void>;
  /** Refuses new input, waits for the work in flight, then releases connections. */
  close(): Promise<void>;
  /** Present when the channel can send a first message nobody asked for (the trigger API); absent: such a trigger is a 422. */
  readonly proactive?: ProactiveCapability;
  /**
   * The rate-limit buckets every message to `ref` counts against (Telegram's 30/s per bot and 1/s
   * per chat, WhatsApp Cloud's 80/s per number), with the rates configured for this channel; absent
   * when the messenger sets none botflow paces for. The composition root's delivery waits on them
   * for a trigger's first messages and only counts interactive replies (channels/rate-limit/).
   */
  pacing?(ref: ConversationRef): readonly RateLimitKey[];
}
