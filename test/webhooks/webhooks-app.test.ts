/**
 * Webhooks through the composed web process (embedded default): a survey completed in the web
 * chat reaches the receiver as survey.completed and survey.low_score; a receiver that refuses
 * ends in the dead letter, which `botflow webhooks` lists and replays through the running
 * process; and the same command on the production queue in Redis (BullMQ), what `botflow worker` delivers from.
 * Neither the secret nor the comment appears in a log line.
 */
import { Readable, Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../cli/main.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { ChatClient } from "../app/ws-client.ts";
import { fullSurvey } from "../stats/store-harness.ts";
import { openBullmq, SECRET } from "./pipelines.ts";
import { readmeVerifier, Receiver } from "./receiver.ts";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
const receivers: Receiver[] = [];
afterEach(async () => {
  await t?.dispose();
  t = undefined;
  for (const r of receivers.splice(0)) await r.close();
});

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function botflow(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(args, { stdout, stderr, stdin: Readable.from([]), env, cwd: process.cwd() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A rating of 1 with a comment in the web chat of the composed app. */
async function rateInChat(url: string, comment: string): Promise<void> {
  const c = await ChatClient.connect(url);
  c.send({ type: "hello" });
  await c.next();
  c.send({ type: "start", id: "1" });
  await c.next(2);
  c.send({ type: "choice", id: "2", promptId: "p1", index: 0 });
  await c.next(3);
  c.send({ type: "text", id: "3", text: comment });
  await c.next(3);
  c.ws.close();
}

describe("outgoing webhooks in the composed app", () => {
  it("delivers survey.completed and survey.low_score of a survey rated 1 in the web chat, signed, logging neither secret nor comment", async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    t = await startTestApp({ BOTFLOW_WEBHOOK_URL: receiver.url, BOTFLOW_WEBHOOK_SECRET: SECRET }, { surveyStore: store });
    const { url } = await t.app.listen();
    await rateInChat(url, "the agent never came back");
    await vi.waitFor(() => expect(receiver.accepted().map((b) => b.type).sort()).toEqual(["survey.completed", "survey.low_score"]), { timeout: 10_000, interval: 20 });
    const verify = await readmeVerifier();
    for (const r of receiver.requests) expect(verify(SECRET, r.body, r.headers)).toBe(true);
    expect(receiver.accepted()[0]).toMatchObject({ scenario: "csat", channel: "webchat", score: 1, scale: { min: 1, max: 5 }, comment: "the agent never came back", triggerId: null, dimensions: {} });
    const logs = t.logs.join("\n");
    expect(logs).not.toContain(SECRET);
    expect(logs).not.toContain("never came back");
  });

  it("keeps a refused delivery in the dead letter; botflow webhooks lists and replays it through the running process", async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    let up = false;
    receiver.answer = () => ({ status: up ? 200 : 410 });
    t = await startTestApp({ BOTFLOW_WEBHOOK_URL: receiver.url, BOTFLOW_WEBHOOK_SECRET: SECRET }, { surveyStore: store });
    const { url } = await t.app.listen();
    await rateInChat(url, "second try");
    const env = { BOTFLOW_URL: url };
    await vi.waitFor(async () => expect((await botflow(["webhooks", "list-dead"], env)).stdout).toContain("2 webhook deliveries in the dead letter"), { timeout: 10_000, interval: 50 });
    const listed = await botflow(["webhooks", "list-dead"], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\.survey\.low_score@[0-9a-f]{12}\t1 attempt\(s\)\t.*answered 410/);
    expect(listed.stdout).not.toContain("second try");
    const eventId = /(\S+\.survey\.low_score)@/.exec(listed.stdout)?.[1] as string;
    up = true;
    const replayed = await botflow(["webhooks", "replay", "--id", eventId], env);
    expect(replayed).toMatchObject({ code: 0 });
    expect(replayed.stdout).toContain("replayed 1 webhook delivery");
    await vi.waitFor(() => expect(receiver.acceptedIds()).toEqual([eventId]), { timeout: 10_000, interval: 20 });
    expect((await botflow(["webhooks", "replay", "--all"], env)).stdout).toContain("replayed 1 webhook delivery");
    await vi.waitFor(() => expect(receiver.accepted().map((b) => b.type).sort()).toEqual(["survey.completed", "survey.low_score"]), { timeout: 10_000, interval: 20 });
    expect(await botflow(["webhooks", "replay"], env)).toMatchObject({ code: 2 });
  });

  it("botflow webhooks reads and replays the production dead letter in Redis", async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    let up = false;
    receiver.answer = () => ({ status: up ? 200 : 503 });
    const pipeline = await openBullmq([receiver.url]);
    try {
      for (const e of fullSurvey("s-prod", 4, undefined)) await pipeline.add(e);
      const env = { REDIS_URL: "redis://127.0.0.1:6379" };
      const prefix = pipeline.prefix as string;
      await vi.waitFor(async () => expect((await botflow(["webhooks", "list-dead", "--prefix", prefix], env)).stdout).toContain("1 webhook delivery in the dead letter"), { timeout: 10_000, interval: 50 });
      expect((await botflow(["webhooks", "list-dead", "--prefix", prefix], env)).stdout).toMatch(/^s-prod\.survey\.completed@[0-9a-f]{12}\t4 attempt\(s\)\t.*answered 503/m);
      up = true;
      expect((await botflow(["webhooks", "replay", "--id", "s-prod.survey.completed", "--prefix", prefix], env)).stdout).toContain("replayed 1 webhook delivery");
      await vi.waitFor(() => expect(receiver.acceptedIds()).toEqual(["s-prod.survey.completed"]), { timeout: 10_000, interval: 20 });
      expect((await botflow(["webhooks", "list-dead", "--prefix", prefix], env)).stdout).toContain("0 webhook deliveries");
    } finally {
      await pipeline.close();
    }
  });
});
