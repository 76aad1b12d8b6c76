/**
 * The trigger API in production mode on the machine's real Redis and PostgreSQL, each test on
 * its own prefixes and schema (removed after): two web processes sharing them start one dialogue
 * per key however the calls are spread over them, and a delayed trigger lives in Redis, so a
 * SIGKILL of `botflow serve` loses nothing and the next processes send it exactly once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi, type RecordedCall } from "../channels/telegram-fake-bot-api.ts";
import { newChat } from "../channels/telegram-updates.ts";
import { productionEnv, TEST_DATABASE_URL, type ProductionEnv } from "../helpers/production-env.ts";
import { API_TOKEN, trigger, triggerState, until, untilState } from "./trigger-api-harness.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Fresh prefixes and schema for one test, removed after it (after its processes are gone). */
function production(): ProductionEnv {
  const prod = productionEnv();
  cleanups.push(() => prod.cleanup());
  return prod;
}

async function fakeBotApi(): Promise<FakeBotApi> {
  const api = await new FakeBotApi(TOKEN).start();
  cleanups.push(() => api.stop());
  return api;
}

const telegramEnv = (api: FakeBotApi) => ({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_INSECURE: "true", BOTFLOW_TOKEN: API_TOKEN });

const sends = (api: FakeBotApi, chat: number): RecordedCall[] => api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat && c.status === 200);

