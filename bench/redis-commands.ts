/**
 * Redis commands per inbound update on the production webhook path, web process and worker
 * together: the real web process (composeApp, production mode) with the Telegram channel on a
 * local fake Bot API, a SurveyWorker in the same process folding into PostgreSQL, and a Redis
 * server of its own (so nobody else's commands are counted). Plays CSAT conversations
 * (/start, a rating tap, a comment: three updates each) with `--in-flight` conversations at a
 * time, waits until the worker stored every survey, and prints the INFO commandstats delta per
 * update: every command (those Lua scripts call included), the scripts (EVALSHA/EVAL) and
 * BullMQ jobs per update.
 *
 * @example
 * npx tsx bench/redis-commands.ts --conversations=200 --in-flight=1
 * npx tsx bench/redis-commands.ts --conversations=600 --in-flight=50
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { composeApp } from "../app/compose.ts";
import { loadConfig } from "../app/config.ts";
import { createLogger } from "../app/logger.ts";
import { BullmqSurveyQueue } from "../stats/queue/bullmq-survey-queue.ts";
import { PgSurveyStore } from "../stats/store/pg-survey-store.ts";
import { SurveyWorker } from "../stats/worker.ts";
import { FakeBotApi, type RecordedCall } from "../test/channels/telegram-fake-bot-api.ts";
import { startUpdate, tapUpdate, textUpdate } from "../test/channels/telegram-updates.ts";
import { OwnRedis } from "../test/helpers/redis-server.ts";

const TOKEN = "7012345678:AAE-bench_Token_0123456789abcdef";
const SECRET = "bench-secret_0123456789";
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** `cmdstat_<name>:calls=N,…` lines as { name: N }. */
async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info("commandstats");
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { conversations: { type: "string", default: "200" }, "in-flight": { type: "string", default: "1" } } });
  const conversations = Number(values.conversations);
  const inFlight = Number(values["in-flight"]);
  const id = randomUUID().replace(/-/g, "").slice(0, 12);
  const schema = `bench_${id}`;
  const redisServer = await OwnRedis.start();
  const api = await new FakeBotApi(TOKEN).start();
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-redis-commands-"));
  const config = loadConfig(
    {
      PORT: "0",
      BOTFLOW_WATCH: "false",
      BOTFLOW_DATA_DIR: path.join(dir, "data"),
      BOTFLOW_SCENARIOS_DIR: path.resolve(import.meta.dirname, "../scenarios"),
      REDIS_URL: redisServer.url,
      DATABASE_URL,
      BOTFLOW_DB_SCHEMA: schema,
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: api.apiRoot,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
    { cwd: dir },
  );
  const app = await composeApp(config, { logger: createLogger("error") });
  const { url } = await app.listen();
  const workerRedis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const store = new PgSurveyStore({ connectionString: DATABASE_URL, schema });
  await store.migrate();
  const settings = { name: config.queueName, prefix: config.queuePrefix };
  const worker = new SurveyWorker({ connection: workerRedis, store, settings });
  await worker.start();
  const stats = new Redis(redisServer.url);
  const db = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });

  const post = async (update: unknown) => {
    const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update) });
    await res.text();
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  const accepted = () => api.calls.filter((c) => c.method === "sendMessage" && c.status === 200);
  const lastQuestion = (chat: number): { call: RecordedCall; messageId: number } => {
    const sent = accepted();
    for (let i = sent.length - 1; i >= 0; i--) {
      const c = sent[i] as RecordedCall;
      if (c.payload.chat_id === chat && c.payload.reply_markup !== undefined) return { call: c, messageId: 5001 + i };
    }
    throw new Error(`chat ${chat} got no rating question`);
  };
  const play = async (chat: number) => {
    await post(startUpdate(chat));
    const q = lastQuestion(chat);
    const keyboard = q.call.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] };
    await post(tapUpdate(chat, (keyboard.inline_keyboard.flat()[3] as { callback_data: string }).callback_data, q.messageId, keyboard));
    await post(textUpdate(chat, `comment from ${chat}`));
  };

  // Warm up (connections, scripts loaded) outside the measurement.
  await play(900_000_001);
  const drained = async (stored: number) => {
    for (let i = 0; i < 2_400; i++) {
      const c = await (app.services.surveys as BullmqSurveyQueue).counts();
      const { rows } = await db.query(`select count(*)::int as n from "${schema}".survey where completed`);
      if (c.waiting + c.active + c.delayed === 0 && (rows[0] as { n: number }).n >= stored) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("the worker did not store every survey within 60 s");
  };
  await drained(1);
  const before = await commandStats(stats);
  const jobsBefore = Number(await stats.get(`${config.queuePrefix}:${config.queueName}:id`)) || 0;
  const completedBefore = (await (app.services.surveys as BullmqSurveyQueue).counts()).completed;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < conversations) await play(1_000_000 + next++);
    }),
  );
  const webMs = performance.now() - started;
  await drained(conversations + 1);
  const after = await commandStats(stats);
  const updates = conversations * 3;
  let total = 0;
  const rows: [string, number][] = [];
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0 && name !== "info") {
      total += d;
      rows.push([name, d]);
    }
  }
  rows.sort((a, b) => b[1] - a[1]);
  const scripts = (after.get("evalsha") ?? 0) + (after.get("eval") ?? 0) - (before.get("evalsha") ?? 0) - (before.get("eval") ?? 0);
  const counts = await (app.services.surveys as BullmqSurveyQueue).counts();
  const jobs = Math.max(counts.completed - completedBefore, (Number(await stats.get(`${config.queuePrefix}:${config.queueName}:id`)) || 0) - jobsBefore);
  console.log(`${conversations} CSAT conversations (${updates} updates), ${inFlight} in flight, ${((updates / webMs) * 1000).toFixed(0)} upd/s through the web process`);
  console.log(`Redis commands per update (web + worker, Lua-internal included): ${(total / updates).toFixed(1)}; scripts per update: ${(scripts / updates).toFixed(2)}; jobs per update: ≥ ${(jobs / updates).toFixed(2)}`);
  console.log(rows.slice(0, 20).map(([n, d]) => `  ${n.padEnd(22)} ${(d / updates).toFixed(2)}`).join("\n"));

  await worker.close();
  await workerRedis.quit();
  await stats.quit();
  await db.end();
  await app.close();
  await api.stop();
  await redisServer.destroy();
  await rm(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  await c.query(`drop schema if exists "${schema}" cascade`);
  await c.end();
}

await main();
