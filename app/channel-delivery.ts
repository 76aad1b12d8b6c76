/**
 * The runtime's Delivery: hands each conversation's user-visible effects to the channel it lives on.
 */
import type { Delivery, Logger } from "../engine/ports.ts";
import type { ConversationRef, Effect, InboundEvent } from "../engine/types.ts";
import { visibleEffects, type Channel, type VisibleEffect } from "../channels/port.ts";

export class ChannelDelivery implements Delivery {
  private readonly byName = new Map<string, Channel>();

  constructor(
    channels: readonly Channel[],
    private readonly log: Logger,
    /** Hears of every delivery that succeeded (metrics). */
    private readonly onDelivered: (channel: string, effects: readonly VisibleEffect[]) => void = () => {},
  ) {
    for (const c of channels) this.byName.set(c.name, c);
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
    await channel.deliver(ref, visible, cause);
    this.onDelivered(ref.channel, visible);
  }
}
