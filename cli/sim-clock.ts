/**
 * A clock that can be moved forward: the CLI uses it to fire no-answer timeouts on demand
 * (`/wait 24h` in chat, `{"wait": "24h"}` in run) instead of waiting for real.
 */
import type { Clock } from "../engine/ports.ts";

export class SimClock implements Clock {
  private offset = 0;

  /** `base` is the time before any `advance`: Date.now for chat, a fixed instant for reproducible runs. */
  constructor(private readonly base: () => number) {}

  now(): number {
    return this.base() + this.offset;
  }

  advance(ms: number): void {
    this.offset += ms;
  }
}
