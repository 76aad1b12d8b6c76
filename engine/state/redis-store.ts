/**
 * Redis StateStore (ioredis): the production store, shared by every web process.
 *
 * One inbound event costs two round trips, each one Lua script (ioredis `defineCommand`:
 * EVAL on a connection's first use, EVALSHA after): `begin` = dedupe check + lock + read,
 * `commit` = token check + write state + remember dedupe key + deadline index + unlock.
 *
 * Key layout (prefix `botflow:` by default, `{…}` is the Redis Cluster hash tag):
 *
 *   botflow:{s7}:state:<conversation>               JSON state, PX stateTtlMs (idle conversations expire)
 *   botflow:{s7}:lock:<conversation>                random token, PX lockMs
 *   botflow:{s7}:dedupe:<len>:<conversation>:<key>  "1", PX dedupeTtlMs
 *   botflow:{s7}:deadlines                          sorted set: conversation → prompt deadline (epoch ms)
 *   botflow:{s7}:refs                               hash: conversation → ConversationRef JSON
 *
 * Why the hash tag is a shard (`s0`…`s15`) and not the conversation itself: the commit script
 * must update the deadline index atomically with the state, and a script may only touch keys
 * of one cluster slot. So conversations are spread over `shards` tags by a hash of their key,
 * each shard with its own deadline set in the same slot, and `dueTimeouts` asks every shard
 * (concurrently) and merges. On a single Redis or Sentinel this costs nothing; on a cluster,
 * pick `shards` of at least ~4× the number of masters so load spreads. `keyPrefix` and
 * `shards` are part of the data layout: changing either orphans the stored conversations.
 *
 * Time is Redis's own (PX expiry), so this store takes no Clock; `dueTimeouts` gets `now` from
 * the caller like every store.
 *
 * @example
 * const store = new RedisStateStore("redis://127.0.0.1:6379", { keyPrefix: "botflow:" });
 */
import { randomUUID } from "node:crypto";
import { Redis, type Cluster } from "ioredis";
import { ConfigError, StoreUnavailableError } from "../errors.ts";
import { LockLostError, type BeginResult, type CommitOptions, type StateStore } from "../ports.ts";
import type { ConversationRef, ConversationState } from "../types.ts";

export interface RedisStateStoreOptions {
  /** Prepended to every key; must not contain `{` or `}` (they would change the cluster slot). Default `botflow:`. */
  keyPrefix?: string;
  /** Hash-tag groups conversations are spread over (see the file comment). Default 16. */
  shards?: number;
}

// KEYS: dedupe, lock, state. ARGV: token, lockMs.
const BEGIN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'locked'} end
local state = redis.call('GET', KEYS[3])
if state then return {'acquired', state} end
return {'acquired'}
`;

// KEYS: lock, state, dedupe, deadlines, refs.
// ARGV: token, state JSON ('' deletes), stateTtlMs, dedupeTtlMs, conversation, deadline ('' clears), ref JSON.
const COMMIT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
if ARGV[6] == '' then
  redis.call('ZREM', KEYS[4], ARGV[5])
  redis.call('HDEL', KEYS[5], ARGV[5])
else
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
  redis.call('HSET', KEYS[5], ARGV[5], ARGV[7])
end
redis.call('DEL', KEYS[1])
return 1
`;

// KEYS: lock. ARGV: token.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// KEYS: deadlines, refs. ARGV: now, limit, state key prefix of the shard.
// Entries whose state expired (idle TTL) are dropped here, so the index never outgrows the states.
// The state keys are built in the script, but they share the shard's hash tag, hence its slot.
const DUE = `
local out = {}
local kept = 0
local limit = tonumber(ARGV[2])
while kept < limit do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', kept, limit - kept)
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local conversation = batch[i]
    local ref = redis.call('HGET', KEYS[2], conversation)
    if ref and redis.call('EXISTS', ARGV[3] .. conversation) == 1 then
      kept = kept + 1
      out[#out + 1] = conversation
      out[#out + 1] = batch[i + 1]
      out[#out + 1] = ref
    else
      redis.call('ZREM', KEYS[1], conversation)
      redis.call('HDEL', KEYS[2], conversation)
    end
  end
end
return out
`;

type Args = (string | number)[];
interface StoreCommands {
  botflowStateBegin(...args: Args): Promise<unknown>;
  botflowStateCommit(...args: Args): Promise<unknown>;
  botflowStateRelease(...args: Args): Promise<unknown>;
  botflowStateDue(...args: Args): Promise<unknown>;
}

