/**
 * A SurveyQueue that keeps every event in memory, in order, and passes it on to another queue
 * when given one. The CLI shows what a scenario sends to statistics from `events`, whichever
 * queue (none, in-process, BullMQ) really takes them.
 */
import type { SurveyEvent, SurveyQueue } from "../stats/events.ts";

export class RecordingSurveyQueue implements SurveyQueue {
  readonly events: SurveyEvent[] = [];

  constructor(private readonly next?: SurveyQueue) {}

  async add(event: SurveyEvent): Promise<void> {
    await this.next?.add(event);
    this.events.push(event);
  }

  async close(): Promise<void> {
    await this.next?.close();
  }
}
