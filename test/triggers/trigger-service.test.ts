/**
 * The trigger service over the real runtime, the real trigger store (PGlite) and a channel that
 * can send first messages: what each call is answered, what is recorded, and what is sent.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { visibleEffects, type Channel, type ProactiveRequest, type ProactiveTarget, type VisibleEffect } from "../../channels/port.ts";
import { ChannelError } from "../../engine/errors.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import { SqlTriggerStore } from "../../triggers/sql-trigger-store.ts";
import { parseTriggerRequest, type TriggerRequest } from "../../triggers/trigger-request.ts";
import { TriggerService, type TriggerOutbox } from "../../triggers/trigger-service.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { loadTestScenario, testActions } from "../helpers/scenario.ts";
import { pgliteBackend } from "../stats/store-harness.ts";

const CSAT = loadTestScenario(readFileSync(new URL("../../scenarios/csat.yaml", import.meta.url), "utf8"), "csat.yaml");
const CSAT_RULES = loadTestScenario(
  readFileSync(new URL("../../scenarios/csat.yaml", import.meta.url), "utf8").replace(/^id: csat$/m, "id: csat_ruled\nsurvey_rules:\n  cooldown: 7d\n  expire_after: 48h"),
  "csat_ruled.yaml",
);
const T0 = Date.parse("2026-12-02T12:00:00Z");

/** A channel that sends first messages to numeric ids, refuses "404", and whose "blocked" user blocked the bot. */
class ProactiveChannel implements Channel {
  readonly name = "fake";
  readonly limits = { name: "fake", maxButtons: 10, maxButtonLabel: 64, maxText: 4096 } as unknown as Channel["limits"];
  readonly sent: { ref: ConversationRef; texts: string[]; cause: InboundEvent | undefined }[] = [];
  readonly proactive = {
    resolve: async ({ to }: ProactiveRequest): Promise<ProactiveTarget> =>
      to === "404" ? { ok: false, status: 404, problem: "unknown_recipient", reason: "this user has never talked to the bot" } : { ok: true, ref: { channel: "fake", conversationId: to, userId: to } },
  };
  failNext: Error | undefined;
  parseInbound() {
    return { ok: false as const, reason: "not used" };
  }
  async start() {}
  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent) {
    if (ref.conversationId === "blocked") throw new ChannelError("fake", "send", "Forbidden: bot was blocked by the user", { status: 403, recipient: "blocked" });
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    this.sent.push({ ref, texts: effects.flatMap((e) => (e.type === "send" ? [e.message.text] : [])), cause });
  }
  async close() {}
}

class ListOutbox implements TriggerOutbox {
  readonly jobs: { id: string; runAt?: number }[] = [];
  down = false;
  async add(job: { id: string; channel: string; runAt?: number }) {
    if (this.down) throw new Error("Redis is not connected");
    if (this.jobs.some((j) => j.id === job.id)) return { added: false };
    this.jobs.push({ id: job.id, ...(job.runAt !== undefined ? { runAt: job.runAt } : {}) });
    return { added: true };
  }
}

const backend = pgliteBackend();
afterAll(() => backend.shutdown());

