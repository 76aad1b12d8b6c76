/**
 * The web chat over a real WebSocket on a real ephemeral port, through the whole web process
 * (composeApp): protocol frames exactly as a browser sees them.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { useSharedStore, startTestApp, storedDialogue, type TestApp } from "../app/app-harness.ts";
import { ChatClient, conversationIdOf } from "../app/ws-client.ts";
import { ManualClock } from "../helpers/manual-clock.ts";

const RATING_PROMPT = {
  type: "message",
  text: "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied).",
  promptId: "p1",
  buttons: [
    { label: "1", index: 0 },
    { label: "2", index: 1 },
    { label: "3", index: 2 },
    { label: "4", index: 3 },
    { label: "5", index: 4 },
    { label: "Skip", index: 5, skip: true },
  ],
  rows: [[0, 1, 2, 3, 4], [5]],
};
const COMMENT_PROMPT = {
  type: "message",
  text: "Thank you! Would you like to add a comment to your rating?",
  promptId: "p2",
  buttons: [{ label: "No comment", index: 0, skip: true }],
  rows: [[0]],
  expectsText: true,
};
const THANKS = { type: "message", text: "Thank you for your feedback!" };
const COMMENT = "Quick and friendly, thank you";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

let t: TestApp | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.dispose();
  t = undefined;
});

async function start(clock?: ManualClock): Promise<{ t: TestApp; url: string }> {
  t = await startTestApp({}, { surveyStore: store, ...(clock ? { clock } : {}) });
  const { url } = await t.app.listen();
  return { t, url };
}

async function connect(url: string): Promise<ChatClient> {
  const c = await ChatClient.connect(url);
  clients.push(c);
  return c;
}

/** hello + start: returns the conversation id, with the rating prompt taken. */
async function beginCsat(c: ChatClient, hello: Record<string, unknown> = {}): Promise<string> {
  c.send({ type: "hello", ...hello });
  const [h] = await c.next();
  c.send({ type: "start", id: "s1" });
  const [prompt, ack] = await c.next(2);
  expect(prompt).toMatchObject({ type: "message", promptId: "p1" });
  expect(ack).toEqual({ type: "ack", id: "s1", status: "processed" });
  return conversationIdOf(h);
}


