/**
 * ChannelDelivery's pacing: a trigger's first messages wait for the channel's buckets, replies go at
 * once and count against them, and a 429 pauses the bucket for everyone. Virtual time makes the
 * asserted send times exact.
 */
import { describe, expect, it } from "vitest";
import { ChannelDelivery } from "../../app/channel-delivery.ts";
import { ChannelError } from "../../engine/errors.ts";
import { silentLogger } from "../../engine/ports.ts";
import type { ConversationRef, Effect, InboundEvent } from "../../engine/types.ts";
import type { Channel, VisibleEffect } from "../../channels/port.ts";
import { MemoryRateLimiter } from "../../channels/rate-limit/memory-rate-limiter.ts";
import { PACING_MARGIN, perSecondBucket } from "../../channels/rate-limit/rate-config.ts";
import { VirtualTime } from "../channels/rate-limit-virtual-time.ts";

const ref = (user: string): ConversationRef => ({ channel: "paced", conversationId: user, userId: user });
const question: Effect[] = [{ type: "send", message: { text: "How did we do?", promptId: "p1", buttons: [{ label: "5", value: 5, index: 0 }] } }];
const proactive = (user: string): InboundEvent => ({ ...ref(user), kind: "start", dedupeKey: `trigger:${user}`, proactive: { triggerId: user } });
const tap = (user: string): InboundEvent => ({ ...ref(user), kind: "choice", dedupeKey: `tap:${user}`, promptId: "p1", buttonIndex: 0 });

/** A channel paced at `perSecond` for the whole bot, recording when each delivery reached it. */
function pacedChannel(time: VirtualTime, perSecond: number) {
  const sent: { user: string; at: number }[] = [];
  let failWith: ChannelError | undefined;
  const channel: Channel = {
    name: "paced",
    limits: { channel: "paced", maxButtons: 10, maxLabelLength: 64, maxTextLength: 4096 },
    parseInbound: () => ({ ok: true, events: [] }),
    start: async () => {},
    close: async () => {},
    pacing: () => [perSecondBucket("paced:bot", perSecond)],
    async deliver(r: ConversationRef, _effects: readonly VisibleEffect[]) {
      if (failWith) {
        const e = failWith;
        failWith = undefined;
        throw e;
      }
      sent.push({ user: r.conversationId, at: time.now() });
    },
  };
  return { channel, sent, failNext: (e: ChannelError) => void (failWith = e) };
}

describe("ChannelDelivery pacing", () => {
  it("holds a trigger's first messages to the channel's rate", async () => {
    const time = new VirtualTime();
    const start = time.now();
    const { channel, sent } = pacedChannel(time, 5);
    const delivery = new ChannelDelivery([channel], { logger: silentLogger, limiter: new MemoryRateLimiter({ clock: time, sleep: time.sleep }) });
    const users = Array.from({ length: 15 }, (_, i) => `u${i}`);
    await time.drive(users.map((u) => delivery.deliver(ref(u), question, proactive(u))));
    expect(sent).toHaveLength(15);
    // Evenly spaced just under the rate (PACING_MARGIN), from the first: never a burst, never more than 5 in any second.
    const offsets = sent.map((s) => s.at - start).sort((a, b) => a - b);
    const gap = Math.ceil(1000 / (5 * PACING_MARGIN));
    expect(offsets).toEqual(Array.from({ length: 15 }, (_, i) => i * gap));
    for (let i = 5; i < 15; i++) expect((offsets[i] as number) - (offsets[i - 5] as number)).toBeGreaterThan(1000);
  });

  it("sends a reply at once even when triggers used up the bucket, and the reply's token delays the next trigger", async () => {
    const time = new VirtualTime();
    const start = time.now();
    const { channel, sent } = pacedChannel(time, 5);
    const delivery = new ChannelDelivery([channel], { logger: silentLogger, limiter: new MemoryRateLimiter({ clock: time, sleep: time.sleep }) });
    await time.drive([delivery.deliver(ref("a"), question, proactive("a"))]);
    await delivery.deliver(ref("tapper"), question, tap("tapper"));
    expect(sent.at(-1)).toEqual({ user: "tapper", at: start });
    await new Promise((r) => setImmediate(r)); // the debit is not awaited by the reply
    await time.drive([delivery.deliver(ref("f"), question, proactive("f"))]);
    // The bucket was at -1 after the reply: the next token is two tokens' time away.
    expect(sent.at(-1)).toEqual({ user: "f", at: start + Math.ceil(2000 / (5 * PACING_MARGIN)) });
  });

  it("pauses the bucket for the messenger's retry_after and passes the 429 on", async () => {
    const time = new VirtualTime();
    const start = time.now();
    const { channel, sent, failNext } = pacedChannel(time, 30);
    const delivery = new ChannelDelivery([channel], { logger: silentLogger, limiter: new MemoryRateLimiter({ clock: time, sleep: time.sleep }) });
    failNext(new ChannelError("paced", "sendMessage", "429 Too Many Requests: retry after 3", { status: 429, retryable: true, retryAfterMs: 3_000 }));
    const err = await delivery.deliver(ref("a"), question, proactive("a")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect((err as ChannelError).retryAfterMs).toBe(3_000);
    await time.drive([delivery.deliver(ref("b"), question, proactive("b"))]);
    expect(sent).toEqual([{ user: "b", at: start + 3_000 }]);
  });

  it("paces nothing without a limiter, and a channel without buckets is never held", async () => {
    const time = new VirtualTime();
    const { channel, sent } = pacedChannel(time, 1);
    const unpaced = new ChannelDelivery([channel], { logger: silentLogger });
    await Promise.all(["a", "b", "c"].map((u) => unpaced.deliver(ref(u), question, proactive(u))));
    expect(sent.map((s) => s.at)).toEqual([time.now(), time.now(), time.now()]);

    const { pacing: _, ...rest } = channel;
    const free: Channel = { ...rest, deliver: channel.deliver.bind(channel) };
    const limited = new ChannelDelivery([free], { logger: silentLogger, limiter: new MemoryRateLimiter({ clock: time, sleep: time.sleep }) });
    await Promise.all(["d", "e", "f"].map((u) => limited.deliver(ref(u), question, proactive(u))));
    expect(sent).toHaveLength(6);
  });
});
