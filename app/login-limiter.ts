/**
 * Rate limit of the dashboard's login form, per client address: after `maxFailures` wrong tokens
 * within `windowMs`, every attempt from that address (the right token too) gets 429 with
 * Retry-After until the window that began with its first failure ends. A right token resets the
 * address's count. Memory is bounded: at most `maxAddresses` are tracked, the oldest dropped first.
 *
 * @example
 * const limiter = new LoginLimiter({ clock });
 * const wait = limiter.blockedFor(req.ip); // ms, 0 when the address may try
 */
import { systemClock, type Clock } from "../engine/ports.ts";

export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  clock?: Clock;
}

interface Entry {
  failures: number;
  /** When the window that began with the first failure ends (epoch ms). */
  until: number;
}

export class LoginLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly clock: Clock;
  /** Insertion order is age order: the first key is the oldest. */
  private readonly entries = new Map<string, Entry>();

  constructor(o: LoginLimiterOptions = {}) {
    this.maxFailures = o.maxFailures ?? 10;
    this.windowMs = o.windowMs ?? 15 * 60_000;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.clock = o.clock ?? systemClock;
  }

  /** How long `address` must wait before it may try again, in ms (0: it may try now). */
  blockedFor(address: string): number {
    const e = this.live(address);
    return e && e.failures >= this.maxFailures ? e.until - this.clock.now() : 0;
  }

  failed(address: string): void {
    const e = this.live(address);
    if (e) {
      e.failures++;
      return;
    }
    if (this.entries.size >= this.maxAddresses) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(address, { failures: 1, until: this.clock.now() + this.windowMs });
  }

  succeeded(address: string): void {
    this.entries.delete(address);
  }

  private live(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e && e.until <= this.clock.now()) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }
}