describe("web chat over a WebSocket", () => {
  it("runs the CSAT survey: hello → tap 4 → comment → thanks, and queues the survey", async () => {
    const { url } = await start();
    const c = await connect(url);

    c.send({ type: "hello" });
    const [hello] = await c.next();
    expect(hello).toEqual({ type: "hello", conversationId: expect.stringMatching(/^[A-Za-z0-9_-]{24}$/), resumed: false });
    const conversationId = conversationIdOf(hello);

    c.send({ type: "start", id: "m1" });
    expect(await c.next(2)).toEqual([RATING_PROMPT, { type: "ack", id: "m1", status: "processed" }]);

    c.send({ type: "choice", id: "m2", promptId: "p1", index: 3 });
    expect(await c.next(3)).toEqual([
      { type: "edit", promptId: "p1", reason: "answered", answer: "4" },
      COMMENT_PROMPT,
      { type: "ack", id: "m2", status: "processed" },
    ]);

    c.send({ type: "text", id: "m3", text: COMMENT });
    expect(await c.next(3)).toEqual([
      { type: "edit", promptId: "p2", reason: "answered", answer: COMMENT },
      THANKS,
      { type: "ack", id: "m3", status: "processed" },
    ]);

    // The in-process queue stores before the step completes: the survey is in PGlite now.
    // The stored survey's common fields and the logs' lack of comment text are the contract
    // suite's (channel-contract.ts, for every channel); what is the web chat's own stays here.
    expect(await storedDialogue(store, conversationId)).toMatchObject({ channel: "webchat", botId: "", score: 4, comment: COMMENT });
    expect((t as TestApp).logs.join("\n")).toContain(conversationId);
  });

  it("processes a resent frame once: the resend is only acknowledged as a duplicate", async () => {
    const { url } = await start();
    const c = await connect(url);
    const conversationId = await beginCsat(c);
    const choice = { type: "choice", id: "tap-1", promptId: "p1", index: 4 };
    c.send(choice);
    expect(await c.next(3)).toEqual([
      { type: "edit", promptId: "p1", reason: "answered", answer: "5" },
      COMMENT_PROMPT,
      { type: "ack", id: "tap-1", status: "processed" },
    ]);
    c.send(choice);
    c.send({ type: "text", id: "text-1", text: "ok" });
    c.send({ type: "text", id: "text-1", text: "ok" });
    expect(await c.next(4)).toEqual([
      { type: "ack", id: "tap-1", status: "duplicate" },
      { type: "edit", promptId: "p2", reason: "answered", answer: "ok" },
      THANKS,
      { type: "ack", id: "text-1", status: "processed" },
    ]);
    expect(await c.next()).toEqual([{ type: "ack", id: "text-1", status: "duplicate" }]);
    expect(c.pending()).toEqual([]);
    expect(await storedDialogue(store, conversationId)).toMatchObject({ score: 5, comment: "ok", completed: true });
  });

  it("answers a tap on an already answered question with an edit that disables it, and changes nothing", async () => {
    const { url } = await start();
    const c = await connect(url);
    const conversationId = await beginCsat(c);
    c.send({ type: "choice", id: "a", promptId: "p1", index: 1 });
    await c.next(3);
    c.send({ type: "choice", id: "b", promptId: "p1", index: 4 });
    expect(await c.next(2)).toEqual([
      { type: "edit", promptId: "p1", reason: "stale" },
      { type: "ack", id: "b", status: "processed" },
    ]);
    c.send({ type: "choice", id: "c", promptId: "p2", index: 7 });
    expect(await c.next(2)).toEqual([
      { type: "error", code: "unknown_button", message: "that button is not part of the question" },
      { type: "ack", id: "c", status: "processed" },
    ]);
    expect(await storedDialogue(store, conversationId)).toMatchObject({ accepted: true, score: 2, completed: false });
  });

  it("resumes a conversation on reconnect with the same id: history replayed, the survey goes on", async () => {
    const { url } = await start();
    const first = await connect(url);
    const conversationId = await beginCsat(first, { locale: "uk" });
    first.close();
    await first.closed();

    const second = await connect(url);
    second.send({ type: "hello", conversationId, locale: "uk" });
    const [hello, replayed] = await second.next(2);
    expect(hello).toEqual({ type: "hello", conversationId, resumed: true });
    expect(replayed).toMatchObject({ type: "message", promptId: "p1", text: expect.stringContaining("оцініть") });

    second.send({ type: "choice", id: "r1", promptId: "p1", index: 3 });
    const [edit, comment] = await second.next(3);
    expect(edit).toEqual({ type: "edit", promptId: "p1", reason: "answered", answer: "4" });
    expect(comment).toMatchObject({ promptId: "p2", text: "Дякуємо! Бажаєте додати коментар до оцінки?" });
    expect(await storedDialogue(store, conversationId)).toMatchObject({ accepted: true, score: 4 });
  });

  it("never adopts a conversation id the server did not issue: a made-up one gets a fresh conversation", async () => {
    const { url, t } = await start();
    const c = await connect(url);
    const madeUp = "AAAAAAAAAAAAAAAAAAAAAAAA"; // well-formed, never issued
    c.send({ type: "hello", conversationId: madeUp });
    const [hello] = await c.next();
    expect(hello).toMatchObject({ type: "hello", resumed: false });
    expect(conversationIdOf(hello)).not.toBe(madeUp);
    expect(conversationIdOf(hello)).toMatch(/^[A-Za-z0-9_-]{24}$/);
    c.send({ type: "start", id: "s1" });
    await c.next(2);
    // The fresh conversation is the one the events went to; the made-up id has nothing.
    expect(t.logs.join("\n")).not.toContain(madeUp);
    // An id the server issued (even before anything was said in it) is resumed by another socket.
    const a = await connect(url);
    a.send({ type: "hello" });
    const issued = conversationIdOf((await a.next())[0]);
    const b = await connect(url);
    b.send({ type: "hello", conversationId: issued });
    expect((await b.next())[0]).toEqual({ type: "hello", conversationId: issued, resumed: false });
    b.send({ type: "start", id: "s2" });
    expect((await a.next())[0]).toMatchObject({ type: "message", promptId: "p1" });
  });

  it("delivers to every socket of a conversation and gives each new conversation its own unguessable id", async () => {
    const { url } = await start();
    const a = await connect(url);
    const id = await beginCsat(a);
    const b = await connect(url);
    b.send({ type: "hello", conversationId: id });
    await b.next(2); // hello + replayed prompt
    a.send({ type: "choice", id: "x", promptId: "p1", index: 0 });
    expect((await b.next(2)).map((f) => f.type)).toEqual(["edit", "message"]);
    expect((await a.next(3)).map((f) => f.type)).toEqual(["edit", "message", "ack"]);

    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const c = await connect(url);
      c.send({ type: "hello" });
      ids.add(conversationIdOf((await c.next())[0]));
    }
    expect(ids.size).toBe(3);
    expect(ids.has(id)).toBe(false);
  });

  it("starts another scenario when asked, and says so when there is no dialogue", async () => {
    const { url } = await start();
    const c = await connect(url);
    c.send({ type: "hello" });
    await c.next();
    c.send({ type: "text", id: "early", text: "hello?" });
    expect(await c.next(2)).toEqual([
      { type: "error", code: "no_dialogue", message: "no conversation is in progress: send a start frame to begin one" },
      { type: "ack", id: "early", status: "processed" },
    ]);
    c.send({ type: "start", id: "e1", scenarioId: "csat_emoji" });
    const [prompt] = await c.next(2);
    expect(prompt).toMatchObject({ type: "message", promptId: "p1", buttons: expect.arrayContaining([expect.objectContaining({ label: "👍" })]) });
  });

  it("starts the scenario configured for the web chat (BOTFLOW_WEBCHAT_SCENARIO) when a start names none", async () => {
    t = await startTestApp({ BOTFLOW_WEBCHAT_SCENARIO: "csat_emoji" }, { surveyStore: store });
    const { url } = await t.app.listen();
    const c = await connect(url);
    c.send({ type: "hello" });
    await c.next();
    c.send({ type: "start", id: "w1" });
    const [prompt] = await c.next(2);
    expect(prompt).toMatchObject({ promptId: "p1", buttons: expect.arrayContaining([expect.objectContaining({ label: "👍" })]) });
    c.send({ type: "start", id: "w2", scenarioId: "csat" });
    const [closed, rating] = await c.next(3);
    expect(closed).toEqual({ type: "edit", promptId: "p1", reason: "restart" });
    expect(rating).toMatchObject({ text: RATING_PROMPT.text });
  });

  it("fires a no-answer timeout from the sweeper and tells the page the question expired", async () => {
    const clock = new ManualClock();
    const { url } = await start(clock);
    const c = await connect(url);
    const conversationId = await beginCsat(c);
    clock.advance(25 * 3_600_000);
    expect(await (t as TestApp).app.sweep()).toBe(1);
    // What follows the expiry is the scenario's business (csat.yaml's timeout path); the page is told first.
    expect(await c.next()).toEqual([{ type: "edit", promptId: "p1", reason: "timeout" }]);
    expect(await storedDialogue(store, conversationId)).toMatchObject({ offered: true, denied: true, deniedReason: "timeout", score: null });
  });

  it("fires due timeouts by itself on the BOTFLOW_SWEEP_INTERVAL tick once listening", async () => {
    const clock = new ManualClock();
    t = await startTestApp({ BOTFLOW_SWEEP_INTERVAL: "50ms" }, { surveyStore: store, clock });
    const { url } = await t.app.listen();
    const c = await connect(url);
    await beginCsat(c);
    clock.advance(25 * 3_600_000);
    expect(await c.next()).toEqual([{ type: "edit", promptId: "p1", reason: "timeout" }]);
  });

  it("closes sockets with 1012 (come back soon) on shutdown, after the frames sent before it", async () => {
    const { url } = await start();
    const c = await connect(url);
    await beginCsat(c);
    c.send({ type: "choice", id: "last", promptId: "p1", index: 2 });
    await c.next();
    const closing = (t as TestApp).app.close();
    expect(await c.closed()).toBe(1012);
    await closing;
    expect(c.pending().map((f) => f.type)).toEqual(["message", "ack"]);
  });
});

