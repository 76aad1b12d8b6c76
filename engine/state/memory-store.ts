/**
 * In-memory StateStore: the embedded default. Single process only; everything is lost on exit.
 */
import { LockLostError, systemClock, type BeginResult, type Clock, type CommitOptions, type StateStore } from "../ports.ts";
import type { ConversationRef, ConversationState } from "../types.ts";

interface Entry {
  state: ConversationState;
  expires: number;
}

/**
 * The delivery keys a conversation has seen: most conversations hold one (a survey offered and not
 * answered yet), so that case is a small object; a Map only once a second key is live.
 */
type Seen = { key: string; expires: number } | Map<string, number>;

function seenExpiry(seen: Seen | undefined, dedupeKey: string): number | undefined {
  if (seen === undefined) return undefined;
  if (seen instanceof Map) return seen.get(dedupeKey);
  return seen.key === dedupeKey ? seen.expires : undefined;
}

/** `seen` with `dedupeKey` remembered until `expires` and keys expired by `now` forgotten. */
function remember(seen: Seen | undefined, dedupeKey: string, expires: number, now: number): Seen {
  if (seen === undefined || (!(seen instanceof Map) && (seen.key === dedupeKey || seen.expires <= now))) {
    return { key: dedupeKey, expires };
  }
  const map = seen instanceof Map ? seen : new Map([[seen.key, seen.expires]]);
  map.delete(dedupeKey);
  map.set(dedupeKey, expires);
  for (const [k, e] of map) {
    if (e > now) break;
    map.delete(k);
  }
  return map;
}

export class MemoryStateStore implements StateStore {
  private readonly states = new Map<string, Entry>();
  private readonly locks = new Map<string, { token: string; expires: number }>();
  /**
   * Conversation key → dedupe key → expiry, ordered by each conversation's last commit so pruning
   * only looks at the oldest. Two levels rather than one map on `${key}\0${dedupeKey}`: that joined
   * string was built, flattened and hashed twice per event, about a fifth of the engine's time in
   * bench/engine-throughput; both keys here are strings the caller already has (hashes cached).
   */
  private readonly dedupe = new Map<string, Seen>();
  private commits = 0;
  private readonly deadlines = new Map<string, { deadline: number; ref: ConversationRef }>();

  private tokens = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  async begin(key: string, dedupeKey: string, lockMs: number): Promise<BeginResult> {
    const now = this.clock.now();
    const seen = seenExpiry(this.dedupe.get(key), dedupeKey);
    if (seen !== undefined && seen > now) return { status: "duplicate" };
    const lock = this.locks.get(key);
    if (lock && lock.expires > now) return { status: "locked" };
    // Unique within this store is all a token needs; randomUUID costs ~0.5 KB and up to 1 µs an event.
    const token = `t${++this.tokens}`;
    this.locks.set(key, { token, expires: now + lockMs });
    const entry = this.states.get(key);
    if (entry && entry.expires <= now) this.states.delete(key);
    return { status: "acquired", token, state: entry && entry.expires > now ? entry.state : null };
  }

  async commit(key: string, token: string, state: ConversationState | null, dedupeKey: string, options: CommitOptions): Promise<void> {
    const now = this.clock.now();
    const lock = this.locks.get(key);
    if (!lock || lock.token !== token) throw new LockLostError(key);
    // Re-inserted last: the map stays ordered by last commit, so expired states sit at its front.
    this.states.delete(key);
    if (state) this.states.set(key, { state, expires: now + options.stateTtlMs });
    const deadline = state && !state.ended ? state.prompt?.deadline : undefined;
    if (deadline !== undefined && state?.ref) this.deadlines.set(key, { deadline, ref: state.ref });
    else this.deadlines.delete(key);
    const seen = this.dedupe.get(key);
    if (seen) this.dedupe.delete(key); // re-inserted last: the map stays ordered by last commit
    this.dedupe.set(key, remember(seen, dedupeKey, now + options.dedupeTtlMs, now));
    if (++this.commits % 256 === 0) this.prune(now);
    this.locks.delete(key);
  }

  async release(key: string, token: string): Promise<void> {
    if (this.locks.get(key)?.token === token) this.locks.delete(key);
  }

  async dueTimeouts(now: number, limit: number): Promise<{ key: string; ref: ConversationRef; deadline: number }[]> {
    const due: { key: string; ref: ConversationRef; deadline: number }[] = [];
    for (const [key, d] of this.deadlines) {
      if (d.deadline > now) continue;
      // The state expired (idle TTL) under its deadline: there is nothing left to time out.
      const entry = this.states.get(key);
      if (!entry || entry.expires <= this.clock.now()) {
        this.deadlines.delete(key);
        continue;
      }
      due.push({ key, ...d });
    }
    return due.sort((a, b) => a.deadline - b.deadline).slice(0, limit);
  }

  async forget(matches: (key: string) => boolean): Promise<number> {
    const keys = new Set([...this.states.keys(), ...this.deadlines.keys(), ...this.dedupe.keys(), ...this.locks.keys()].filter((k) => matches(k)));
    let forgotten = 0;
    for (const key of keys) {
      if (this.states.has(key) || this.deadlines.has(key)) forgotten++;
      this.states.delete(key);
      this.deadlines.delete(key);
      this.dedupe.delete(key);
      this.locks.delete(key);
    }
    return forgotten;
  }

  /** Conversations held (idle ones are dropped in batches once their TTL passed). */
  get size(): number {
    return this.states.size;
  }

  async close(): Promise<void> {}

  /**
   * Forgets idle conversations whose state expired, and conversations whose newest dedupe key
   * expired (each one's own expired keys go at its commit), so memory does not grow forever.
   */
  private prune(now: number): void {
    for (const [key, entry] of this.states) {
      if (entry.expires > now) break;
      this.states.delete(key);
      this.deadlines.delete(key);
    }
    for (const [conversation, seen] of this.dedupe) {
      let newest = 0;
      if (seen instanceof Map) for (const expires of seen.values()) newest = expires;
      else newest = seen.expires;
      if (newest > now) break;
      this.dedupe.delete(conversation);
    }
  }
}
