/**
 * The runtime's Delivery: hands each conversation's user-visible effects to the channel it lives
 * on, paced by the buckets the channel declares (`Channel.pacing`): a trigger's first messages wait
 * for their tokens, so a bulk trigger of 10,000 surveys never gets the bot rate-banned, while a
 * reply to someone who just tapped goes at once and only counts, so triggers leave room for it. A
 * 429 the messenger answers pauses the channel's bucket for everyone who shares it.
 */
import { ChannelError, errorSummary } from "../engine/errors.ts";
import type { Delivery, Logger } from "../engine/ports.ts";
import type { ConversationRef, Effect, InboundEvent } from "../engine/types.ts";
import { isProactiveStart, visibleEffects, type Channel, type VisibleEffect } from "../channels/port.ts";
import type { RateLimiter } from "../channels/rate-limit/rate-limiter.ts";

export interface ChannelDeliveryOptions {
  logger: Logger;
  /** Hears of every delivery that succeeded (metrics). */
  onDelivered?: (channel: string, effects: readonly VisibleEffect[]) => void;
  /** Shared by every process of a deployment in production; absent: nothing is paced. */
  limiter?: RateLimiter;
}

export class ChannelDelivery implements Delivery {
  private readonly byName = new Map<string, Channel>();
  private readonly log: Logger;
  private readonly onDelivered: (channel: string, effects: readonly VisibleEffect[]) => void;
  private readonly limiter: RateLimiter | undefined;

  constructor(channels: readonly Channel[], o: ChannelDeliveryOptions) {
    for (const c of channels) this.byName.set(c.name, c);
    this.log = o.logger;
    this.onDelivered = o.onDelivered ?? (() => {});
    this.limiter = o.limiter;
  }

  async deliver(ref: ConversationRef, effects: readonly Effect[], cause?: InboundEvent): Promise<void> {
    const channel = this.byName.get(ref.channel);
    if (!channel) {
      // A conversation of a channel that is no longer enabled (a timeout firing after a config
      // change): throwing would make the sweeper retry it forever, so it is dropped and said so.
      this.log.warn({ channel: ref.channel, conversation: ref.conversationId }, "effects for a channel that is not enabled were dropped");
      return;
    }
    // The one place statistics and action effects are left out: channels see only what users see.
    const visible = visibleEffects(effects);
    const limiter = this.limiter;
    const buckets = limiter && channel.pacing ? channel.pacing(ref) : undefined;
    const messages = buckets ? sends(visible) : 0;
    if (limiter && buckets && messages > 0) {
      if (isProactiveStart(cause)) await limiter.acquire(buckets, messages);
      else void limiter.debit(buckets, messages).catch((err: unknown) => this.log.warn({ channel: ref.channel, err: errorSummary(err) }, "a reply could not be counted against the channel's rate limit"));
    }
    try {
      await channel.deliver(ref, visible, cause);
    } catch (err) {
      const first = buckets?.[0];
      if (limiter && first && err instanceof ChannelError && err.retryAfterMs !== undefined && err.retryAfterMs > 0) {
        await limiter.pause(first.key, err.retryAfterMs).catch((e: unknown) => this.log.warn({ channel: ref.channel, err: errorSummary(e) }, "a 429's pause could not be shared"));
      }
      throw err;
    }
    this.onDelivered(ref.channel, visible);
  }
}

/** The messages these effects send (what the messengers' limits count). */
function sends(effects: readonly VisibleEffect[]): number {
  let n = 0;
  for (const e of effects) if (e.type === "send") n++;
  return n;
}
