/**
 * The trigger API in production mode on the real Redis and PostgreSQL: two web processes sharing
 * them start one dialogue for a key retried concurrently on both, and a delayed trigger survives a
 * SIGKILL of `botflow serve` and fires once after a new process starts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat } from "../channels/telegram-updates.ts";
import { productionEnv } from "../helpers/production-env.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const API_TOKEN = "trigger-production-token-0123";
const prod = productionEnv();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(() => prod.cleanup());

async function trigger(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/api/dialogues`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sentTo = (api: FakeBotApi, chat: number) => api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat && c.status === 200);

async function fakeBotApi(): Promise<FakeBotApi> {
  const api = await new FakeBotApi(TOKEN).start();
  cleanups.push(() => api.stop());
  return api;
}

const telegramEnv = (api: FakeBotApi) => ({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_INSECURE: "true", BOTFLOW_TOKEN: API_TOKEN });

describe("trigger API in production mode", () => {
  it("starts one dialogue for a key retried concurrently on two web processes sharing Redis and PostgreSQL", async () => {
    const api = await fakeBotApi();
    const apps: TestApp[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await startTestApp({ ...prod.env, ...telegramEnv(api) });
      cleanups.push(() => t.dispose());
      apps.push(t);
    }
    const [a, b] = await Promise.all(apps.map(async (t) => (await t.app.listen()).url));
    const chat = newChat();
    const body = { channel: "telegram", to: String(chat), scenario: "csat", key: `T-${randomUUID()}`, variables: { agent: "olena" } };
    const answers = await Promise.all([a, b, a, b, a, b].map((url) => trigger(url as string, body)));
    expect(new Set(answers.map((x) => x.body.id)).size).toBe(1);
    expect(answers.map((x) => x.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    await until(() => sentTo(api, chat).length === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(sentTo(api, chat)).toHaveLength(1);
  });

  it("keeps a delayed trigger through a SIGKILL of botflow serve and sends it once after a new process starts", async () => {
    const api = await fakeBotApi();
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-trigger-kill-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env = { ...prod.env, ...telegramEnv(api), PORT: "0", BOTFLOW_DATA_DIR: path.join(dir, "data"), BOTFLOW_WATCH: "false", NODE_ENV: "production" };

    const first = serve(env);
    const url = await listening(first);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat", delay: "3s", key: `K-${randomUUID()}` });
    expect(answer).toMatchObject({ status: 202, body: { result: "scheduled" } });
    const due = Date.parse(answer.body.runAt as string);
    first.child.kill("SIGKILL");
    await first.exited;
    expect(sentTo(api, chat)).toHaveLength(0);

    const second = serve(env);
    await listening(second);
    await until(() => sentTo(api, chat).length === 1);
    expect(Date.now()).toBeGreaterThanOrEqual(due - 50);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(sentTo(api, chat)).toHaveLength(1);
  });
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function serve(env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/botflow.js"), "serve"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const p: Proc = { child, stdout: "", stderr: "", exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))) };
  child.stdout.on("data", (d: Buffer) => (p.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (p.stderr += d.toString()));
  cleanups.push(async () => void child.kill("SIGKILL"));
  return p;
}

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
