/**
 * Outgoing webhooks end to end below the app: survey events go through the statistics queue,
 * are stored, and their webhooks are delivered to a local receiver (node:http) — once over the
 * in-process path (PGlite) and once over BullMQ (real Redis and PostgreSQL, unique prefix and schema).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { SurveyEvent } from "../../stats/events.ts";
import { listDeadWebhooks, replayDeadWebhooks } from "../../webhooks/replay.ts";
import { fullSurvey, surveyEvent, T0 } from "../stats/store-harness.ts";
import { closeSharedDb, openBullmq, openInProcess, SECRET, type OpenPipeline, type Pipeline } from "./pipelines.ts";
import { readmeVerifier, Receiver, type Verifier } from "./receiver.ts";

let verify: Verifier;
beforeAll(async () => {
  verify = await readmeVerifier();
});
afterAll(() => closeSharedDb());

const opened: { pipeline: Pipeline; receivers: Receiver[] }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.pipeline.close();
    for (const r of o.receivers) await r.close();
  }
});

async function setup(open: OpenPipeline, receivers = 1, o?: Parameters<OpenPipeline>[1]) {
  const rs = await Promise.all(Array.from({ length: receivers }, () => Receiver.start()));
  const pipeline = await open(
    rs.map((r) => r.url),
    o,
  );
  opened.push({ pipeline, receivers: rs });
  return { pipeline, receiver: rs[0] as Receiver, receivers: rs };
}

async function addAll(p: Pipeline, events: readonly SurveyEvent[]): Promise<void> {
  for (const e of events) await p.add(e);
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = (check: () => void, timeout = 10_000) => vi.waitFor(check, { timeout, interval: 10 });

describe.each<[string, OpenPipeline]>([
  ["in-process", openInProcess],
  ["BullMQ", openBullmq],
])("webhooks over the %s path", (_name, open) => {
  it("POSTs survey.completed with the stored survey, signed so the README's snippet verifies it", async () => {
    const { pipeline, receiver } = await setup(open);
    const context = { agent: "olena", team: "billing", ticket: "T-1009" };
    await addAll(pipeline, fullSurvey("s-ok", 4, "quick and kind", { context, triggerId: "t-7" }));
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-ok.survey.completed"]));
    const [req] = receiver.requests;
    expect(JSON.parse(req?.body ?? "")).toEqual({
      id: "s-ok.survey.completed",
      type: "survey.completed",
      occurredAt: new Date(T0 + 60_000).toISOString(),
      surveyId: "s-ok",
      scenario: "csat",
      scenarioVersion: "v1",
      channel: "telegram",
      bot: "",
      score: 4,
      scale: { min: 1, max: 5 },
      comment: "quick and kind",
      reason: null,
      dimensions: context,
      triggerId: "t-7",
      dialogueStartedAt: new Date(T0).toISOString(),
    });
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(req?.headers["x-botflow-event"]).toBe("survey.completed");
    expect(req?.headers["x-botflow-event-id"]).toBe("s-ok.survey.completed");
    expect(req?.headers["x-botflow-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verify(SECRET, req?.body ?? "", req?.headers ?? {})).toBe(true);
    // The snippet refuses a tampered body, another secret, and an old timestamp (a replay).
    expect(verify(SECRET, (req?.body ?? "").replace('"score":4', '"score":5'), req?.headers ?? {})).toBe(false);
    expect(verify("another-secret-0123456789", req?.body ?? "", req?.headers ?? {})).toBe(false);
    const old = { ...req?.headers, "x-botflow-timestamp": String(Math.floor(Date.now() / 1000) - 3600) };
    expect(verify(SECRET, req?.body ?? "", old)).toBe(false);
  });

  it("fires survey.low_score for 1 and 2 on 1–5 and for 👎 on the emoji scale, not for 3 or 👍; survey.declined for a skip", async () => {
    const { pipeline, receiver } = await setup(open);
    await addAll(pipeline, fullSurvey("s-1", 1, "slow"));
    await addAll(pipeline, fullSurvey("s-2", 2, undefined));
    await addAll(pipeline, fullSurvey("s-3", 3, undefined));
    const emoji = { scale: { min: 0, max: 100 }, scenarioId: "csat-emoji" };
    await addAll(pipeline, fullSurvey("s-down", 0, undefined, emoji));
    await addAll(pipeline, fullSurvey("s-up", 100, undefined, emoji));
    await addAll(pipeline, [surveyEvent("offered", "s-skip"), surveyEvent("declined", "s-skip", { reason: "skipped" })]);
    const expected = [
      "s-1.survey.completed",
      "s-1.survey.low_score",
      "s-2.survey.completed",
      "s-2.survey.low_score",
      "s-3.survey.completed",
      "s-down.survey.completed",
      "s-down.survey.low_score",
      "s-skip.survey.declined",
      "s-up.survey.completed",
    ];
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(expected));
    await wait(200);
    expect(receiver.acceptedIds()).toEqual(expected);
    const byId = new Map(receiver.accepted().map((b) => [b.id, b]));
    expect(byId.get("s-down.survey.low_score")).toMatchObject({ score: 0, scale: { min: 0, max: 100 }, scenario: "csat-emoji", comment: "" });
    expect(byId.get("s-1.survey.low_score")).toMatchObject({ type: "survey.low_score", score: 1, comment: "slow" });
    expect(byId.get("s-skip.survey.declined")).toMatchObject({ type: "survey.declined", score: null, comment: null, reason: "skipped", scale: { min: 1, max: 5 } });
  });

  it("retries a receiver that fails 3 times (503, 500, 429) and delivers each event id once", async () => {
    const { pipeline, receiver } = await setup(open);
    const failures = [{ status: 503 }, { status: 500 }, { status: 429 }];
    const seen = new Map<string, number>();
    receiver.answer = ({ headers }) => {
      const id = String(headers["x-botflow-event-id"]);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return failures[n - 1] ?? { status: 204 };
    };
    await addAll(pipeline, fullSurvey("s-flaky", 1, undefined));
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-flaky.survey.completed", "s-flaky.survey.low_score"]));
    await wait(300);
    expect(receiver.acceptedIds()).toEqual(["s-flaky.survey.completed", "s-flaky.survey.low_score"]);
    expect([...seen.values()]).toEqual([4, 4]);
    // Every attempt is the same body, signed anew; each verifies.
    const attempts = receiver.requests.filter((r) => r.headers["x-botflow-event-id"] === "s-flaky.survey.completed");
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    for (const r of attempts) expect(verify(SECRET, r.body, r.headers)).toBe(true);
    expect(await listDeadWebhooks(pipeline.outbox)).toEqual([]);
  });

  it("moves a delivery to a receiver down for good to the dead letter, and replay delivers it", async () => {
    const { pipeline, receiver } = await setup(open);
    let up = false;
    receiver.answer = () => ({ status: up ? 200 : 502 });
    await addAll(pipeline, fullSurvey("s-dead", 5, "great"));
    await waitFor(async () => expect((await listDeadWebhooks(pipeline.outbox)).map((d) => d.eventId)).toEqual(["s-dead.survey.completed"]));
    const [dead] = await listDeadWebhooks(pipeline.outbox);
    expect(dead?.attempts).toBe(4);
    expect(dead?.reason).toContain("answered 502");
    expect(dead?.reason).not.toContain("/hook"); // the endpoint by its origin only
    expect(receiver.requests).toHaveLength(4);
    expect(receiver.acceptedIds()).toEqual([]);
    up = true;
    expect(await replayDeadWebhooks(pipeline.outbox, { eventId: "nothing-dead" })).toEqual([]);
    expect(await replayDeadWebhooks(pipeline.outbox, { eventId: "s-dead.survey.completed" })).toEqual([dead?.id]);
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-dead.survey.completed"]));
    expect(await listDeadWebhooks(pipeline.outbox)).toEqual([]);
    expect(verify(SECRET, receiver.requests.at(-1)?.body ?? "", receiver.requests.at(-1)?.headers ?? {})).toBe(true);
  });

  it("does not retry a 4xx other than 408/425/429: the dead letter at once", async () => {
    const { pipeline, receiver } = await setup(open);
    receiver.answer = () => ({ status: 404 });
    await addAll(pipeline, [surveyEvent("offered", "s-404"), surveyEvent("declined", "s-404", { reason: "timeout" })]);
    await waitFor(async () => expect((await listDeadWebhooks(pipeline.outbox)).map((d) => d.eventId)).toEqual(["s-404.survey.declined"]));
    expect(receiver.requests).toHaveLength(1);
    expect((await listDeadWebhooks(pipeline.outbox))[0]?.reason).toContain("answered 404");
  });

  it("queues one webhook per event id when the survey event is stored again (a redelivered job), per receiver", async () => {
    const { pipeline, receivers } = await setup(open, 2);
    const events = fullSurvey("s-dup", 2, "again");
    await addAll(pipeline, events);
    const completed = events.at(-1) as SurveyEvent;
    const answered = events[2] as SurveyEvent;
    await pipeline.redeliver(completed);
    await pipeline.redeliver(answered);
    await pipeline.redeliver(completed);
    for (const r of receivers) await waitFor(() => expect(r.acceptedIds()).toEqual(["s-dup.survey.completed", "s-dup.survey.low_score"]));
    await wait(300);
    for (const r of receivers) expect(r.requests.map((q) => q.headers["x-botflow-event-id"]).sort()).toEqual(["s-dup.survey.completed", "s-dup.survey.low_score"]);
  });

  it("sends low_score when the answer (with its scale) is stored after the completion", async () => {
    const { pipeline, receiver } = await setup(open);
    // Only the answer carries the scale here (no offer stored yet), and it is stored last.
    const started = surveyEvent("dialogue_started", "s-late");
    const completed = surveyEvent("completed", "s-late", { score: 1, comment: "" });
    const answered = surveyEvent("answered", "s-late", { score: 1, scale: { min: 1, max: 5 } });
    await pipeline.add(started);
    await pipeline.add(completed);
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-late.survey.completed"]));
    expect(receiver.accepted()[0]).toMatchObject({ score: 1, scale: null });
    await pipeline.add(answered);
    await waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-late.survey.completed", "s-late.survey.low_score"]));
    expect(receiver.accepted()[1]).toMatchObject({ type: "survey.low_score", score: 1, scale: { min: 1, max: 5 } });
    await wait(200);
    expect(receiver.requests).toHaveLength(2); // the completion is not sent again
  });
});

describe("webhook endpoints", () => {
  it("sends a scenario's surveys only to the URLs scoped to it, and honours a 429's Retry-After", async () => {
    const [all, scoped] = [await Receiver.start(), await Receiver.start()];
    const pipeline = await openInProcess([], {
      settings: { endpoints: [{ url: all.url }, { url: scoped.url, scenario: "csat-emoji" }] },
      outbox: { capMs: 5_000 },
    });
    opened.push({ pipeline, receivers: [all, scoped] });
    let first = true;
    all.answer = () => (first ? ((first = false), { status: 429, headers: { "retry-after": "1" } }) : { status: 200 });
    await addAll(pipeline, fullSurvey("s-a", 5, undefined));
    await addAll(pipeline, fullSurvey("s-b", 100, undefined, { scenarioId: "csat-emoji", scale: { min: 0, max: 100 } }));
    await waitFor(() => expect(all.acceptedIds()).toEqual(["s-a.survey.completed", "s-b.survey.completed"]));
    await waitFor(() => expect(scoped.acceptedIds()).toEqual(["s-b.survey.completed"]));
    const [refused, retried] = all.requests.filter((r) => r.headers["x-botflow-event-id"] === all.requests[0]?.headers["x-botflow-event-id"]);
    expect(refused?.status).toBe(429);
    expect((retried?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(950); // 1 s, not the 20 ms backoff
  });
});
