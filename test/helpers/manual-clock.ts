import type { Clock } from "../../engine/ports.ts";

/** A Clock that moves only when a test says so: timeouts are tested without sleeps. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}
