/**
 * WhatsApp's 24-hour customer-service window: a business may send a free-form (interactive)
 * message only within 24 hours of the user's last message to its number; outside it, only an
 * approved template. The window is kept in the channel's ChannelStorage (Redis in production), one
 * entry per business number and user that expires with the window, so every web process knows it.
 *
 * The window opens at the message's own `timestamp` (Meta redelivers for days: a message delivered
 * again an hour late must not reopen a window for 24 more hours). An older message redelivered after
 * a newer one may shorten the window we know of; that only means a template goes out where a plain
 * message would have done, never a message WhatsApp refuses (131047).
 *
 * @example
 * const window = new ServiceWindow(storage, phoneNumberId);
 * await window.opened("16505551234", messageTimeMs);
 * if (await window.isOpen("16505551234")) { … }
 */
import type { ChannelStorage } from "../storage/channel-storage.ts";

/** How long the window stays open after the user's last message. */
export const SERVICE_WINDOW_MS = 24 * 3_600_000;

/** Kept a little short of 24 h: a message sent at 23:59:59 could reach WhatsApp after the window closed. */
const SAFETY_MS = 60_000;

export class ServiceWindow {
  private readonly entries: ChannelStorage;

  constructor(
    storage: ChannelStorage,
    phoneNumberId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.entries = storage.scope(`window:${phoneNumberId}:`);
  }

  /** The user `waId` wrote at `at` (epoch ms): the window is open until `at` + 24 h. */
  async opened(waId: string, at: number): Promise<void> {
    const closesAt = Math.min(at, this.now()) + SERVICE_WINDOW_MS - SAFETY_MS;
    const ttl = closesAt - this.now();
    if (ttl <= 0) return;
    await this.entries.set(waId, { closesAt }, ttl);
  }

  /** WhatsApp said the window with `waId` is closed (a send failed with 131047): forget it. */
  async closed(waId: string): Promise<void> {
    await this.entries.delete(waId);
  }

  /** Whether a free-form message to `waId` may go out now. */
  async isOpen(waId: string): Promise<boolean> {
    const entry = await this.entries.get(waId);
    // The storage's TTL bounds the entry; the time inside it is checked too, on the injected clock.
    return typeof entry === "object" && entry !== null && typeof (entry as { closesAt?: unknown }).closesAt === "number" && (entry as { closesAt: number }).closesAt > this.now();
  }
}
