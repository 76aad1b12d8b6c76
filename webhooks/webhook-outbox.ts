/**
 * The webhooks' delivery queue is the trigger outbox's port (triggers/outbox.ts), not a second
 * mechanism: the same job-id dedupe (a delivery is one job however often it is queued, kept 7
 * days in Redis, 10,000 ids in process), backoff with Retry-After, final failures and the dead
 * letter, run on its own queue (`botflow-webhooks-http`) with its own wording in logs.
 *
 * Production: BullMQ on Redis, consumed by `botflow worker` (the fleet that stores survey events
 * and queues their webhooks). Embedded default: in process, in memory: deliveries pending or dead
 * when the process stops are lost, like the in-process survey queue's dead letter.
 */
import type { Redis } from "ioredis";
import type { Clock, Logger } from "../engine/ports.ts";
import { BullmqOutbox } from "../triggers/bullmq-outbox.ts";
import { InProcessOutbox } from "../triggers/in-process-outbox.ts";
import type { Outbox, OutboxSettings, OutboxWording } from "../triggers/outbox.ts";
import type { WebhookDelivery } from "./deliver.ts";

/** BullMQ queue base name; the queue is `<WEBHOOK_QUEUE>-<WEBHOOK_CHANNEL>`. */
export const WEBHOOK_QUEUE = "botflow-webhooks";
/** The one partition of the outbox: every endpoint shares it (the outbox's "channel"). */
export const WEBHOOK_CHANNEL = "http";
export const WEBHOOK_WORDING: OutboxWording = { noun: "webhook", failure: "a webhook could not be delivered" };

export type WebhookOutbox = Outbox<WebhookDelivery>;

export interface WebhookOutboxOptions {
  settings?: Partial<OutboxSettings>;
  clock?: Clock;
  logger?: Logger;
  random?: () => number;
}

export function inProcessWebhookOutbox(o: WebhookOutboxOptions = {}): WebhookOutbox {
  return new InProcessOutbox<WebhookDelivery>({ ...o, wording: WEBHOOK_WORDING });
}

/** `connection` is the caller's (closed after the outbox); `prefix` is BOTFLOW_QUEUE_PREFIX. */
export function bullmqWebhookOutbox(connection: Redis, prefix: string, o: WebhookOutboxOptions = {}): WebhookOutbox {
  return new BullmqOutbox<WebhookDelivery>({ connection, prefix, channels: [WEBHOOK_CHANNEL], queue: WEBHOOK_QUEUE, wording: WEBHOOK_WORDING, ...o });
}