describe("trigger service", () => {
  let cleanup: () => Promise<void>;
  let store: SqlTriggerStore;
  let channel: ProactiveChannel;
  let outbox: ListOutbox;
  let clock: ManualClock;
  let handled: InboundEvent[];
  let service: TriggerService;
  let ids: number;

  beforeEach(async () => {
    const opened = await backend.open();
    cleanup = opened.cleanup;
    store = new SqlTriggerStore(opened.store.sql, opened.store.schema);
    channel = new ProactiveChannel();
    outbox = new ListOutbox();
    clock = new ManualClock(T0);
    handled = [];
    ids = 0;
    const scenarios = new ScenarioRegistry();
    scenarios.add(CSAT);
    scenarios.add(CSAT_RULES);
    const runtime = new Runtime({
      scenarios,
      store: new MemoryStateStore(clock),
      delivery: { deliver: (ref, effects, cause) => channel.deliver(ref, visibleEffects(effects), cause) },
      actions: testActions(),
      defaultScenarioId: "csat",
      clock,
    });
    service = new TriggerService({
      store,
      outbox,
      knownChannels: ["fake", "telegram"],
      channel: (name) => (name === "fake" ? channel : undefined),
      scenario: (id) => scenarios.get(id),
      handle: (e) => {
        handled.push(e);
        return runtime.handle(e);
      },
      clock,
      newId: () => `trg-${++ids}`,
    });
  });
  afterEach(() => cleanup());

  const request = (body: Record<string, unknown>): TriggerRequest => {
    const r = parseTriggerRequest({ channel: "fake", to: "42", scenario: "csat", ...body }, clock.now());
    if (!r.ok) throw new Error(`${r.field}: ${r.message}`);
    return r.request;
  };

  it("accepts a trigger, hands it to the outbox, and sending it starts the scenario with its variables for the recipient", async () => {
    const answer = await service.accept(request({ variables: { agent: "olena", ticket: "T-1" }, key: "T-1", locale: "uk" }));
    expect(answer).toMatchObject({ status: 202, body: { id: "trg-1", result: "started", state: "scheduled", key: "T-1", to: "42" } });
    expect(outbox.jobs).toEqual([{ id: "trg-1", runAt: T0 }]);
    expect(channel.sent).toEqual([]);

    await service.send("trg-1");
    expect(channel.sent).toHaveLength(1);
    expect(channel.sent[0]!.ref).toEqual({ channel: "fake", conversationId: "42", userId: "42" });
    expect(channel.sent[0]!.texts[0]).toMatch(/^Будь ласка, оцініть/);
    expect(handled[0]).toMatchObject({ kind: "start", scenarioId: "csat", variables: { agent: "olena", ticket: "T-1" }, dedupeKey: "trigger:trg-1", proactive: { triggerId: "trg-1" }, locale: "uk" });
    // The cause the channel got is the proactive start: it knows to send unprompted.
    expect(channel.sent[0]!.cause?.proactive?.triggerId).toBe("trg-1");
    const got = await service.get("trg-1");
    expect(got).toMatchObject({ state: "sent", sentAt: new Date(T0).toISOString() });
    expect(got?.surveyId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // The outbox delivers a job twice: nothing is sent twice.
    await service.send("trg-1");
    expect(channel.sent).toHaveLength(1);
  });

  it("answers a retried key with the same dialogue, 200, without a second job", async () => {
    await service.accept(request({ key: "T-2" }));
    const again = await service.accept(request({ key: "T-2", variables: { agent: "someone else" } }));
    expect(again).toMatchObject({ status: 200, body: { id: "trg-1", result: "duplicate" } });
    expect(outbox.jobs).toHaveLength(1);
  });

  it("refuses what cannot be sent with a clear 4xx and records nothing", async () => {
    expect(await service.accept(request({ channel: "viber" }))).toMatchObject({ status: 400, body: { field: "channel" } });
    expect(await service.accept(request({ channel: "telegram" }))).toMatchObject({ status: 422, body: { error: "channel_not_enabled", field: "channel" } });
    expect(await service.accept(request({ scenario: "nps" }))).toMatchObject({ status: 422, body: { error: "unknown_scenario", field: "scenario" } });
    expect(await service.accept(request({ to: "404" }))).toMatchObject({ status: 404, body: { error: "unknown_recipient", field: "to", message: "this user has never talked to the bot" } });
    expect(outbox.jobs).toEqual([]);
    expect(await store.scheduled(T0 + 1e12, 10)).toEqual([]);
  });

  it("schedules a delayed trigger and moves one in quiet hours to their end", async () => {
    const later = await service.accept(request({ delay: "24h" }));
    expect(later).toMatchObject({ status: 202, body: { result: "scheduled", runAt: new Date(T0 + 86_400_000).toISOString() } });
    // 12:00 UTC is 14:00 in Kyiv: inside 13:00–18:00 there → 18:00 Kyiv = 16:00 UTC.
    const quiet = await service.accept(request({ to: "43", policy: { quiet_hours: { from: "13:00", to: "18:00", timezone: "Europe/Kyiv" } } }));
    expect(quiet).toMatchObject({ status: 202, body: { result: "scheduled", runAt: "2026-12-02T16:00:00.000Z" } });
    expect(outbox.jobs.map((j) => j.runAt)).toEqual([T0 + 86_400_000, Date.parse("2026-12-02T16:00:00Z")]);
  });

  it("skips by cooldown and by sample, recording the rule, and sends nothing", async () => {
    await service.accept(request({ key: "A" }));
    const second = await service.accept(request({ key: "B", policy: { cooldown: "7d" } }));
    expect(second).toMatchObject({ status: 200, body: { result: "skipped", state: "skipped", reason: "cooldown" } });
    const other = await service.accept(request({ to: "99", key: "C", policy: { sample: 0 } }));
    expect(other).toMatchObject({ status: 200, body: { result: "skipped", reason: "sample" } });
    expect((await service.get((other.body as { id: string }).id))?.state).toBe("skipped");
    expect(outbox.jobs).toHaveLength(1);
    // A week later the recipient may be surveyed again.
    clock.advance(7 * 86_400_000 + 1);
    expect(await service.accept(request({ key: "D", policy: { cooldown: "7d" } }))).toMatchObject({ status: 202 });
  });

  it("applies the scenario's survey_rules without a policy, and a call's policy overrides them field by field", async () => {
    const first = await service.accept(request({ scenario: "csat_ruled", key: "R1" }));
    expect(first.status).toBe(202);
    await service.send("trg-1");
    expect(await service.get("trg-1")).toMatchObject({ state: "sent", expiresAt: new Date(T0 + 48 * 3_600_000).toISOString() });
    // The scenario's 7-day cooldown holds the next trigger to the same recipient…
    expect(await service.accept(request({ scenario: "csat_ruled", key: "R2" }))).toMatchObject({ status: 200, body: { result: "skipped", reason: "cooldown" } });
    // …unless the call turns it off; its expiry is still the scenario's.
    const overridden = await service.accept(request({ scenario: "csat_ruled", key: "R3", policy: { cooldown: 0 } }));
    expect(overridden).toMatchObject({ status: 202, body: { result: "started" } });
    // The plain scenario has no cooldown of its own.
    expect(await service.accept(request({ key: "R4" }))).toMatchObject({ status: 202 });
  });

  it("records a blocked recipient as failed and does not ask for a retry; a retryable failure rejects for the outbox", async () => {
    await service.accept(request({ to: "blocked" }));
    await service.send("trg-1");
    expect(await service.get("trg-1")).toMatchObject({ state: "failed", reason: "blocked" });

    await service.accept(request({ to: "50" }));
    channel.failNext = new ChannelError("fake", "send", "Too Many Requests: retry after 3", { status: 429, retryable: true, retryAfterMs: 3000 });
    await expect(service.send("trg-2")).rejects.toMatchObject({ retryable: true, retryAfterMs: 3000 });
    expect((await service.get("trg-2"))?.state).toBe("scheduled");
    await service.send("trg-2");
    expect((await service.get("trg-2"))?.state).toBe("sent");

    await service.accept(request({ to: "51" }));
    await service.failed("trg-3", "delivery_failed: gave up after 8 attempts");
    expect(await service.get("trg-3")).toMatchObject({ state: "failed", reason: "delivery_failed: gave up after 8 attempts" });
  });

  it("removes the trigger again when the outbox refuses it, so a retry with the key starts it", async () => {
    outbox.down = true;
    expect(await service.accept(request({ key: "K" }))).toMatchObject({ status: 503, body: { error: "unavailable" } });
    expect(await store.byKey("K")).toBeUndefined();
    outbox.down = false;
    expect(await service.accept(request({ key: "K" }))).toMatchObject({ status: 202 });
  });

  it("hands scheduled triggers to the outbox again after a restart", async () => {
    await service.accept(request({ to: "60", delay: "1h" }));
    await service.accept(request({ to: "61" }));
    outbox.jobs.length = 0; // the embedded outbox lived in memory
    expect(await service.recover()).toBe(2);
    expect(outbox.jobs.map((j) => j.id).sort()).toEqual(["trg-1", "trg-2"]);
  });
});
