/**
 * `botflow erase --user <channel>:<id>`: a person's erasure (app/user-erasure.ts) from the command
 * line, on the store and services the web process uses. With REDIS_URL and DATABASE_URL (production)
 * it reaches everything: PostgreSQL's survey and trigger rows, the conversation state and channel
 * storage in Redis, the survey queue's kept jobs. Embedded (no REDIS_URL), conversation state and
 * channel storage live in the memory of `botflow serve`: this command clears the PGlite store (with
 * serve stopped: it holds the data folder), and `DELETE /api/users/{channel}/{id}` on the running
 * server clears the rest. Prints the counts; `--json` prints them as JSON.
 */
import { Redis } from "ioredis";
import { loadWorkerConfig } from "../../app/config.ts";
import { parseUserArg, UserErasure, type ErasureCounts } from "../../app/user-erasure.ts";
import { CHANNEL_MODULES } from "../../channels/index.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import { silentLogger } from "../../engine/ports.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import { RedisStateStore } from "../../engine/state/redis-store.ts";
import { BullmqSurveyQueue } from "../../stats/queue/bullmq-survey-queue.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, type CliIo } from "../io.ts";
import { withLockedStore } from "../stats-source.ts";

export const summary = "Erase one person's comments and identifiers everywhere botflow keeps them (figures stay)";

const USAGE = `usage: botflow erase --user <channel>:<id> [--json] [--data-dir DIR] [--schema NAME]

Clears the person's comment texts, conversation id and identifying start variables (all but
agent, team, ticket, tags, topic) from the survey records and the dialogue list, their trigger
rows, and (with REDIS_URL) their conversation state, channel storage and the queue's kept jobs.
Every figure stays what it was. <id> is the conversation id on the channel, as a trigger's "to"
names it: a Telegram chat id, a WhatsApp wa_id, a Teams conversation id, a web chat visitor id.
  --user C:ID      the person, e.g. telegram:42 or teams:a:1xyz (the id is all after the first :)
  --json           print the counts as JSON
  --data-dir DIR   the embedded store's folder (default BOTFLOW_DATA_DIR or ./data)
  --schema NAME    the statistics schema (default BOTFLOW_DB_SCHEMA or botflow_stats)
Safe to repeat: a second run finds nothing left and prints zeros.`;

const CHANNELS = CHANNEL_MODULES.map((m) => m.name);

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { user: { type: "string" }, json: { type: "boolean" }, "data-dir": { type: "string" }, schema: { type: "string" } }, allowPositionals: false },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  if (v.user === undefined) {
    printUsageError(io, USAGE, "--user <channel>:<id> is required");
    return EXIT_USAGE;
  }
  const user = parseUserArg(v.user, CHANNELS);
  if (typeof user === "string") {
    printUsageError(io, USAGE, user);
    return EXIT_USAGE;
  }
  let counts: ErasureCounts;
  try {
    // The worker's rules for REDIS_URL, the queue name and prefix (app/config.ts).
    const services = loadWorkerConfig(io.env);
    const redis = services.redisUrl !== undefined ? new Redis(services.redisUrl, { maxRetriesPerRequest: 2 }) : undefined;
    const statePrefix = io.env.BOTFLOW_STATE_PREFIX ?? "botflow:";
    const queue = redis ? new BullmqSurveyQueue({ connection: redis, settings: services.queue }) : undefined;
    try {
      counts = await withLockedStore(io, v, "erase", (store) =>
        new UserErasure({
          sql: { db: store.sql, schema: store.schema },
          state: redis ? new RedisStateStore(redis, { keyPrefix: statePrefix }) : new MemoryStateStore(),
          channelStorage: redis ? new RedisChannelStorage(redis, { keyPrefix: `${statePrefix}channel:` }) : new MemoryChannelStorage(),
          modules: CHANNEL_MODULES,
          ...(queue ? { queues: { jobs: queue.queue, dead: queue.dead.queue } } : {}),
          logger: silentLogger,
        }).erase(user),
      );
    } finally {
      await queue?.close();
      redis?.disconnect();
    }
  } catch (err) {
    println(io.stderr, `botflow erase: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  if (v.json) println(io.stdout, JSON.stringify({ user: { channel: user.channel }, erased: counts }));
  else {
    println(io.stdout, `erased on ${user.channel}: ${counts.surveys} survey records, ${counts.triggers} triggers, ${counts.conversations} conversations, ${counts.channelEntries} channel entries, ${counts.queueJobs} queue jobs`);
    if (counts.queued > 0) println(io.stdout, `${counts.queued} of their survey events are still queued: run botflow erase again once the workers stored them`);
    if (!io.env.REDIS_URL) println(io.stdout, "embedded: conversation state and channel storage live in botflow serve's memory; erase them there with DELETE /api/users/{channel}/{id}");
  }
  return EXIT_OK;
}
