/**
 * `botflow erase --user <channel>:<id>` through the CLI's entry point: on PostgreSQL and Redis
 * (production: survey rows, trigger rows, Redis state and channel storage), on PGlite in a data
 * folder (embedded: the store only), and its usage errors. Real PostgreSQL and Redis, a schema and
 * key prefix of their own.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisChannelStorage } from "../../channels/storage/redis-channel-storage.ts";
import { main } from "../../cli/main.ts";
import { RedisStateStore } from "../../engine/state/redis-store.ts";
import { openSurveyStore } from "../../stats/store/open-survey-store.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import type { SqlSurveyStore } from "../../stats/store/sql-survey-store.ts";
import { fullSurvey, PG_URL } from "../stats/store-harness.ts";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function botflow(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([]), env, cwd: process.cwd() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function seed(store: SqlSurveyStore, run: string): Promise<void> {
  await store.apply([
    ...fullSurvey(`${run}-a`, 5, `comment of the person ${run}`, { conversationId: "4242", context: { agent: "olena", name: "Person Name" } }),
    ...fullSurvey(`${run}-b`, 2, `comment of someone else ${run}`, { conversationId: "5151" }),
  ]);
}

async function figures(store: SqlSurveyStore) {
  return store.figures({ from: "2026-03-01", to: "2026-03-31", timeZone: "UTC" });
}

describe("botflow erase", () => {
  it("on PostgreSQL and Redis erases the person's survey rows, state and channel storage, figures unchanged", async () => {
    const run = randomUUID().slice(0, 8);
    const schema = `test_${randomUUID().replaceAll("-", "")}`;
    const statePrefix = `test-${run}:`;
    const store = new PgSurveyStore({ connectionString: PG_URL, schema });
    await store.migrate();
    const redis = new Redis("redis://127.0.0.1:6379");
    cleanups.push(async () => {
      await store.dropSchema();
      await store.close();
      const keys = await redis.keys(`${statePrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });
    await seed(store, run);
    const state = new RedisStateStore(redis, { keyPrefix: statePrefix });
    const begun = await state.begin("telegram::4242", "d1", 10_000);
    if (begun.status !== "acquired") throw new Error("lock");
    await state.commit("telegram::4242", begun.token, { scenarioId: "csat", scenarioVersion: "v1", dialogue: 1, seq: 1, prompt: null, pendingAction: null, vars: {}, locale: "en", ended: false, startedAt: 0, updatedAt: 0 }, "d1", { stateTtlMs: 60_000, dedupeTtlMs: 60_000 });
    await new RedisChannelStorage(redis, { keyPrefix: `${statePrefix}channel:` }).set("telegram:prompt:4242:p1", [1, 0], 60_000);
    const before = await figures(store);

    const env = { DATABASE_URL: PG_URL, REDIS_URL: "redis://127.0.0.1:6379", BOTFLOW_DB_SCHEMA: schema, BOTFLOW_STATE_PREFIX: statePrefix, BOTFLOW_QUEUE_PREFIX: `test-${run}-q` };
    const out = await botflow(["erase", "--user", "telegram:4242", "--json"], env);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ user: { channel: "telegram" }, erased: { surveys: 1, triggers: 0, conversations: 1, channelEntries: 1, queueJobs: 0, queued: 0 } });
    expect(out.stdout).not.toContain("4242");
    expect(await figures(store)).toEqual(before);
    const rows = (await store.listDialogues({ limit: 10 })).rows;
    expect(rows.map((r) => [r.surveyId, r.conversationId, r.comment, r.context])).toEqual(
      expect.arrayContaining([
        [`${run}-a`, "", null, { agent: "olena" }],
        [`${run}-b`, "5151", `comment of someone else ${run}`, null],
      ]),
    );
    expect(await redis.keys(`${statePrefix}*4242*`)).toEqual([]);

    const again = await botflow(["erase", "--user", "telegram:4242"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("erased on telegram: 0 survey records, 0 triggers, 0 conversations, 0 channel entries, 0 queue jobs");
  });

  it("on PGlite in the data folder erases the survey rows and says where state lives", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-erase-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const run = randomUUID().slice(0, 8);
    const store = await openSurveyStore({ dataDir: dir });
    await seed(store, run);
    const before = await figures(store);
    await store.close();

    const out = await botflow(["erase", "--user", "telegram:4242", "--data-dir", dir], {});
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("erased on telegram: 1 survey records");
    expect(out.stdout).toContain("DELETE /api/users/{channel}/{id}");

    const reopened = await openSurveyStore({ dataDir: dir });
    try {
      expect(await figures(reopened)).toEqual(before);
      const [row] = await reopened.sql.query<{ t: string }>(`SELECT string_agg(s::text, ' ') AS t FROM "${reopened.schema}".survey AS s`);
      expect(row?.t).not.toContain("4242");
      expect(row?.t).not.toContain(`comment of the person ${run}`);
      expect(row?.t).toContain(`comment of someone else ${run}`);
    } finally {
      await reopened.close();
    }
  });

  it("refuses a missing, malformed or unknown user with a usage error (exit 2), erasing nothing", async () => {
    for (const argv of [["erase"], ["erase", "--user", "4242"], ["erase", "--user", "pigeon:4242"], ["erase", "--user", "telegram:"]]) {
      const out = await botflow(argv, {});
      expect(out.code, argv.join(" ")).toBe(2);
      expect(out.stderr).toMatch(/--user|<channel>:<id>|unknown channel|user id/);
    }
  });
});
