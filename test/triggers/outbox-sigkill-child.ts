/**
 * A web process as the SIGKILL test needs it (run by test/triggers/outbox-sigkill.test.ts with
 * `node --import tsx`): opens the BullMQ outbox on the prefix it is given, adds one delayed
 * trigger due `delayMs` from now, prints `added <true|false> <runAt>` and then idles until the
 * parent kills it. No close, no drain.
 *
 * argv: <redis url> <prefix> <trigger id> <delayMs>
 */
import { Redis } from "ioredis";
import { BullmqOutbox } from "../../triggers/bullmq-outbox.ts";

const [url, prefix, id, delayMs] = process.argv.slice(2);
if (!url || !prefix || !id || !delayMs) throw new Error("usage: outbox-sigkill-child.ts <redis url> <prefix> <trigger id> <delayMs>");
const outbox = new BullmqOutbox({ connection: new Redis(url, { maxRetriesPerRequest: null }), prefix, channels: ["telegram"] });
const runAt = Date.now() + Number(delayMs);
const { added } = await outbox.add({ id, channel: "telegram", runAt, payload: { triggerId: id } });
process.stdout.write(`added ${String(added)} ${runAt}\n`);
// Keeps the process (and its Redis connection) alive until SIGKILL.
setInterval(() => {}, 60_000);
