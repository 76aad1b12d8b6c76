/**
 * Turns stored survey events into webhook deliveries and delivers them. `afterCommit` is the
 * survey batch writer's hook (stats/worker-batch-writer.ts), the one place the BullMQ worker and
 * the in-process queue both pass once a write committed: a survey job is acknowledged only after
 * its webhooks are queued, and a redelivered job queues nothing twice, because a delivery's job id
 * is `<event id>@<endpoint key>` and the outbox dedupes by job id.
 *
 * @example
 * const webhooks = new WebhookDispatcher({ settings, outbox, outcomes: sqlOutcomes(store.sql, store.schema), logger });
 * const queue = new InProcessSurveyQueue(store, { batch: { afterCommit: webhooks.afterCommit } });
 * webhooks.start();
 */
import { silentLogger, systemClock, type Clock, type Logger } from "../engine/ports.ts";
import type { SurveyEvent } from "../stats/events.ts";
import { deliverWebhook, type WebhookDelivery } from "./deliver.ts";
import type { ReadOutcomes } from "./survey-outcomes.ts";
import { webhookEventsFor } from "./webhook-event.ts";
import { WEBHOOK_CHANNEL, type WebhookOutbox } from "./webhook-outbox.ts";
import { endpointKey, endpointName, type WebhookSettings } from "./webhook-settings.ts";

export interface WebhookDispatcherOptions {
  settings: WebhookSettings;
  outbox: WebhookOutbox;
  outcomes: ReadOutcomes;
  logger?: Logger;
  clock?: Clock;
  /** Longest one delivery attempt may take (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Survey event kinds that can lead to a webhook (webhook-event.ts `webhookEventsFor`). Workers
 * store a survey's events in any order: an offer or answer stored after the completion brings
 * the scale, and so the low_score the completion could not decide yet.
 */
const KINDS: ReadonlySet<string> = new Set(["completed", "answered", "offered", "declined"]);

/** A delivery's job id: one per event and endpoint (no ':', which BullMQ refuses in ids). */
export function deliveryJobId(eventId: string, url: string): string {
  return `${eventId}@${endpointKey(url)}`;
}

export class WebhookDispatcher {
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly o: WebhookDispatcherOptions) {
    this.log = o.logger ?? silentLogger;
    this.clock = o.clock ?? systemClock;
  }

  /** Queues the webhooks of committed events; rejects when the outbox does not take them (the survey job then retries). */
  readonly afterCommit = async (events: readonly SurveyEvent[]): Promise<void> => {
    const relevant = events.filter((e) => KINDS.has(e.kind) && this.endpointsOf(e.scenarioId).length > 0);
    if (relevant.length === 0) return;
    const outcomes = await this.o.outcomes([...new Set(relevant.map((e) => e.surveyId))]);
    const jobs = new Map<string, WebhookDelivery>();
    for (const event of relevant) {
      const outcome = outcomes.get(event.surveyId);
      if (!outcome) continue;
      for (const w of webhookEventsFor(event, outcome, this.o.settings.lowScore)) {
        const body = JSON.stringify(w);
        for (const { url } of this.endpointsOf(event.scenarioId)) jobs.set(deliveryJobId(w.id, url), { url, eventId: w.id, type: w.type, body });
      }
    }
    await Promise.all([...jobs].map(([id, payload]) => this.o.outbox.add({ id, channel: WEBHOOK_CHANNEL, payload })));
  };

  /** Starts delivering queued webhooks (once). */
  start(): void {
    this.o.outbox.start({
      handle: (job) =>
        deliverWebhook(job.payload, {
          secret: this.o.settings.secret,
          clock: this.clock,
          ...(this.o.timeoutMs !== undefined ? { timeoutMs: this.o.timeoutMs } : {}),
          ...(this.o.fetch ? { fetch: this.o.fetch } : {}),
        }),
      failed: async (job, reason) => {
        this.log.warn(
          { webhook: job.id, type: job.payload.type, endpoint: endpointName(job.payload.url), attempts: job.attempt, reason },
          "a webhook went to the dead letter; botflow webhooks replay sends it again",
        );
      },
    });
  }

  /** The outbox's dead letter: job ids are `<event id>@<endpoint key>`. */
  get outbox(): WebhookOutbox {
    return this.o.outbox;
  }

  private endpointsOf(scenarioId: string) {
    return this.o.settings.endpoints.filter((e) => e.scenario === undefined || e.scenario === scenarioId);
  }
}
