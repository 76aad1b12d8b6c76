/**
 * `botflow webhooks list-dead` and `replay`: the dead letter of the webhook outbox, and sending
 * dead deliveries again from their first attempt (same job id, same body, a fresh signature).
 * At-least-once: a delivery replayed after its receiver did get it arrives twice, with the same
 * event id, which is what the receiver dedupes on.
 */
import type { DeadTrigger } from "../triggers/outbox.ts";
import type { WebhookOutbox } from "./webhook-outbox.ts";

/** The most dead deliveries read at once. */
export const DEAD_LIMIT = 100_000;

/** A dead delivery as listed: its job id is `<event id>@<endpoint key>`. */
export interface DeadWebhook extends DeadTrigger {
  eventId: string;
}

export async function listDeadWebhooks(outbox: WebhookOutbox, limit = DEAD_LIMIT): Promise<DeadWebhook[]> {
  return (await outbox.deadLetters(limit)).map((d) => ({ ...d, eventId: d.id.replace(/@[0-9a-f]+$/, "") }));
}

/**
 * Replays the dead deliveries of one event (`eventId`, or a delivery's job id) or all of them;
 * resolves to the job ids handed back to the outbox.
 */
export async function replayDeadWebhooks(outbox: WebhookOutbox, which: { eventId: string } | "all"): Promise<string[]> {
  const dead = await listDeadWebhooks(outbox);
  const chosen = which === "all" ? dead : dead.filter((d) => d.eventId === which.eventId || d.id === which.eventId);
  const replayed: string[] = [];
  for (const d of chosen) if (await outbox.retryDead(d.id)) replayed.push(d.id);
  return replayed;
}
