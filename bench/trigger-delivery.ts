/**
 * Issue 12's benchmark: Telegram surveys triggered through `POST /api/dialogues` of the real web
 * process, delivered to the fake Bot API enforcing `--rate` sendMessage calls in any sliding
 * second. It prints the API's accept rate (triggers answered 202 per second) beside a bare fastify
 * route that only JSON-parses and enqueues the same job shape into an outbox of the same kind
 * with no handler (InProcessOutbox, or BullmqOutbox with production services; aim ≥ 0.5 of it), the achieved rate of the first questions against the limit (aim
 * ≥ 0.9 of it) and the 429s the fake answered (aim none).
 *
 * Three processes, as in a deployment: the web process (composeApp, embedded or production
 * services) and the bare server each in a child of their own, the client loop and the fake Bot
 * API in this one. In one process the app's PGlite queries (synchronous WebAssembly) would block
 * the client and the bare server too, and its deliveries would be charged to the baseline.
 *
 * @example
 * npx tsx bench/trigger-delivery.ts                              # 10,000 triggers at 30/s, about 8 minutes
 * npx tsx bench/trigger-delivery.ts --triggers=600               # about 50 s
 * npx tsx bench/trigger-delivery.ts --services=production        # Redis and PostgreSQL (REDIS_URL, DATABASE_URL)
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { perSecondBucket } from "../channels/rate-limit/rate-config.ts";
import type { TriggerOutbox } from "../triggers/trigger-service.ts";
import { FakeBotApi } from "../test/channels/telegram-fake-bot-api.ts";

const HERE = fileURLToPath(import.meta.url);
const BOT_TOKEN = "7012345678:AAE-bench_Token_0123456789abcdefXYZ";
const API_TOKEN = "trigger-bench-token-0123456789";
/** Chat ids of this run (distinct, private-chat shaped); the warm-up's start WARMUP_OFFSET higher. */
const FIRST_CHAT = 900_000_000;
const WARMUP_OFFSET = 50_000_000;

export interface TriggerBenchOptions {
  triggers: number;
  /** The fake's limit and the app's TELEGRAM_MESSAGES_PER_SECOND. */
  rate: number;
  /** Requests the client keeps in flight. */
  inFlight: number;
  /** Triggers per turn: the two servers take turns chunk by chunk, the order flipping every chunk. */
  chunk: number;
  /** Triggers each server gets before the measurement (the app's are delivered, then the bucket refills). */
  warmup: number;
  services: "embedded" | "production";
}

interface SideFigures {
  ms: number;
  /** CPU of the server's process while its chunks ran (the client's is not in it). */
  cpuMs: number;
}

export interface TriggerBenchReport {
  options: TriggerBenchOptions;
  app: SideFigures;
  bare: SideFigures;
  /** First questions received, the burst left out of the steady rate, their times (ms on the fake's clock). */
  delivered: number;
  burst: number;
  firstMs: number;
  burstEndMs: number;
  lastMs: number;
  /** 429s the fake answered from the first measured trigger on, and during the warm-up. */
  rateLimited: number;
  warmupRateLimited: number;
  load: number;
}

