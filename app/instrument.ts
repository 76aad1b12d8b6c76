/**
 * Wrappers that count what passes through the runtime's ports for /metrics, without the
 * engine or the channels knowing about metrics.
 */
import type { ActionRunner } from "../engine/ports.ts";
import type { InboundEvent } from "../engine/types.ts";
import type { SurveyQueue } from "../stats/events.ts";
import type { AppMetrics } from "./app-metrics.ts";

/** The survey queue as the action and tracker see it: timed, failures counted, resolved late (`current`). */
export function instrumentedQueue(current: () => SurveyQueue, metrics: AppMetrics): SurveyQueue {
  return {
    async add(event) {
      const started = performance.now();
      try {
        await current().add(event);
        metrics.surveyQueueing.observe({ kind: event.kind }, (performance.now() - started) / 1000);
      } catch (err) {
        metrics.surveyQueueFailures.inc({ kind: event.kind });
        throw err;
      }
    },
    async addBatch(events) {
      const queue = current();
      const started = performance.now();
      try {
        if (queue.addBatch) await queue.addBatch(events);
        else for (const e of events) await queue.add(e);
        const seconds = (performance.now() - started) / 1000;
        for (const e of events) metrics.surveyQueueing.observe({ kind: e.kind }, seconds);
      } catch (err) {
        for (const e of events) metrics.surveyQueueFailures.inc({ kind: e.kind });
        throw err;
      }
    },
    close: async () => {},
  };
}

/** Counts failed actions; the runtime still sees the failure and follows `on_error`. */
export function instrumentedActions(runner: ActionRunner, metrics: AppMetrics): ActionRunner {
  return {
    async run(name, config, ctx) {
      try {
        return await runner.run(name, config, ctx);
      } catch (err) {
        metrics.actionFailures.inc({ action: name });
        throw err;
      }
    },
  };
}

/** Counts inbound events by channel and outcome around the runtime's `handle`. */
export function instrumentedHandler<R extends { status: "processed" | "duplicate" }>(
  handle: (event: InboundEvent) => Promise<R>,
  metrics: AppMetrics,
): (event: InboundEvent) => Promise<R> {
  return async (event) => {
    try {
      const result = await handle(event);
      metrics.inbound.inc({ channel: event.channel, status: result.status });
      return result;
    } catch (err) {
      metrics.inbound.inc({ channel: event.channel, status: "failed" });
      throw err;
    }
  };
}
