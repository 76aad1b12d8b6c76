/**
 * Redis goes away for 15 s under a production web process (its own redis-server, AOF on, so a
 * stop and start is a real outage, not a data loss). Telegram keeps redelivering the taps it
 * could not deliver. Every webhook request is answered within the deadline (5 s) + 1 s, none
 * with a 2xx while nothing could be saved, and once Redis is back every conversation completes:
 * each survey stored once in PostgreSQL with its rating.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { SurveyWorker } from "../../stats/worker.ts";
import { startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat, startUpdate, tapUpdate, textUpdate } from "../channels/telegram-updates.ts";
import { OwnRedis } from "../helpers/redis-server.ts";
import { PG_URL } from "../stats/store-harness.ts";

const TOKEN = "7012345678:AAE-outage_Token_0123456789abcdefXYZ";
const SECRET = "outage-secret_5f2c9d1e";
const DEADLINE_MS = 5_000;
const OUTAGE_MS = 15_000;
const CHATS = 6;

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe("a 15 s Redis outage under the production web process", () => {
  it("answers every webhook within the deadline + 1 s, never 2xx unsaved, and completes every conversation after", { timeout: 120_000 }, async () => {
    const redis = await OwnRedis.start();
    cleanups.push(() => redis.destroy());
    const id = randomUUID().replace(/-/g, "").slice(0, 12);
    const store = new PgSurveyStore({ connectionString: PG_URL, schema: `test_${id}`, maxConnections: 4 });
    await store.migrate();
    cleanups.push(async () => {
      await store.dropSchema();
      await store.close();
    });
    const api = await new FakeBotApi(TOKEN).start();
    cleanups.push(() => api.stop());
    const t: TestApp = await startTestApp({
      REDIS_URL: redis.url,
      DATABASE_URL: PG_URL,
      BOTFLOW_QUEUE: `test-${id}`,
      BOTFLOW_DB_SCHEMA: `test_${id}`,
      BOTFLOW_SWEEP_INTERVAL: "1h",
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: api.apiRoot,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    });
    cleanups.push(() => t.dispose());
    const { url } = await t.app.listen();
    const workerRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
    workerRedis.on("error", () => {}); // the worker reconnects on its own; the outage is expected
    const worker = new SurveyWorker({ connection: workerRedis, store: new PgSurveyStore({ connectionString: PG_URL, schema: `test_${id}`, maxConnections: 2 }), settings: { name: `test-${id}` } });
    await worker.start();
    cleanups.push(async () => {
      await worker.close();
      workerRedis.disconnect();
    });

    const post = async (update: unknown): Promise<{ status: number; ms: number; retryAfter: string | null }> => {
      const began = Date.now();
      const res = await fetch(`${url}/telegram/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      return { status: res.status, ms: Date.now() - began, retryAfter: res.headers.get("retry-after") };
    };

    // Each chat is waiting on its rating keyboard when Redis goes away.
    const chats = Array.from({ length: CHATS }, () => newChat());
    const taps = new Map<number, ReturnType<typeof tapUpdate>>();
    for (const [i, chat] of chats.entries()) {
      expect((await post(startUpdate(chat))).status).toBe(200);
      const sent = api.payloads("sendMessage");
      taps.set(chat, tapUpdate(chat, `p1:${i % 5}`, 5000 + sent.length, (sent.at(-1) as { reply_markup: unknown }).reply_markup));
    }

    await redis.stop();
    const during: { status: number; ms: number; retryAfter: string | null }[] = [];
    const outageEnds = Date.now() + OUTAGE_MS;
    // Like Telegram: the undelivered taps come again and again until they are taken.
    while (Date.now() < outageEnds) {
      const round = await Promise.all(chats.map((c) => post(taps.get(c))));
      during.push(...round);
      await new Promise((r) => setTimeout(r, 500));
    }
    await redis.start();

    expect(during.length).toBeGreaterThanOrEqual(CHATS * 2);
    const slowest = Math.max(...during.map((d) => d.ms));
    expect(slowest, `slowest answer during the outage (ms); statuses ${[...new Set(during.map((d) => d.status))]}`).toBeLessThanOrEqual(DEADLINE_MS + 1_000);
    expect(during.filter((d) => d.status < 300), "2xx answers while Redis was down").toEqual([]);
    expect(during.every((d) => d.status === 503 && d.retryAfter !== null)).toBe(true);
    // One warning when Redis went away and one line when it was back, not one per request or reconnect.
    expect(t.logs.filter((l) => l.includes("Redis unreachable"))).toHaveLength(1);

    // Redis is back: the redeliveries are taken, each once, and every dialogue completes.
    for (const chat of chats) {
      await vi.waitFor(async () => expect((await post(taps.get(chat))).status).toBe(200), { timeout: 20_000, interval: 250 });
      expect((await post(textUpdate(chat, "Back again, thanks"))).status).toBe(200);
    }
    for (const [i, chat] of chats.entries()) {
      await vi.waitFor(async () => expect(await storedDialogue(store, String(chat))).toMatchObject({ completed: true, score: (i % 5) + 1, comment: "Back again, thanks" }), { timeout: 20_000, interval: 100 });
    }
    const back = t.logs.filter((l) => l.includes('"msg":"Redis is back"'));
    expect(back).toHaveLength(1);
    expect(JSON.parse(back[0]!)).toMatchObject({ outageMs: expect.any(Number), reconnects: expect.any(Number) });
    expect(JSON.parse(back[0]!).outageMs).toBeGreaterThanOrEqual(OUTAGE_MS - 1_000);
    const f = await store.figures({});
    expect(f).toMatchObject({ surveys: CHATS, rated: CHATS });
    // One rating keyboard answered per chat: the redeliveries after recovery were taken once.
    expect(api.payloads("sendMessage").filter((p) => p.text === "Thank you for your feedback!")).toHaveLength(CHATS);
  });
});