/** Runs the benchmark; `progress` hears what it is doing. Throws when something did not happen as it must. */
export async function benchTriggerDelivery(o: TriggerBenchOptions, progress: (line: string) => void = () => {}): Promise<TriggerBenchReport> {
  const fake = await new FakeBotApi(BOT_TOKEN, { sendMessagesPerSecond: o.rate }).start();
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-trigger-bench-"));
  const prefix = `bench-trg-${randomUUID().slice(0, 8)}`;
  const production = o.services === "production" ? productionEnv(prefix) : undefined;
  const children: Child[] = [];
  try {
    const env: Record<string, string> = {
      PORT: "0",
      BOTFLOW_WATCH: "false",
      BOTFLOW_DATA_DIR: path.join(dir, "data"),
      BOTFLOW_TOKEN: API_TOKEN,
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      TELEGRAM_WEBHOOK_SECRET: "bench-webhook-secret_5f2c9d1e",
      TELEGRAM_MESSAGES_PER_SECOND: String(o.rate),
      ...production?.env,
    };
    const started = await Promise.allSettled([startChild({ kind: "app", env }), startChild({ kind: "bare", ...(production ? { redis: { url: production.env.REDIS_URL as string, prefix } } : {}) })]);
    for (const s of started) if (s.status === "fulfilled") children.push(s.value);
    const [app, bare] = started.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    }) as [Child, Child];
    progress(`web process (${o.services}) and bare server up; warm-up: ${o.warmup} triggers each`);

    const chats = new FirstQuestions(fake);
    if (o.warmup > 0) {
      await drive(bare.url, FIRST_CHAT + WARMUP_OFFSET, o.warmup, o.inFlight, "warm");
      await drive(app.url, FIRST_CHAT + WARMUP_OFFSET, o.warmup, o.inFlight, "warm");
      await chats.wait(FIRST_CHAT + WARMUP_OFFSET, o.warmup, o.rate, app);
      // The bot's bucket refills and the fake's window empties before the measured burst.
      await new Promise((r) => setTimeout(r, 1_100 + (perSecondBucket("bot", o.rate).burst * 1000) / o.rate));
    }
    const warmupRateLimited = fake.rateLimited;

    const sides = { app: { ms: 0, cpuMs: 0 }, bare: { ms: 0, cpuMs: 0 } };
    for (let from = 0, c = 0; from < o.triggers; from += o.chunk, c++) {
      const count = Math.min(o.chunk, o.triggers - from);
      const turns: [keyof typeof sides, Child][] = c % 2 === 0 ? [["bare", bare], ["app", app]] : [["app", app], ["bare", bare]];
      for (const [side, child] of turns) {
        const cpu0 = await child.cpuUs();
        const t0 = performance.now();
        await drive(child.url, FIRST_CHAT + from, count, o.inFlight, "bench");
        sides[side].ms += performance.now() - t0;
        sides[side].cpuMs += ((await child.cpuUs()) - cpu0) / 1000;
      }
    }
    progress(`${fmt(o.triggers)} triggers accepted by each; waiting for the first questions (about ${fmt(Math.ceil(o.triggers / o.rate))} s at ${o.rate}/s)`);

    const times = await chats.wait(FIRST_CHAT, o.triggers, o.rate, app);
    const burst = Math.min(perSecondBucket("bot", o.rate).burst, times.length);
    return {
      options: o,
      ...sides,
      delivered: times.length,
      burst,
      firstMs: times[0] ?? 0,
      burstEndMs: times[burst - 1] ?? 0,
      lastMs: times[times.length - 1] ?? 0,
      rateLimited: fake.rateLimited - warmupRateLimited,
      warmupRateLimited,
      load: loadavg()[0] ?? 0,
    };
  } finally {
    await Promise.all(children.map((c) => c.close()));
    await fake.stop();
    await production?.cleanUp();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A server child: its URL, its CPU so far, its last log lines, and a clean close (killed if it will not). */
interface Child {
  url: string;
  cpuUs(): Promise<number>;
  logs(): Promise<string[]>;
  close(): Promise<void>;
}

async function startChild(config: ChildConfig): Promise<Child> {
  const proc: ChildProcess = fork(HERE, ["--serve", JSON.stringify(config)], { cwd: path.dirname(path.dirname(HERE)), execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const waiters = new Map<string, ((m: ChildMessage) => void)[]>();
  // A failed spawn or send is an "error" without (or before) an "exit": either ends the child for us.
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.on("error", () => resolve());
  });
  proc.on("message", (m: ChildMessage) => waiters.get(m.type)?.shift()?.(m));
  const next = <T extends ChildMessage["type"]>(type: T): Promise<Extract<ChildMessage, { type: T }>> =>
    new Promise((resolve, reject) => {
      const list = waiters.get(type) ?? [];
      list.push((m) => resolve(m as Extract<ChildMessage, { type: T }>));
      waiters.set(type, list);
      void exited.then(() => reject(new Error(`the ${config.kind} server process exited (see its output above)`)));
    });
  const ask = <T extends "cpu" | "logs">(type: T) => {
    const answer = next(type);
    proc.send({ type });
    return answer;
  };
  const { url } = await next("ready");
  return {
    url,
    cpuUs: async () => (await ask("cpu")).us,
    logs: async () => (await ask("logs")).lines,
    close: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.send({ type: "close" });
      const timer = setTimeout(() => proc.kill(), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The client loop both servers get: `count` triggers for chats `firstChat`… (distinct chat,
 * distinct key), `inFlight` at a time over kept-alive connections, each answer read; throws
 * unless every answer was a 202. node:http rather than fetch: a third of fetch's CPU per request.
 */
async function drive(url: string, firstChat: number, count: number, inFlight: number, run: string): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  let next = 0;
  const problems: string[] = [];
  const worker = async () => {
    while (next < count && problems.length === 0) {
      const chat = firstChat + next++;
      const body = JSON.stringify({ channel: "telegram", to: String(chat), scenario: "csat", key: `${run}-${chat}` });
      const answer = await post(agent, `${url}/api/dialogues`, body);
      if (answer.status !== 202) problems.push(`chat ${chat}: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  } finally {
    agent.destroy();
  }
  if (problems.length > 0) throw new Error(`${url} did not accept every trigger: ${problems[0]}`);
}

function post(agent: Agent, url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${API_TOKEN}` };
    const req = request(url, { method: "POST", agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The first successful sendMessage of each chat, read from the fake's calls as they arrive. */
class FirstQuestions {
  private readonly first = new Map<number, number>();
  private scanned = 0;
  private repeats = 0;

  constructor(private readonly fake: FakeBotApi) {}

  /** Waits until chats `firstChat`… got a first question each; returns their arrival times (ms on the fake's clock), in order. */
  async wait(firstChat: number, count: number, rate: number, app: Child): Promise<number[]> {
    const times = () => [...this.first].filter(([chat]) => chat >= firstChat && chat < firstChat + count).map(([, at]) => at);
    let got = times().length;
    const done = () => {
      for (; this.scanned < this.fake.calls.length; this.scanned++) {
        const c = this.fake.calls[this.scanned];
        if (!c || c.method !== "sendMessage" || c.status !== 200) continue;
        const chat = Number(c.payload.chat_id);
        if (this.first.has(chat)) this.repeats++;
        else {
          this.first.set(chat, c.at);
          if (chat >= firstChat && chat < firstChat + count) got++;
        }
      }
      return got >= count;
    };
    try {
      await this.fake.waitUntil(done, `first questions to all ${count} chats`, (count / rate) * 1500 + 60_000);
    } catch (err) {
      throw new Error(`${err instanceof Error ? err.message : String(err)} (${got} arrived); the web process's last log lines:\n${(await app.logs()).join("")}`);
    }
    if (this.repeats > 0) throw new Error(`${this.repeats} chats got a second message though nobody answered: a trigger was sent twice`);
    return times().sort((a, b) => a - b);
  }
}

/** What a server child is asked to be: the web process with this environment, or the bare route. */
type ChildConfig = { kind: "app"; env: Record<string, string> } | { kind: "bare"; redis?: { url: string; prefix: string } };
type ChildMessage = { type: "ready"; url: string } | { type: "cpu"; us: number } | { type: "logs"; lines: string[] };

/** The child's side: starts its server, answers the parent's questions, closes on "close". */
async function serveChild(config: ChildConfig): Promise<void> {
  const lines: string[] = [];
  let server: { url: string; close(): Promise<void> };
  if (config.kind === "app") {
    const [{ composeApp }, { loadConfig }, { createLogger }] = await Promise.all([import("../app/compose.ts"), import("../app/config.ts"), import("../app/logger.ts")]);
    const loaded = loadConfig(config.env, { cwd: path.dirname(config.env.BOTFLOW_DATA_DIR ?? tmpdir()) });
    // The production level (info), kept in memory only: the parent asks for the tail when the run fails.
    const write = (line: string) => void (lines.push(line) > 20 && lines.shift());
    const app = await composeApp(loaded, { logger: createLogger(loaded.logLevel, { write }) });
    server = { url: (await app.listen()).url, close: () => app.close() };
  } else {
    server = await startBare(config.redis);
  }
  const send = (m: ChildMessage) => void process.send?.(m);
  process.on("message", (m: { type: string }) => {
    if (m.type === "cpu") {
      const u = process.cpuUsage();
      send({ type: "cpu", us: u.user + u.system });
    } else if (m.type === "logs") send({ type: "logs", lines });
    else if (m.type === "close") void server.close().finally(() => process.exit(0));
  });
  send({ type: "ready", url: server.url });
}

/**
 * The baseline: JSON-parsed by fastify, nothing validated, the job the trigger service would add
 * to the outbox the app's services use (in process, or BullMQ on its own prefix), a 202.
 */
async function startBare(redis: { url: string; prefix: string } | undefined): Promise<{ url: string; close(): Promise<void> }> {
  const { default: Fastify } = await import("fastify");
  let outbox: { add: TriggerOutbox["add"]; close(): Promise<void> };
  let connection: { quit(): Promise<unknown> } | undefined;
  if (redis) {
    const [{ Redis }, { BullmqOutbox }] = await Promise.all([import("ioredis"), import("../triggers/bullmq-outbox.ts")]);
    const r = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection = r;
    outbox = new BullmqOutbox({ connection: r, prefix: `${redis.prefix}-bare`, channels: ["telegram"] });
  } else {
    const { InProcessOutbox } = await import("../triggers/in-process-outbox.ts");
    outbox = new InProcessOutbox();
  }
  // Never started: the jobs only pile up.
  const server = Fastify();
  server.post("/api/dialogues", async (req, reply) => {
    const id = randomUUID();
    await outbox.add({ id, channel: (req.body as { channel: string }).channel, runAt: Date.now(), payload: { triggerId: id } });
    return reply.code(202).send({ id, result: "started" });
  });
  const url = await server.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    close: async () => {
      await server.close();
      await outbox.close();
      await connection?.quit();
    },
  };
}

/** Production services on their own queue prefix, key prefix and schema, removed afterwards. */
function productionEnv(prefix: string): { env: Record<string, string>; cleanUp(): Promise<void> } {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const schema = prefix.replaceAll("-", "_");
  return {
    env: { REDIS_URL: redisUrl, DATABASE_URL: databaseUrl, BOTFLOW_DB_SCHEMA: schema, BOTFLOW_QUEUE_PREFIX: prefix, BOTFLOW_STATE_PREFIX: `${prefix}:state:` },
    async cleanUp() {
      const [{ Redis }, pg] = await Promise.all([import("ioredis"), import("pg")]);
      const redis = new Redis(redisUrl);
      for (let cursor = "0"; ; ) {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        if ((cursor = next) === "0") break;
      }
      await redis.quit();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const aim = (ok: boolean) => (ok ? "✓" : "✗");

/** The report as printed: accept rates and their ratio, delivery against the limit, 429s. */
export function formatReport(r: TriggerBenchReport): string[] {
  const n = r.options.triggers;
  const appRate = (n * 1000) / r.app.ms;
  const bareRate = (n * 1000) / r.bare.ms;
  const ratio = appRate / bareRate;
  const steadyMs = r.lastMs - r.burstEndMs;
  const steady = steadyMs > 0 ? ((r.delivered - r.burst) * 1000) / steadyMs : Number.NaN;
  const overall = r.lastMs > r.firstMs ? (r.delivered * 1000) / (r.lastMs - r.firstMs) : Number.NaN;
  const share = steady / r.options.rate;
  return [
    `accept: botflow ${fmt(appRate)} triggers/s | bare fastify + outbox ${fmt(bareRate)} triggers/s | ratio ${fmt(ratio, 2)} (aim ≥ 0.50) ${aim(ratio >= 0.5)}`,
    `  server CPU per trigger: botflow ${fmt((r.app.cpuMs * 1000) / n)} µs | bare ${fmt((r.bare.cpuMs * 1000) / n)} µs; ${fmt(n)} triggers each (${r.options.services} services), ${r.options.inFlight} in flight, turns of ${fmt(r.options.chunk)}`,
    `delivery: ${fmt(r.delivered)} first questions in ${fmt((r.lastMs - r.firstMs) / 1000, 1)} s; steady ${fmt(steady, 2)} msg/s = ${fmt(share, 3)} of the ${r.options.rate}/s limit (aim ≥ 0.90) ${aim(share >= 0.9)}`,
    `  steady = (${fmt(r.delivered)} − burst ${r.burst}) / (last − the burst's last); overall ${fmt(overall, 2)} msg/s = ${fmt(r.delivered)} / (last − first), the burst included`,
    `429 from the fake: ${r.rateLimited} (aim 0) ${aim(r.rateLimited === 0)}; during the warm-up: ${r.warmupRateLimited}`,
    `load average ${fmt(r.load, 1)} on ${availableParallelism()} cores`,
  ];
}

function positive(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`--${name}=${raw} is not a positive ${integer ? "integer" : "number"}`);
  return n;
}

/** Entry point: parses the flags, runs, prints the report (to `print`) and returns it. */
export async function main(args: string[] = process.argv.slice(2), print: (line: string) => void = (l) => console.log(l)): Promise<TriggerBenchReport> {
  const flags = ["triggers", "rate", "in-flight", "chunk", "warmup", "services"] as const;
  const { values } = parseArgs({ args, options: Object.fromEntries(flags.map((f) => [f, { type: "string" }])) as Record<(typeof flags)[number], { type: "string" }>, strict: true });
  const services = values.services ?? "embedded";
  if (services !== "embedded" && services !== "production") throw new Error(`--services=${services}: use embedded (PGlite, in process) or production (Redis and PostgreSQL)`);
  const triggers = positive("triggers", values.triggers, 10_000);
  const options: TriggerBenchOptions = {
    triggers,
    rate: positive("rate", values.rate, 30, false),
    inFlight: positive("in-flight", values["in-flight"], 64),
    chunk: positive("chunk", values.chunk, 1_000),
    warmup: values.warmup === "0" ? 0 : positive("warmup", values.warmup, Math.min(200, triggers)),
    services,
  };
  print(`trigger-delivery: ${fmt(triggers)} Telegram surveys through POST /api/dialogues, fake Bot API at ${options.rate} sendMessage/s`);
  const report = await benchTriggerDelivery(options, print);
  for (const line of formatReport(report)) print(line);
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const serve = process.argv.indexOf("--serve");
  const run = serve >= 0 ? serveChild(JSON.parse(process.argv[serve + 1] ?? "{}") as ChildConfig) : main();
  run.catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
