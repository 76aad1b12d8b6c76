/**
 * Runs the StateStore contract against the in-memory store and against the Redis store on the
 * real Redis at 127.0.0.1:6379 (keys under a prefix unique to this run, deleted afterwards).
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../engine/errors.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import { RedisStateStore } from "../../engine/state/redis-store.ts";
import { stateStoreContract } from "../state-store-contract.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const RUN_PREFIX = `test-${randomUUID()}:`;
const admin = new Redis(REDIS_URL);

stateStoreContract("MemoryStateStore", async (clock) => {
  const store = new MemoryStateStore(clock);
  return { store, peer: async () => store, cleanup: () => store.close() };
});

stateStoreContract("RedisStateStore", async () => {
  // Each test gets its own prefix, so tests never see each other's conversations or deadlines.
  const keyPrefix = `${RUN_PREFIX}${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];
  const open = async (): Promise<{ client: Redis; store: RedisStateStore }> => {
    const client = new Redis(REDIS_URL);
    clients.push(client);
    await client.ping(); // connected: no command goes through the offline queue and gets counted twice
    return { client, store: new RedisStateStore(client, { keyPrefix }) };
  };
  const { client, store } = await open();
  let sent = 0;
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    sent++;
    return send(command, stream);
  };
  return {
    store,
    peer: async () => (await open()).store,
    roundTrips: () => sent,
    cleanup: async () => {
      await Promise.all(clients.map((c) => c.quit()));
    },
  };
});

describe("RedisStateStore layout", () => {
  const prefix = `${RUN_PREFIX}layout:`;
  const client = new Redis(REDIS_URL);
  afterAll(async () => {
    await client.quit();
  });

  it("keeps every key of a conversation, and its shard's deadline index, under one cluster hash tag", async () => {
    const store = new RedisStateStore(client, { keyPrefix: prefix });
    const ref = { channel: "telegram", conversationId: "42:{odd}", userId: "7" };
    const b = await store.begin("telegram::42:{odd}", "upd-1", 10_000);
    if (b.status !== "acquired") throw new Error(`expected to acquire, got ${b.status}`);
    const held = await scan(client, `${prefix}*`);
    const state = {
      ref,
      scenarioId: "csat",
      scenarioVersion: "v1",
      dialogue: 1,
      seq: 1,
      prompt: { id: "p1", blockId: "ask_rating", attempts: 0, deadline: 5000 },
      pendingAction: null,
      vars: {},
      locale: "en",
      ended: false,
      startedAt: 1,
      updatedAt: 1,
    };
    await store.commit("telegram::42:{odd}", b.token, state, "upd-1", { stateTtlMs: 60_000, dedupeTtlMs: 60_000 });
    const keys = [...held, ...(await scan(client, `${prefix}*`))];
    expect(keys.map((k) => k.slice(prefix.length).replace(/\{s[0-9]+\}/, "{…}")).sort()).toEqual([
      "{…}:deadlines",
      "{…}:dedupe:18:telegram::42:{odd}:upd-1",
      "{…}:lock:telegram::42:{odd}",
      "{…}:refs",
      "{…}:state:telegram::42:{odd}",
    ]);
    expect(new Set(keys.map(hashTag)).size).toBe(1);
    expect(await store.dueTimeouts(5000, 10)).toEqual([{ key: "telegram::42:{odd}", ref, deadline: 5000 }]);
  });

  it("refuses a prefix that would move keys to another slot, and a client that prefixes keys itself", async () => {
    expect(() => new RedisStateStore(client, { keyPrefix: "bot{1}:" })).toThrow(ConfigError);
    const prefixed = new Redis(REDIS_URL, { keyPrefix: "x:", lazyConnect: true });
    expect(() => new RedisStateStore(prefixed, { keyPrefix: prefix })).toThrow(/keyPrefix "x:"/);
    prefixed.disconnect();
  });

  it("connects from a URL and quits on close", async () => {
    const store = new RedisStateStore(REDIS_URL, { keyPrefix: prefix });
    expect(await store.begin("url:1", "d1", 10_000)).toMatchObject({ status: "acquired", state: null });
    await store.close();
  });
});

afterAll(async () => {
  const keys = await scan(admin, `${RUN_PREFIX}*`);
  for (let i = 0; i < keys.length; i += 500) await admin.del(...keys.slice(i, i + 500));
  expect(await scan(admin, `${RUN_PREFIX}*`)).toEqual([]);
  await admin.quit();
});

async function scan(client: Redis, match: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", match, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** The part of a key Redis Cluster hashes: between the first `{` and the next `}`, when not empty. */
function hashTag(key: string): string {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}
