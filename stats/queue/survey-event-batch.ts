/**
 * The survey events of one inbound update (engine TrackBatch): the tracker and statistic__set
 * push what the update's steps record, and the runtime flushes them once, as one unit, before
 * the update is delivered and its state saved. One update is one `addBatch` (one BullMQ job, or
 * a share of one), not one `add` per event.
 *
 * @example
 * const batch = new SurveyEventBatch(queue);
 * batch.push(event); // checked now: a malformed event throws here, where it was made
 * await batch.flush(); // queued (BullMQ) or stored (in process)
 */
import type { TrackBatch } from "../../engine/ports.ts";
import type { SurveyEvent, SurveyQueue } from "../events.ts";
import { parseSurveyEvent } from "./parse-survey-event.ts";

export class SurveyEventBatch implements TrackBatch {
  private readonly events: SurveyEvent[] = [];

  constructor(private readonly queue: SurveyQueue) {}

  /** Keeps the event for the flush; throws MalformedSurveyEventError, as `add` rejects, when it is not a survey event. */
  push(event: SurveyEvent): void {
    this.events.push(parseSurveyEvent(event));
  }

  get size(): number {
    return this.events.length;
  }

  async flush(): Promise<void> {
    if (this.events.length === 0) return;
    const events = this.events.splice(0);
    if (this.queue.addBatch) await this.queue.addBatch(events);
    else for (const e of events) await this.queue.add(e);
  }
}

/** Records `event` in the update's batch when the context carries one, else queues it at once. */
export async function recordSurveyEvent(queue: SurveyQueue, event: SurveyEvent, batch: TrackBatch | undefined): Promise<void> {
  if (batch instanceof SurveyEventBatch) batch.push(event);
  else await queue.add(event);
}
