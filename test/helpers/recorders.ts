/**
 * Recording test doubles for the runtime's ports: what was delivered, logged and tracked.
 */
import type { ActionContext, Delivery, Logger, Tracker } from "../../engine/ports.ts";
import type { ConversationRef, Effect, TrackEvent } from "../../engine/types.ts";

export class RecordingDelivery implements Delivery {
  readonly batches: { ref: ConversationRef; effects: Effect[] }[] = [];
  /** Throws on the next `failures` calls, to simulate a channel outage. */
  failures = 0;
  inFlight = 0;
  maxInFlight = 0;
  async deliver(ref: ConversationRef, effects: readonly Effect[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Yield so a concurrent, unserialised event would overlap here.
      await new Promise<void>((r) => setImmediate(r));
      if (this.failures > 0) {
        this.failures--;
        throw new Error("channel unavailable (simulated)");
      }
      this.batches.push({ ref, effects: [...effects] });
    } finally {
      this.inFlight--;
    }
  }
  /** Every `send` text delivered, in order. */
  texts(): string[] {
    return this.batches.flatMap((b) => b.effects.flatMap((e) => (e.type === "send" ? [e.message.text] : [])));
  }
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: object;
  msg?: string;
}

export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: "debug", obj, msg });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: "info", obj, msg });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: "warn", obj, msg });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: "error", obj, msg });
  }
  /** Every line serialised the way pino writes it (errors with message and stack). */
  serialized(): string[] {
    const errors = (_key: string, v: unknown): unknown =>
      v instanceof Error ? { type: v.name, message: v.message, stack: v.stack, cause: v.cause } : v;
    return this.lines.map((l) => JSON.stringify({ level: l.level, ...l.obj, msg: l.msg }, errors));
  }
}

export class RecordingTracker implements Tracker {
  readonly events: { event: TrackEvent; ctx: Omit<ActionContext, "blockId"> }[] = [];
  async track(event: TrackEvent, ctx: Omit<ActionContext, "blockId">): Promise<void> {
    this.events.push({ event, ctx });
  }
}