/** The trigger rows PostgreSQL holds under `key`, and for `recipient` under any key. */
async function triggerRows(schema: string, key: string, recipient: string): Promise<{ byKey: number; byRecipient: number }> {
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const count = async (where: string, value: string) => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.survey_trigger WHERE ${where} = $1`, [value])).rows[0]?.n);
    return { byKey: await count("idempotency_key", key), byRecipient: await count("recipient", recipient) };
  } finally {
    await db.end();
  }
}

describe("trigger API in production mode (Redis + PostgreSQL)", () => {
  it("two web processes started together on one Redis and PostgreSQL start one dialogue for a key POSTed to both concurrently", async () => {
    const prod = production();
    const api = await fakeBotApi();
    // Started at once: both migrate the fresh schema (one waits for the other's lock).
    const apps: TestApp[] = await Promise.all([0, 1].map(() => startTestApp({ ...prod.env, ...telegramEnv(api) })));
    for (const t of apps) cleanups.push(() => t.dispose());
    expect(apps.map((t) => t.app.config.mode)).toEqual(["production", "production"]);
    const [a, b] = (await Promise.all(apps.map(async (t) => (await t.app.listen()).url))) as [string, string];

    const chat = newChat();
    const key = `T-${randomUUID()}`;
    const body = { channel: "telegram", to: String(chat), scenario: "csat", key, variables: { agent: "olena", ticket: key } };
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => trigger(i % 2 === 0 ? a : b, body)));
    const id = answers[0]?.body.id as string;
    expect(new Set(answers.map((x) => x.body.id))).toEqual(new Set([id]));
    expect(answers.filter((x) => x.status === 202)).toHaveLength(1);
    expect(answers.filter((x) => x.status === 200).map((x) => x.body.result)).toEqual(Array(9).fill("duplicate"));

    await until(() => sends(api, chat)[0]);
    const sent = await untilState(a, id, "sent");
    expect(await triggerState(b, id)).toEqual(sent); // one record, whichever process is asked
    await new Promise((r) => setTimeout(r, 1_000)); // a second send would have had time to arrive
    expect(sends(api, chat)).toHaveLength(1);
    expect(await trigger(b, body)).toMatchObject({ status: 200, body: { result: "duplicate", id, state: "sent" } });
    expect(await triggerRows(prod.env.BOTFLOW_DB_SCHEMA, key, String(chat))).toEqual({ byKey: 1, byRecipient: 1 });
  });

  it("many keys spread over both processes at once: one question per key", async () => {
    const prod = production();
    const api = await fakeBotApi();
    const apps: TestApp[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await startTestApp({ ...prod.env, ...telegramEnv(api) });
      cleanups.push(() => t.dispose());
      apps.push(t);
    }
    const urls = await Promise.all(apps.map(async (t) => (await t.app.listen()).url));
    const chats = Array.from({ length: 12 }, () => newChat());
    // Each key three times on each process, all at once.
    const calls = chats.flatMap((chat) => Array.from({ length: 6 }, (_, i) => ({ url: urls[i % 2] as string, chat })));
    const answers = await Promise.all(calls.map(({ url, chat }) => trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", key: `K-${chat}` }).then((r) => ({ chat, ...r }))));
    for (const chat of chats) {
      const mine = answers.filter((x) => x.chat === chat);
      expect(new Set(mine.map((x) => x.body.id)).size).toBe(1);
      expect(mine.map((x) => x.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    }
    await until(() => chats.every((c) => sends(api, c).length === 1), 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const chat of chats) expect(sends(api, chat)).toHaveLength(1);
    expect(api.calls.filter((c) => c.method === "sendMessage")).toHaveLength(chats.length);
  });

  it("a delayed trigger survives SIGKILL of botflow serve right after the call: the next process sends it once, when it is due", async () => {
    const prod = production();
    const api = await fakeBotApi();
    const env = await serveEnv(prod, api);

    const first = serve(env);
    const url = await listening(first);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", delay: "3s", key: `K-${randomUUID()}` });
    first.child.kill("SIGKILL");
    expect(answer).toMatchObject({ status: 202, body: { result: "scheduled", state: "scheduled" } });
    const due = Date.parse(answer.body.runAt as string);
    await first.exited;
    expect(sends(api, chat)).toHaveLength(0);

    const second = serve(env);
    const next = await listening(second); // up about when it is due (it takes a few seconds to boot)
    await until(() => sends(api, chat)[0], 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(due - 50);
    expect(sends(api, chat)[0]?.payload.text).toContain("rate the quality of service");
    const state = await untilState(next, answer.body.id as string, "sent");
    expect(Date.parse(state.sentAt as string)).toBeGreaterThanOrEqual(due - 50);
    await new Promise((r) => setTimeout(r, 3_000)); // no second copy, from the recovery or BullMQ
    expect(sends(api, chat)).toHaveLength(1);
  });

  it("a delayed trigger whose time passed while no process ran is sent once by the two processes that start after", async () => {
    const prod = production();
    const api = await fakeBotApi();
    const env = await serveEnv(prod, api);

    const first = serve(env);
    const url = await listening(first);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", delay: "2s", key: `K-${randomUUID()}` });
    first.child.kill("SIGKILL");
    expect(answer).toMatchObject({ status: 202, body: { result: "scheduled" } });
    await first.exited;
    const due = Date.parse(answer.body.runAt as string);
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now()) + 500));
    expect(sends(api, chat)).toHaveLength(0);

    // Both recover it from PostgreSQL and both run a worker on its queue: still one job, one send.
    const [b, c] = [serve(env, "b"), serve(env, "c")];
    const urls = await Promise.all([listening(b), listening(c)]);
    await until(() => sends(api, chat)[0], 15_000);
    for (const u of urls) await untilState(u, answer.body.id as string, "sent");
    await new Promise((r) => setTimeout(r, 3_000));
    expect(sends(api, chat)).toHaveLength(1);
  });
});

/** `botflow serve` in production mode on `prod`, Telegram on the fake, in its own temporary folder. */
async function serveEnv(prod: ProductionEnv, api: FakeBotApi): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-trigger-prod-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return { ...prod.env, ...telegramEnv(api), PORT: "0", BOTFLOW_DATA_DIR: dir, BOTFLOW_WATCH: "false", NODE_ENV: "production" };
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

/** Spawns `botflow serve` (killed after the test); `name` gives each of several its own data folder. */
function serve(env: Record<string, string>, name = "a"): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), "serve"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, BOTFLOW_DATA_DIR: path.join(env.BOTFLOW_DATA_DIR ?? tmpdir(), name) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const p: Proc = { child, stdout: "", stderr: "", exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout.on("data", (d: Buffer) => (p.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (p.stderr += d.toString()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await p.exited;
    }
  });
  return p;
}

/** The URL the process logs once it listens. */
async function listening(p: Proc): Promise<string> {
  const re = /"url":"(http:\/\/[^"]+)".*botflow serve is listening/;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = re.exec(p.stdout);
    if (m) return m[1] as string;
    if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`botflow serve did not start:\n${p.stderr}\n${p.stdout.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
