/**
 * `botflow webhooks`: the outgoing webhooks' dead letter. With REDIS_URL it reads the BullMQ
 * outbox that `botflow worker` delivers from; without it, the embedded web process at --url
 * (its in-memory outbox, through GET /api/webhooks/dead and POST /api/webhooks/replay).
 */
import { Redis } from "ioredis";
import { pingRedis } from "../../app/connectivity.ts";
import { loadWorkerConfig } from "../../app/config.ts";
import { listDeadWebhooks, replayDeadWebhooks, type DeadWebhook } from "../../webhooks/replay.ts";
import { bullmqWebhookOutbox, WEBHOOK_CHANNEL, WEBHOOK_QUEUE, type WebhookOutbox } from "../../webhooks/webhook-outbox.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, type CliIo } from "../io.ts";

export const summary = "List the outgoing webhooks that gave up (the dead letter) and send them again";

const USAGE = `usage: botflow webhooks list-dead [--prefix PREFIX | --url URL]
       botflow webhooks replay (--id EVENT_ID | --all) [--prefix PREFIX | --url URL]

list-dead   the deliveries that gave up: delivery id (<event id>@<endpoint key>), attempts, time, reason
replay      sends them again from their first attempt, same event id and body, signed anew
  --id ID        one event (e.g. s-42.survey.low_score; every endpoint's delivery of it) or one delivery id
  --all          every dead delivery
  --prefix P     BOTFLOW_QUEUE_PREFIX of the queues (production; default bull)
  --url URL      the embedded web process when REDIS_URL is unset (BOTFLOW_URL, default http://127.0.0.1:3000)
With REDIS_URL set, the BullMQ queue ${WEBHOOK_QUEUE}-${WEBHOOK_CHANNEL} is read directly; otherwise the running
web process is asked (BOTFLOW_TOKEN when it has one). Never prints payloads (they hold comments).`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { id: { type: "string" }, all: { type: "boolean" }, prefix: { type: "string" }, url: { type: "string" } }, allowPositionals: true },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const [action, ...extra] = parsed.positionals;
  if ((action !== "list-dead" && action !== "replay") || extra.length > 0) {
    printUsageError(io, USAGE, action === undefined ? "say list-dead or replay" : `unknown action "${[action, ...extra].join(" ")}": use list-dead or replay`);
    return EXIT_USAGE;
  }
  if (action === "replay" && (v.id === undefined) === (v.all !== true)) {
    printUsageError(io, USAGE, "replay needs exactly one of --id EVENT_ID or --all");
    return EXIT_USAGE;
  }
  const which = v.all === true ? "all" : { eventId: v.id ?? "" };
  let config;
  try {
    config = loadWorkerConfig(io.env, v.prefix !== undefined ? { prefix: v.prefix } : {});
  } catch (err) {
    println(io.stderr, `botflow webhooks: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  const redisUrl = config.redisUrl;
  if (redisUrl !== undefined) {
    try {
      await pingRedis(redisUrl);
    } catch (err) {
      println(io.stderr, `botflow webhooks: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT_FAILED;
    }
    const connection = new Redis(redisUrl);
    const outbox: WebhookOutbox = bullmqWebhookOutbox(connection, config.queue.prefix);
    try {
      if (action === "list-dead") printDead(io, await listDeadWebhooks(outbox));
      else printReplayed(io, await replayDeadWebhooks(outbox, which), which);
      return EXIT_OK;
    } finally {
      await outbox.close();
      connection.disconnect();
    }
  }
  const base = (v.url ?? io.env.BOTFLOW_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  if (!/^https?:\/\//.test(base)) {
    printUsageError(io, USAGE, `--url must be an http(s) URL; got "${base}"`);
    return EXIT_USAGE;
  }
  const headers: Record<string, string> = io.env.BOTFLOW_TOKEN ? { authorization: `Bearer ${io.env.BOTFLOW_TOKEN}` } : {};
  let res: Response;
  try {
    res =
      action === "list-dead"
        ? await fetch(`${base}/api/webhooks/dead`, { headers })
        : await fetch(`${base}/api/webhooks/replay`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(which === "all" ? { all: true } : { id: which.eventId }) });
  } catch {
    println(io.stderr, `botflow webhooks: no botflow answers at ${base}: start it, pass --url, or set REDIS_URL to read the production queue`);
    return EXIT_FAILED;
  }
  if (res.status === 404) {
    println(io.stderr, `botflow webhooks: the botflow at ${base} sends no webhooks (BOTFLOW_WEBHOOK_URL is not set there)`);
    return EXIT_FAILED;
  }
  if (!res.ok) {
    println(io.stderr, `botflow webhooks: ${base} answered ${res.status}${res.status === 401 ? ": set BOTFLOW_TOKEN to the server's token" : ""}`);
    return EXIT_FAILED;
  }
  const body = (await res.json()) as { dead?: DeadWebhook[]; replayed?: string[] };
  if (action === "list-dead") printDead(io, body.dead ?? []);
  else printReplayed(io, body.replayed ?? [], which);
  return EXIT_OK;
}

function printDead(io: CliIo, dead: readonly DeadWebhook[]): void {
  println(io.stdout, `${dead.length} webhook deliver${dead.length === 1 ? "y" : "ies"} in the dead letter`);
  for (const d of dead) println(io.stdout, `${d.id}\t${d.attempts} attempt(s)\t${d.deadAt === null ? "-" : new Date(d.deadAt).toISOString()}\t${d.reason}`);
  if (dead.length > 0) println(io.stdout, 'Fix the receiver, then run "botflow webhooks replay --all" (or --id <event id>).');
}

function printReplayed(io: CliIo, ids: readonly string[], which: { eventId: string } | "all"): void {
  if (ids.length === 0 && which !== "all") println(io.stdout, `no dead delivery of ${which.eventId}; "botflow webhooks list-dead" lists them`);
  else println(io.stdout, `replayed ${ids.length} webhook deliver${ids.length === 1 ? "y" : "ies"}`);
  for (const id of ids) println(io.stdout, id);
}