export class RedisStateStore implements StateStore {
  private readonly redis: (Redis | Cluster) & StoreCommands;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly shards: number;

  /** `client`: an ioredis client (the caller keeps owning it) or a redis:// URL (the store connects and `close` quits). */
  constructor(client: Redis | Cluster | string, options: RedisStateStoreOptions = {}) {
    this.prefix = options.keyPrefix ?? "botflow:";
    this.shards = options.shards ?? 16;
    if (/[{}]/.test(this.prefix)) {
      throw new ConfigError(`Redis state store: keyPrefix "${this.prefix}" contains { or }; they would move keys to another cluster slot. Remove them.`);
    }
    if (!Number.isInteger(this.shards) || this.shards < 1 || this.shards > 16384) {
      throw new ConfigError(`Redis state store: shards must be an integer from 1 to 16384 (got ${String(options.shards)}).`);
    }
    const redis = typeof client === "string" ? new Redis(client) : client;
    this.ownsClient = typeof client === "string";
    if (redis.options.keyPrefix) {
      throw new ConfigError(
        `Redis state store: the ioredis client has keyPrefix "${redis.options.keyPrefix}", which scripts cannot see. Pass it as the store's keyPrefix option instead.`,
      );
    }
    redis.defineCommand("botflowStateBegin", { numberOfKeys: 3, lua: BEGIN });
    redis.defineCommand("botflowStateCommit", { numberOfKeys: 5, lua: COMMIT });
    redis.defineCommand("botflowStateRelease", { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand("botflowStateDue", { numberOfKeys: 2, lua: DUE });
    this.redis = redis as (Redis | Cluster) & StoreCommands;
  }

  async begin(key: string, dedupeKey: string, lockMs: number): Promise<BeginResult> {
    const k = this.keys(key);
    const token = randomUUID();
    const reply = await reachable(this.redis.botflowStateBegin(k.dedupe(dedupeKey), k.lock, k.state, token, positiveMs(lockMs, "lockMs")));
    if (!Array.isArray(reply)) throw unexpected("begin", reply);
    const [status, json] = reply as unknown[];
    if (status === "duplicate" || status === "locked") return { status };
    if (status !== "acquired") throw unexpected("begin", reply);
    return { status: "acquired", token, state: typeof json === "string" ? parseState(json, key) : null };
  }

  async commit(key: string, token: string, state: ConversationState | null, dedupeKey: string, options: CommitOptions): Promise<void> {
    const k = this.keys(key);
    const deadline = state && !state.ended && state.ref ? state.prompt?.deadline : undefined;
    const reply = await reachable(this.redis.botflowStateCommit(
      k.lock,
      k.state,
      k.dedupe(dedupeKey),
      k.deadlines,
      k.refs,
      token,
      state ? JSON.stringify(state) : "",
      positiveMs(options.stateTtlMs, "stateTtlMs"),
      positiveMs(options.dedupeTtlMs, "dedupeTtlMs"),
      key,
      deadline !== undefined ? String(deadline) : "",
      deadline !== undefined && state?.ref ? JSON.stringify(state.ref) : "",
    ));
    if (reply !== 1) throw new LockLostError(key);
  }

  async release(key: string, token: string): Promise<void> {
    await reachable(this.redis.botflowStateRelease(this.keys(key).lock, token));
  }

  async dueTimeouts(now: number, limit: number): Promise<{ key: string; ref: ConversationRef; deadline: number }[]> {
    if (limit <= 0) return [];
    const perShard = await Promise.all(
      Array.from({ length: this.shards }, (_, shard) => {
        const tag = this.tag(shard);
        return reachable(this.redis.botflowStateDue(`${tag}:deadlines`, `${tag}:refs`, now, Math.floor(limit), `${tag}:state:`));
      }),
    );
    const due: { key: string; ref: ConversationRef; deadline: number }[] = [];
    for (const reply of perShard) {
      if (!Array.isArray(reply)) throw unexpected("dueTimeouts", reply);
      for (let i = 0; i + 2 < reply.length; i += 3) {
        const [key, score, ref] = [reply[i], reply[i + 1], reply[i + 2]] as unknown[];
        if (typeof key !== "string" || typeof score !== "string" || typeof ref !== "string") throw unexpected("dueTimeouts", reply);
        due.push({ key, deadline: Number(score), ref: JSON.parse(ref) as ConversationRef });
      }
    }
    return due.sort((a, b) => a.deadline - b.deadline || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit);
  }

  /**
   * SCANs the store's keys (every shard, every node of a cluster), then deletes the matching
   * conversations' state, lock and dedupe keys and their deadline entries. A conversation's keys
   * are parsed back from the layout above; the dedupe key's length prefix says where its
   * conversation ends, so a conversation id holding ':' is never cut in the wrong place.
   */
  async forget(matches: (key: string) => boolean): Promise<number> {
    const head = `${this.prefix}{s`;
    const doomed: string[] = [];
    const conversations = new Set<string>();
    for (const redisKey of await reachable(this.scan(`${globEscape(this.prefix)}{s*}:*`))) {
      const rest = redisKey.slice(redisKey.indexOf("}:", head.length) + 2);
      let conversation: string | undefined;
      if (rest.startsWith("state:")) conversation = rest.slice(6);
      else if (rest.startsWith("lock:")) conversation = rest.slice(5);
      else if (rest.startsWith("dedupe:")) {
        const m = /^dedupe:([0-9]+):/.exec(rest);
        if (m) conversation = rest.slice(m[0].length, m[0].length + Number(m[1]));
      }
      if (conversation === undefined || !matches(conversation)) continue;
      doomed.push(redisKey);
      if (rest.startsWith("state:")) conversations.add(conversation);
    }
    const pipeline = this.redis.pipeline();
    for (let shard = 0; shard < this.shards; shard++) {
      const tag = this.tag(shard);
      const members = await reachable(this.redis.hkeys(`${tag}:refs`));
      for (const conversation of members.filter((c) => matches(c))) {
        conversations.add(conversation);
        pipeline.zrem(`${tag}:deadlines`, conversation);
        pipeline.hdel(`${tag}:refs`, conversation);
      }
    }
    // One key per DEL: on a cluster the keys of different shards live in different slots.
    for (const key of doomed) pipeline.del(key);
    if (pipeline.length > 0) await reachable(pipeline.exec());
    return conversations.size;
  }

  private async scan(match: string): Promise<string[]> {
    const nodes = "nodes" in this.redis && typeof this.redis.nodes === "function" && !(this.redis instanceof Redis) ? this.redis.nodes("master") : [this.redis as Redis];
    const keys: string[] = [];
    for (const node of nodes) {
      let cursor = "0";
      do {
        const [next, batch] = await node.scan(cursor, "MATCH", match, "COUNT", 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== "0");
    }
    return keys;
  }

  /** Quits the connection when the store opened it from a URL; a client passed in stays open. */
  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }

  private tag(shard: number): string {
    return `${this.prefix}{s${shard}}`;
  }

  private keys(key: string) {
    const tag = this.tag(fnv1a(key) % this.shards);
    return {
      state: `${tag}:state:${key}`,
      lock: `${tag}:lock:${key}`,
      // The length keeps "a:b" + "c" apart from "a" + "b:c".
      dedupe: (dedupeKey: string) => `${tag}:dedupe:${key.length}:${key}:${dedupeKey}`,
      deadlines: `${tag}:deadlines`,
      refs: `${tag}:refs`,
    };
  }
}

/** 32-bit FNV-1a: stable across processes and versions, which the shard of a stored conversation depends on. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `s` as a literal in a Redis glob pattern (SCAN MATCH). */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function positiveMs(ms: number, name: string): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`Redis state store: ${name} must be a positive number of milliseconds (got ${ms})`);
  return Math.ceil(ms);
}

function parseState(json: string, key: string): ConversationState {
  try {
    return JSON.parse(json) as ConversationState;
  } catch (err) {
    throw new Error(`Redis state store: the state of conversation ${key} is not valid JSON; delete the key or fix the writer`, { cause: err });
  }
}

function unexpected(op: string, reply: unknown): Error {
  return new Error(`Redis state store: unexpected ${op} reply ${JSON.stringify(reply)}; is another botflow version using the same keyPrefix?`);
}

/**
 * A Redis failure (refused, closed, offline, timed out) as StoreUnavailableError: the step was not
 * saved and can be tried again once Redis answers (a webhook answers 503 with Retry-After).
 */
function reachable<T>(reply: Promise<T>): Promise<T> {
  return reply.catch((err: unknown) => {
    throw new StoreUnavailableError("conversation state (Redis)", { cause: err });
  });
}
