/**
 * A person's erasure (a GDPR-style request): removes their comments and identifiers from every
 * place botflow keeps them, and leaves every aggregate figure as it was (the rollups are never
 * touched; stats/store/erase-surveys.ts checks each row it writes still counts the same).
 *
 * A person is `<channel>:<id>`, the id being the conversation botflow knows them by on that
 * channel, the same value a trigger's `to` names: a Telegram chat id, a WhatsApp wa_id, a Teams
 * conversation id, a web chat visitor id. Where it looks:
 * - survey records: comment texts (column and stored events), the conversation id, and the start
 *   variables stats/personal-data.ts does not keep; the dialogue list, its CSV and `botflow export`
 *   read these rows, so they show the same;
 * - the trigger table: recipient, conversation reference, options, variables not kept; a
 *   scheduled trigger for them is not sent;
 * - conversation state (memory or Redis): state, dedupe keys, lock, prompt deadline;
 * - channel storage: what each channel module's `forget` names (Telegram's open keyboards, the
 *   Teams conversation reference, the WhatsApp Cloud window, the web chat history);
 * - production: the survey queue's kept copies of their events (completed and failed jobs, the
 *   dead letter), which hold the comment and the conversation id.
 *
 * Not reached: events still waiting in the queue (they are stored when a worker takes them: run
 * the erasure again once the queue is empty; `queued` in the answer says how many there were),
 * the embedded queue's in-memory dead letter, and logs, which never hold comments or start
 * variables' values (engine/ports.ts Logger).
 */
import type { Queue } from "bullmq";
import type { ChannelModule } from "../channels/module.ts";
import type { ChannelStorage } from "../channels/storage/channel-storage.ts";
import type { Logger, StateStore } from "../engine/ports.ts";
import { eraseSurveys } from "../stats/store/erase-surveys.ts";
import { quoteSchema, type SqlClient } from "../stats/store/sql-client.ts";
import { eraseTriggers } from "../triggers/erase-triggers.ts";

/** The person an erasure names. */
export interface UserRef {
  channel: string;
  /** The conversation id on that channel (what a trigger's `to` names). */
  id: string;
}

/** What an erasure removed, by where. */
export interface ErasureCounts {
  /** Survey records whose comment, conversation id and start variables were cleared. */
  surveys: number;
  /** Trigger rows whose recipient, reference and variables were cleared. */
  triggers: number;
  /** Conversations whose state (and dedupe keys, lock, deadline) was deleted. */
  conversations: number;
  /** Channel storage entries deleted (keyboards, references, windows, web chat history). */
  channelEntries: number;
  /** Kept copies of survey events removed from the queue (completed, failed, dead letter). */
  queueJobs: number;
  /** Survey events of theirs still waiting to be stored: run the erasure again once they are. */
  queued: number;
}

export interface UserErasureOptions {
  /** The statistics database and schema (the survey and trigger tables). */
  sql: { db: SqlClient; schema: string };
  state: StateStore;
  /** The whole ChannelStorage; each module's `forget` gets its `<name>:` scope, as compose.ts gives it. */
  channelStorage: ChannelStorage;
  /** The channel modules (channels/index.ts): every one is asked, enabled or not. */
  modules: readonly ChannelModule[];
  /** Production: the survey queue and its dead letter (BullMQ), for the kept copies of events. */
  queues?: { jobs: Queue; dead: Queue };
  logger: Logger;
}

const ID_MAX = 256;

/**
 * `<channel>:<id>` (or the two parts of the HTTP route) as a UserRef, or what is wrong with it.
 * The id is everything after the first ':' (Teams ids hold ':' themselves).
 */
export function parseUserRef(channel: string, id: string, channels: readonly string[]): UserRef | string {
  if (!channels.includes(channel)) return `unknown channel "${channel.slice(0, 40)}": use one of ${channels.join(", ")}`;
  if (id === "" || id.length > ID_MAX || id.trim() !== id || /[\u0000-\u001f]/.test(id)) {
    return `the user id must be 1 to ${ID_MAX} characters without surrounding spaces or control characters (the conversation id on ${channel}, as a trigger's "to" names it)`;
  }
  return { channel, id };
}

/** `<channel>:<id>` from the command line. */
export function parseUserArg(text: string, channels: readonly string[]): UserRef | string {
  const colon = text.indexOf(":");
  if (colon <= 0) return `"${text.slice(0, 60)}" is not <channel>:<id> (e.g. telegram:42)`;
  return parseUserRef(text.slice(0, colon), text.slice(colon + 1), channels);
}

/**
 * Whether a conversation key (engine/runtime.ts `conversationKey`: `<channel>:<bot>:<conversation>`)
 * is this person's, on any bot of the channel.
 */