describe("web chat against hostile frames", () => {
  it("answers every bad frame with an error frame and keeps the socket usable", async () => {
    const { url } = await start();
    const c = await connect(url);
    const bad: [unknown, string, string][] = [
      ["{not json", "bad_json", "frame is not valid JSON"],
      ["[1,2]", "bad_frame", "frame must be a JSON object with a type"],
      ["null", "bad_frame", "frame must be a JSON object with a type"],
      [{ type: "rm -rf" }, "bad_frame", "frame type must be hello, start, text or choice"],
      [{ type: "text", id: "x1", text: "hi" }, "no_hello", "send a hello frame first"],
      [{ type: "hello", conversationId: "../../etc" }, "bad_frame", "hello.conversationId must be the id a previous hello returned"],
      [{ type: "hello", conversationId: "admin" }, "bad_frame", "hello.conversationId must be the id a previous hello returned"],
      ['{"type":"hello","__proto__":{"admin":true}}', "bad_frame", "hello takes only conversationId and locale"],
      [{ type: "hello", locale: "<script>" }, "bad_frame", "hello.locale must be a language tag such as en or uk-UA"],
    ];
    for (const [frame, code, message] of bad) {
      c.send(frame);
      const [e] = await c.next();
      expect(e).toMatchObject({ type: "error", code, message });
    }
    c.send({ type: "hello" });
    expect((await c.next())[0]).toMatchObject({ type: "hello", resumed: false });
    const afterHello: [unknown, string, string][] = [
      [{ type: "hello" }, "bad_frame", "hello was already sent on this socket"],
      [{ type: "text", text: "no id" }, "bad_frame", "text.id must be"],
      [{ type: "text", id: "a b", text: "bad id" }, "bad_frame", "text.id must be"],
      [{ type: "text", id: "e1", text: "   " }, "bad_frame", "text.text must be a non-empty string"],
      [{ type: "text", id: "e2", text: 42 }, "bad_frame", "text.text must be a non-empty string"],
      [{ type: "text", id: "e3", text: "hi", admin: true }, "bad_frame", "text takes only id and text"],
      [{ type: "choice", id: "e4", promptId: "p1", index: -1 }, "bad_frame", "choice.index must be a button index"],
      [{ type: "choice", id: "e5", promptId: "p1", index: 1.5 }, "bad_frame", "choice.index must be a button index"],
      [{ type: "choice", id: "e6", promptId: { $gt: "" }, index: 1 }, "bad_frame", "choice.promptId must be the promptId of a message"],
      [{ type: "start", scenarioId: "../secrets" }, "bad_frame", "start.scenarioId must be a scenario id"],
      [{ type: "text", id: "e7", text: "x".repeat(70_000) }, "bad_frame", "text.text is over 65536 characters"],
      [JSON.stringify({ type: "text", id: "e8", text: "y".repeat(330_000) }), "too_large", "-byte limit"],
    ];
    for (const [frame, code, message] of afterHello) {
      c.send(frame);
      const [e] = await c.next();
      expect(e).toMatchObject({ type: "error", code, message: expect.stringContaining(message) });
      expect(JSON.stringify(e)).not.toContain("rm -rf");
    }
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await c.next())[0]).toMatchObject({ type: "error", code: "bad_frame", message: "binary frames are not accepted: send JSON text frames" });
    // An error frame names the client id when it could read one, so the client can match it.
    c.send({ type: "text", id: "e9", text: "" });
    expect((await c.next())[0]).toMatchObject({ code: "bad_frame", id: "e9" });

    c.send({ type: "start", id: "ok" });
    expect((await c.next(2)).map((f) => f.type)).toEqual(["message", "ack"]);
  });

  it("closes a socket that keeps sending bad frames (1008) after answering each", async () => {
    const { url } = await start();
    const c = await connect(url);
    for (let i = 0; i < 21; i++) c.send("garbage");
    expect(await c.closed()).toBe(1008);
    expect(c.pending()).toHaveLength(21);
    expect(c.pending().every((f) => f.type === "error" && f.code === "bad_json")).toBe(true);
  });

  it("closes a socket that sends a frame over the transport limit (1009) and keeps serving others", async () => {
    const { url } = await start();
    const c = await connect(url);
    c.send("z".repeat(400 * 1024));
    expect(await c.closed()).toBe(1009);
    const other = await connect(url);
    other.send({ type: "hello" });
    expect((await other.next())[0]).toMatchObject({ type: "hello" });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });
});
