/**
 * The trigger store on both statistics databases (PGlite and the real PostgreSQL): one key, one
 * trigger, even when two processes insert it at once; the state people see folds in the survey.
 */
import { afterAll, describe, expect, it } from "vitest";
import { SqlTriggerStore } from "../../triggers/sql-trigger-store.ts";
import type { NewTrigger } from "../../triggers/trigger-store.ts";
import { pgBackend, pgliteBackend, surveyEvent } from "../stats/store-harness.ts";

const T0 = Date.parse("2026-12-02T10:00:00Z");
const ref = { channel: "telegram", conversationId: "42", userId: "42" };

function trigger(id: string, o: Partial<NewTrigger> = {}): NewTrigger {
  return { id, channel: "telegram", recipient: "42", scenarioId: "csat", variables: { agent: "olena", n: 3 }, status: "scheduled", runAt: T0, createdAt: T0, ...o };
}

for (const backend of [pgliteBackend(), pgBackend()]) {
  describe(`trigger store on ${backend.name}`, () => {
    afterAll(() => backend.shutdown());

    it("records a trigger and gives the same one back for its key, across two processes inserting at once", async () => {
      const { store, peer, cleanup } = await backend.open();
      try {
        const a = new SqlTriggerStore(store.sql, store.schema);
        const b = new SqlTriggerStore((await peer()).sql, store.schema);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).insert(trigger(`t${i}`, { key: "T-1234", options: { template: { name: "csat" } }, locale: "uk" }))),
        );
        const created = results.filter((r) => r.created);
        expect(created).toHaveLength(1);
        const id = created[0]!.record.id;
        for (const r of results) expect(r.record.id).toBe(id);
        const got = await a.get(id);
        expect(got).toMatchObject({ id, key: "T-1234", channel: "telegram", recipient: "42", variables: { agent: "olena", n: 3 }, locale: "uk", options: { template: { name: "csat" } }, state: "scheduled", runAt: T0 });
        expect((await b.byKey("T-1234"))?.id).toBe(id);
        // Triggers without a key never collide.
        expect((await a.insert(trigger("free-1"))).created).toBe(true);
        expect((await a.insert(trigger("free-2"))).created).toBe(true);
      } finally {
        await cleanup();
      }
    });

    it("records triggers accepted at once in shared statements: a key taken in the same batch is a duplicate, a row the database refuses fails alone", async () => {
      const { store, cleanup } = await backend.open();
      try {
        const t = new SqlTriggerStore(store.sql, store.schema);
        const inserts = Array.from({ length: 40 }, (_, i) =>
          t.insert(
            trigger(`b${i}`, {
              recipient: String(100 + i),
              // Every fifth reuses the key of the one before it; one carries a NUL the database refuses.
              ...(i % 5 === 4 ? { key: `K-${i - 1}` } : { key: `K-${i}` }),
              ...(i === 17 ? { variables: { agent: "bad\u0000name" } } : {}),
            }),
          ),
        );
        const results = await Promise.allSettled(inserts);
        const refused = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
        expect(refused).toEqual([17]);
        for (const [i, r] of results.entries()) {
          if (r.status !== "fulfilled") continue;
          if (i % 5 === 4) expect([r.value.created, r.value.record.id]).toEqual([false, `b${i - 1}`]);
          else expect([r.value.created, r.value.record.id, r.value.record.recipient]).toEqual([true, `b${i}`, String(100 + i)]);
        }
        expect(await t.get("b17")).toBeUndefined();
        expect(await t.get("b4")).toBeUndefined();
        expect(await t.get("b38")).toMatchObject({ id: "b38", key: "K-38", state: "scheduled", variables: { agent: "olena", n: 3 } });
      } finally {
        await cleanup();
      }
    });

    it("moves scheduled → sent → expired, refuses moves from the wrong state, and folds the survey's progress into the state", async () => {
      const { store, cleanup } = await backend.open();
      try {
        const t = new SqlTriggerStore(store.sql, store.schema);
        await t.insert(trigger("a", { expireAfterMs: 3_600_000 }));
        expect((await t.scheduled(T0, 10)).map((r) => r.id)).toEqual(["a"]);
        expect(await t.scheduled(T0 - 1, 10)).toEqual([]);
        expect(await t.markSent("a", { surveyId: "s-a", ref, sentAt: T0 + 1000, expiresAt: T0 + 3_601_000 })).toBe(true);
        expect(await t.markSent("a", { surveyId: "s-a", ref, sentAt: T0 + 2000 })).toBe(false); // a redelivered job
        expect(await t.markFailed("a", "blocked", T0 + 3000)).toBe(false);
        expect(await t.get("a")).toMatchObject({ state: "sent", surveyId: "s-a", ref, sentAt: T0 + 1000, expiresAt: T0 + 3_601_000 });
        expect(await t.scheduled(T0 + 10_000, 10)).toEqual([]);

        // The survey row arrives through the statistics pipeline.
        await store.apply([surveyEvent("offered", "s-a", { at: T0 + 1000, dialogueStartedAt: T0 + 1000 })]);
        expect((await t.get("a"))?.state).toBe("sent");
        expect((await t.expiring(T0 + 3_601_000, 10)).map((r) => r.id)).toEqual(["a"]);
        expect(await t.expiring(T0 + 3_600_999, 10)).toEqual([]);
        await store.apply([surveyEvent("answered", "s-a", { at: T0 + 5000, dialogueStartedAt: T0 + 1000, score: 5, scale: { min: 1, max: 5 } })]);
        expect((await t.get("a"))?.state).toBe("answered");
        // Answered: never expired.
        expect(await t.expiring(T0 + 9_999_999, 10)).toEqual([]);
        await store.apply([surveyEvent("completed", "s-a", { at: T0 + 6000, dialogueStartedAt: T0 + 1000, score: 5, scale: { min: 1, max: 5 } })]);
        expect((await t.get("a"))?.state).toBe("completed");

        await t.insert(trigger("b", { recipient: "43", expireAfterMs: 1000 }));
        await t.markSent("b", { surveyId: "s-b", ref: { ...ref, conversationId: "43", userId: "43" }, sentAt: T0, expiresAt: T0 + 1000 });
        await store.apply([surveyEvent("declined", "s-b", { at: T0 + 500, dialogueStartedAt: T0, reason: "skipped" })]);
        expect((await t.get("b"))?.state).toBe("declined");
        expect(await t.expiring(T0 + 5000, 10)).toEqual([]);

        await t.insert(trigger("c", { recipient: "44", expireAfterMs: 1000 }));
        await t.markSent("c", { ref: { ...ref, conversationId: "44", userId: "44" }, sentAt: T0, expiresAt: T0 + 1000 });
        expect(await t.markExpired("c", T0 + 2000)).toBe(true);
        expect(await t.markExpired("c", T0 + 3000)).toBe(false);
        expect(await t.get("c")).toMatchObject({ state: "expired", status: "expired" });

        await t.insert(trigger("d", { recipient: "45" }));
        expect(await t.markFailed("d", "blocked", T0 + 10)).toBe(true);
        expect(await t.get("d")).toMatchObject({ state: "failed", reason: "blocked" });
        await t.remove("d");
        expect(await t.get("d")).toBeUndefined();
      } finally {
        await cleanup();
      }
    });

    it("applies a cooldown: sent or scheduled counts, skipped and failed do not, per channel and recipient", async () => {
      const { store, cleanup } = await backend.open();
      try {
        const t = new SqlTriggerStore(store.sql, store.schema);
        const since = T0 - 86_400_000;
        const status = async (id: string, o: Partial<NewTrigger> = {}) => {
          const { record } = await t.insert(trigger(id, { cooldownSince: since, ...o }));
          return [record.status, record.reason];
        };
        await t.insert(trigger("skip", { status: "skipped", reason: "sample" }));
        await t.insert(trigger("fail"));
        await t.markFailed("fail", "blocked", T0);
        await t.insert(trigger("old", { createdAt: since - 1 }));
        expect(await status("first")).toEqual(["scheduled", undefined]);
        expect(await status("second")).toEqual(["skipped", "cooldown"]);
        expect(await t.get("second")).toMatchObject({ status: "skipped", state: "skipped", reason: "cooldown" });
        await t.markSent("first", { ref, sentAt: T0 });
        expect(await status("third")).toEqual(["skipped", "cooldown"]);
        await t.markExpired("first", T0);
        expect(await status("fourth")).toEqual(["skipped", "cooldown"]);
        // Another recipient, another channel, or a cooldown that began after the first: not affected.
        expect(await status("other-chat", { recipient: "43" })).toEqual(["scheduled", undefined]);
        expect(await status("other-channel", { channel: "teams" })).toEqual(["scheduled", undefined]);
        expect(await status("later", { recipient: "44", cooldownSince: since })).toEqual(["scheduled", undefined]);
        expect(await status("after-cooldown", { recipient: "44", cooldownSince: T0 + 1, createdAt: T0 + 1 })).toEqual(["scheduled", undefined]);
        // The cooldown never overrides the key: a retried key is the trigger it was.
        const retried = await t.insert(trigger("retry", { key: "K-1", recipient: "45", cooldownSince: since }));
        const again = await t.insert(trigger("retry-2", { key: "K-1", recipient: "45", cooldownSince: since }));
        expect([retried.created, again.created, again.record.id, again.record.status]).toEqual([true, false, "retry", "scheduled"]);
      } finally {
        await cleanup();
      }
    });

    it("schedules one of several triggers with different keys for one recipient inserted at once under a cooldown, across two processes", async () => {
      const { store, peer, cleanup } = await backend.open();
      try {
        const a = new SqlTriggerStore(store.sql, store.schema);
        const b = new SqlTriggerStore((await peer()).sql, store.schema);
        for (let round = 0; round < 5; round++) {
          const recipient = `chat-${round}`;
          const results = await Promise.all(
            Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).insert(trigger(`r${round}-${i}`, { key: `K-${round}-${i}`, recipient, cooldownSince: T0 - 86_400_000 }))),
          );
          expect(results.every((r) => r.created)).toBe(true);
          expect(results.map((r) => r.record.status).sort()).toEqual(["scheduled", "skipped", "skipped", "skipped", "skipped", "skipped"]);
        }
      } finally {
        await cleanup();
      }
    });
  });
}
