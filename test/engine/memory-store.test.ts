import { describe, expect, it } from "vitest";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { ConversationState } from "../../engine/types.ts";
import { ManualClock } from "../helpers/manual-clock.ts";

const options = { stateTtlMs: 1_000, dedupeTtlMs: 1_000 };

function state(n: number, at: number): ConversationState {
  return {
    ref: { channel: "test", conversationId: `c${n}`, userId: `u${n}` },
    scenarioId: "csat",
    scenarioVersion: "v",
    dialogue: 1,
    seq: 1,
    prompt: { id: "p1", blockId: "ask", attempts: 0, deadline: at + 500 },
    pendingAction: null,
    vars: {},
    locale: "en",
    ended: false,
    startedAt: at,
    updatedAt: at,
  };
}

let deliveries = 0;

async function save(store: MemoryStateStore, n: number, clock: ManualClock): Promise<void> {
  const dedupeKey = `d${++deliveries}`;
  const begun = await store.begin(`k${n}`, dedupeKey, 10_000);
  if (begun.status !== "acquired") throw new Error(`expected to acquire k${n}, got ${begun.status}`);
  await store.commit(`k${n}`, begun.token, state(n, clock.now()), dedupeKey, options);
}

describe("MemoryStateStore housekeeping", () => {
  it("drops idle conversations once their TTL passed, so a long-running process does not grow forever", async () => {
    const clock = new ManualClock();
    const store = new MemoryStateStore(clock);
    for (let n = 0; n < 300; n++) await save(store, n, clock);
    expect(store.size).toBe(300);
    clock.advance(2_000); // every one of them is idle past its TTL
    for (let n = 300; n < 600; n++) await save(store, n, clock);
    // The first 300 expired and were swept in a batch; only the fresh ones remain.
    expect(store.size).toBe(300);
    expect(await store.dueTimeouts(clock.now(), 1_000)).toEqual([]);
    const again = await store.begin("k0", "d-next", 10_000);
    expect(again).toMatchObject({ status: "acquired", state: null });
  });

  it("keeps a conversation that is still active however old it is", async () => {
    const clock = new ManualClock();
    const store = new MemoryStateStore(clock);
    await save(store, 0, clock);
    for (let round = 0; round < 5; round++) {
      clock.advance(600); // under the TTL each time, 3 s in all
      await save(store, 0, clock);
      for (let n = 1; n <= 256; n++) await save(store, 1_000 * (round + 1) + n, clock);
    }
    const begun = await store.begin("k0", "d-last", 10_000);
    expect(begun.status).toBe("acquired");
    expect(begun.status === "acquired" && begun.state?.ref?.conversationId).toBe("c0");
  });
});

describe("MemoryStateStore dedupe", () => {
  async function commit(store: MemoryStateStore, key: string, dedupeKey: string, clock: ManualClock): Promise<string> {
    const begun = await store.begin(key, dedupeKey, 10_000);
    if (begun.status !== "acquired") return begun.status;
    await store.commit(key, begun.token, state(1, clock.now()), dedupeKey, options);
    return "committed";
  }

  it("remembers every delivery of a conversation within the TTL and forgets expired ones", async () => {
    const clock = new ManualClock();
    const store = new MemoryStateStore(clock);
    expect(await commit(store, "k", "a", clock)).toBe("committed");
    expect(await commit(store, "k", "a", clock)).toBe("duplicate");
    clock.advance(400);
    expect(await commit(store, "k", "b", clock)).toBe("committed");
    clock.advance(400);
    expect(await commit(store, "k", "c", clock)).toBe("committed");
    for (const key of ["a", "b", "c"]) expect(await commit(store, "k", key, clock)).toBe("duplicate");
    clock.advance(300); // "a" (t=0) is past its 1 s; "b" and "c" are not
    expect(await commit(store, "k", "d", clock)).toBe("committed");
    expect(await commit(store, "k", "a", clock)).toBe("committed"); // forgotten, so taken again
    for (const key of ["b", "c", "d", "a"]) expect(await commit(store, "k", key, clock)).toBe("duplicate");
    clock.advance(5_000);
    expect(await commit(store, "k", "e", clock)).toBe("committed"); // all old ones gone: back to one key
    for (const key of ["a", "b", "c", "d"]) expect(await commit(store, "k", key, clock)).toBe("committed");
    expect(await commit(store, "other", "e", clock)).toBe("committed"); // per conversation
  });
});