export function isConversationOf(user: UserRef): (key: string) => boolean {
  const head = `${user.channel}:`;
  const tail = `:${user.id}`;
  return (key) => key.length >= head.length + tail.length && key.startsWith(head) && key.endsWith(tail);
}

export class UserErasure {
  private readonly schema: string;

  constructor(private readonly o: UserErasureOptions) {
    this.schema = quoteSchema(o.sql.schema);
  }

  /** Erases `user` everywhere; idempotent (a second run finds nothing and answers zeros). */
  async erase(user: UserRef): Promise<ErasureCounts> {
    // The queue's copies first: a kept job is the one place the comment survives outside the store.
    const { removed: queueJobs, waiting: queued } = this.o.queues ? await forgetJobs(this.o.queues, user) : { removed: 0, waiting: 0 };
    const surveys = await eraseSurveys(this.o.sql.db, this.schema, { channel: user.channel, conversationId: user.id });
    const triggers = await eraseTriggers(this.o.sql.db, this.schema, { channel: user.channel, recipient: user.id });
    const conversations = await this.o.state.forget(isConversationOf(user));
    let channelEntries = 0;
    for (const m of this.o.modules) {
      if (m.name === user.channel && m.forget) channelEntries += await m.forget(this.o.channelStorage.scope(`${m.name}:`), user.id);
    }
    const counts: ErasureCounts = { surveys, triggers, conversations, channelEntries, queueJobs, queued };
    // The channel and the counts only: the id is the very thing being erased.
    this.o.logger.info({ channel: user.channel, ...counts }, "a user's comments and identifiers were erased");
    return counts;
  }
}

type EventRef = { channel?: unknown; conversationId?: unknown };

/**
 * The events a kept job holds, in either shape: one event, or a batch `{ events }` (the events of
 * one or more updates, so possibly of several people); a dead-letter entry wraps either in `event`.
 */
function eventsOf(data: unknown): { events: EventRef[]; batch: boolean; dead: boolean } {
  if (!data || typeof data !== "object") return { events: [], batch: false, dead: false };
  const wrapped = (data as { event?: unknown }).event;
  const dead = !!wrapped && typeof wrapped === "object";
  const payload = (dead ? wrapped : data) as { events?: unknown };
  if (Array.isArray(payload.events)) return { events: payload.events.filter((e): e is EventRef => !!e && typeof e === "object"), batch: true, dead };
  return { events: [payload as EventRef], batch: false, dead };
}

function isTheirs(e: EventRef, user: UserRef): boolean {
  return e.channel === user.channel && e.conversationId === user.id;
}

/**
 * What to do with a kept job for `user`'s erasure: nothing, remove it, or (a batch still to be
 * stored that also holds other people's events) keep it with theirs taken out.
 */
function erasureOf(data: unknown, user: UserRef, stored: boolean): { action: "keep" } | { action: "remove" } | { action: "update"; data: unknown } {
  const { events, batch, dead } = eventsOf(data);
  const theirs = events.filter((e) => isTheirs(e, user));
  if (theirs.length === 0) return { action: "keep" };
  // A completed job's events are in the store (erased there next): its copy can go whole.
  if (stored || !batch || theirs.length === events.length) return { action: "remove" };
  const others = { events: events.filter((e) => !isTheirs(e, user)) };
  return { action: "update", data: dead ? { ...(data as object), event: others } : others };
}

/** Removes the kept jobs (completed, failed; the dead letter's) holding `user`'s events; counts the ones still to be stored. */
async function forgetJobs(queues: { jobs: Queue; dead: Queue }, user: UserRef): Promise<{ removed: number; waiting: number }> {
  let removed = 0;
  let waiting = 0;
  const PAGE = 1000;
  for (const [queue, states] of [
    [queues.jobs, ["completed", "failed"]],
    [queues.dead, ["wait", "completed", "failed"]],
  ] as const) {
    for (const state of states) {
      // Removing shifts the list: page by what is left, not by a fixed offset.
      for (let start = 0; ; ) {
        const jobs = await queue.getJobs([state], start, start + PAGE - 1, true);
        let gone = 0;
        for (const j of jobs) {
          if (!j) continue;
          const what = erasureOf(j.data, user, queue === queues.jobs && state === "completed");
          if (what.action === "keep") continue;
          if (what.action === "remove") {
            await j.remove();
            gone++;
          } else await j.updateData(what.data);
          removed++;
        }
        start += jobs.length - gone;
        if (jobs.length < PAGE) break;
      }
    }
  }
  for (const j of await queues.jobs.getJobs(["wait", "delayed", "active", "prioritized"], 0, -1, true)) if (j && eventsOf(j.data).events.some((e) => isTheirs(e, user))) waiting++;
  return { removed, waiting };
}
