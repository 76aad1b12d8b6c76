/**
 * The web chat channel and its per-socket connection without a network: ordering, draining
 * on shutdown, failures, the Channel port's parseInbound, and the bounded history.
 */
import { visibleEffects } from "../../channels/port.ts";
import { describe, expect, it } from "vitest";
import { WebchatConnection, MAX_QUEUED_FRAMES } from "../../channels/webchat/connection.ts";
import type { ServerFrame } from "../../channels/webchat/protocol.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import { StoredWebchatHistory, type HistoryEntry, type RemoteAppendListener, type WebchatHistory } from "../../channels/webchat/history.ts";
import { WebchatChannel, type FrameSink } from "../../channels/webchat/webchat-channel.ts";
import { ConversationBusyError } from "../../engine/runtime.ts";
import type { Logger } from "../../engine/ports.ts";
import type { Effect, InboundEvent } from "../../engine/types.ts";

class Sink implements FrameSink {
  frames: ServerFrame[] = [];
  closedWith: number | undefined;
  send(frame: ServerFrame): void {
    this.frames.push(frame);
  }
  close(code: number): void {
    this.closedWith = code;
  }
}

/** A handler whose calls wait until the test releases them. */
function gatedHandler() {
  const calls: { event: InboundEvent; release: () => void }[] = [];
  const handle = (event: InboundEvent) =>
    new Promise<{ status: "processed" }>((resolve) => calls.push({ event, release: () => resolve({ status: "processed" }) }));
  return { calls, handle };
}

const tick = () => new Promise((r) => setImmediate(r));
const json = (f: unknown) => JSON.stringify(f);

function hello(conn: WebchatConnection, conversationId?: string): void {
  conn.receive(json({ type: "hello", ...(conversationId ? { conversationId } : {}) }), false);
}

describe("WebchatConnection", () => {
  it("hands frames to the runtime one at a time, in the order the socket sent them", async () => {
    const channel = new WebchatChannel();
    const gate = gatedHandler();
    const sink = new Sink();
    const conn = new WebchatConnection(channel, gate.handle, sink);
    hello(conn);
    conn.receive(json({ type: "text", id: "a", text: "first" }), false);
    conn.receive(json({ type: "text", id: "b", text: "second" }), false);
    await tick();
    expect(gate.calls.map((c) => c.event.dedupeKey)).toEqual(["a"]);
    gate.calls[0]?.release();
    await tick();
    expect(gate.calls.map((c) => c.event.dedupeKey)).toEqual(["a", "b"]);
    gate.calls[1]?.release();
    await tick();
    expect(sink.frames.filter((f) => f.type === "ack")).toEqual([
      { type: "ack", id: "a", status: "processed" },
      { type: "ack", id: "b", status: "processed" },
    ]);
  });

  it("on shutdown refuses new frames, waits for the ones in flight, then closes the socket with 1012", async () => {
    const channel = new WebchatChannel();
    const gate = gatedHandler();
    const sink = new Sink();
    const conn = new WebchatConnection(channel, gate.handle, sink);
    hello(conn);
    conn.receive(json({ type: "choice", id: "busy", promptId: "p1", index: 0 }), false);
    await tick();
    let closed = false;
    const closing = channel.close().then(() => (closed = true));
    conn.receive(json({ type: "text", id: "late", text: "too late" }), false);
    await tick();
    expect(closed).toBe(false);
    expect(sink.closedWith).toBeUndefined();
    expect(sink.frames.at(-1)).toEqual({ type: "error", code: "shutting_down", message: "the server is restarting: reconnect and resend", id: "late" });
    gate.calls[0]?.release();
    await closing;
    expect(gate.calls).toHaveLength(1);
    expect(sink.frames.at(-1)).toEqual({ type: "ack", id: "busy", status: "processed" });
    expect(sink.closedWith).toBe(1012);
  });

  it(`tells a socket with ${MAX_QUEUED_FRAMES} frames waiting to slow down`, async () => {
    const channel = new WebchatChannel();
    const gate = gatedHandler();
    const sink = new Sink();
    const conn = new WebchatConnection(channel, gate.handle, sink);
    hello(conn);
    for (let i = 0; i <= MAX_QUEUED_FRAMES; i++) conn.receive(json({ type: "text", id: `m${i}`, text: "x" }), false);
    expect(sink.frames.at(-1)).toEqual({ type: "error", code: "too_many", message: "too many frames waiting: wait for acks, then resend", id: `m${MAX_QUEUED_FRAMES}` });
  });

  it("asks for a resend when the runtime fails, and logs neither the text nor the stack", async () => {
    const channel = new WebchatChannel();
    const logged: unknown[] = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (obj) => void logged.push(obj) };
    const sink = new Sink();
    let fail: Error = new ConversationBusyError("webchat::x");
    const conn = new WebchatConnection(channel, async () => Promise.reject(fail), sink, logger);
    hello(conn);
    conn.receive(json({ type: "text", id: "t1", text: "my secret comment" }), false);
    await tick();
    fail = new Error("disk on fire");
    conn.receive(json({ type: "text", id: "t2", text: "my secret comment" }), false);
    await tick();
    expect(sink.frames.slice(1)).toEqual([
      { type: "error", code: "busy", message: "the conversation is busy: resend the frame with the same id", id: "t1" },
      { type: "error", code: "internal", message: "the message could not be processed: resend it with the same id", id: "t2" },
    ]);
    expect(JSON.stringify(logged)).not.toContain("my secret comment");
    expect(JSON.stringify(logged)).toContain("disk on fire");
  });
});

describe("WebchatChannel", () => {
  it("parses frames into events through the Channel port; the client id is the dedupe key", () => {
    const channel = new WebchatChannel();
    expect(channel.parseInbound({ conversationId: "c1", locale: "uk", data: json({ type: "choice", id: "k1", promptId: "p3", index: 2 }), isBinary: false })).toEqual({
      ok: true,
      events: [{ channel: "webchat", conversationId: "c1", userId: "c1", locale: "uk", kind: "choice", dedupeKey: "k1", promptId: "p3", buttonIndex: 2 }],
    });
    expect(channel.parseInbound({ conversationId: "c1", data: json({ type: "start", scenarioId: "csat" }), isBinary: false })).toEqual({
      ok: true,
      events: [expect.objectContaining({ kind: "start", scenarioId: "csat", dedupeKey: expect.stringMatching(/^start:/) })],
    });
    expect(channel.parseInbound({ conversationId: "c1", data: json({ type: "hello" }), isBinary: false })).toEqual({ ok: false, reason: "hello is only valid as a socket's first frame" });
    expect(channel.parseInbound({ conversationId: "c1", data: Buffer.from([0xff]), isBinary: true })).toMatchObject({ ok: false });
  });

  it("renders only user-visible effects into the history, and replays it to a socket that attaches", async () => {
    const channel = new WebchatChannel({ history: new StoredWebchatHistory(new MemoryChannelStorage(), { maxFrames: 2 }) });
    const ref = { channel: "webchat", conversationId: "c1", userId: "c1" };
    const effects: Effect[] = [
      { type: "track", event: { type: "dialogue_started" } },
      { type: "send", message: { text: "one" } },
      { type: "runAction", blockId: "save", name: "statistic__set", config: {} },
      { type: "send", message: { text: "two" } },
      { type: "send", message: { text: "three" } },
    ];
    await channel.deliver(ref, visibleEffects(effects));
    const sink = new Sink();
    const known: boolean[] = [];
    await channel.attach("c1", sink, (k) => known.push(k));
    await channel.attach("c2", new Sink(), (k) => known.push(k));
    expect(known).toEqual([true, false]);
    expect(sink.frames).toEqual([
      { type: "message", text: "two" },
      { type: "message", text: "three" },
    ]);
    await channel.deliver(ref, [{ type: "send", message: { text: "four" } }]);
    expect(sink.frames.at(-1)).toEqual({ type: "message", text: "four" });
    expect(channel.socketCount()).toBe(2);
  });

  it("never lets a frame delivered while a socket attaches go missing or arrive twice", async () => {
    let release: () => void = () => {};
    const slow = new StoredWebchatHistory(new MemoryChannelStorage());
    const history = {
      shared: false,
      subscribe: async () => {},
      close: async () => {},
      append: (id: string, frames: readonly ServerFrame[]) => slow.append(id, frames),
      read: async (id: string) => {
        const frames = await slow.read(id);
        await new Promise<void>((r) => (release = r));
        return frames;
      },
    };
    const channel = new WebchatChannel({ history });
    const ref = { channel: "webchat", conversationId: "c1", userId: "c1" };
    await channel.deliver(ref, [{ type: "send", message: { text: "before" } }]);
    const sink = new Sink();
    const attaching = channel.attach("c1", sink, () => {});
    const delivering = channel.deliver(ref, [{ type: "send", message: { text: "during" } }]);
    await tick();
    release();
    await Promise.all([attaching, delivering]);
    expect(sink.frames).toEqual([
      { type: "message", text: "before" },
      { type: "message", text: "during" },
    ]);
  });

  it("fills a gap from the shared history when another process's frames are announced out of order, and sends none twice", async () => {
    const stored: HistoryEntry[] = [];
    let remote: RemoteAppendListener = () => {};
    const shared: WebchatHistory = {
      shared: true,
      append: async (_id, frames) =>
        frames.map((frame) => {
          const e = { seq: stored.length + 1, frame };
          stored.push(e);
          return e;
        }),
      read: async () => (stored.length > 0 ? [...stored] : undefined),
      subscribe: async (listener) => void (remote = listener),
      close: async () => {},
    };
    const channel = new WebchatChannel({ history: shared });
    await channel.start(async () => ({ status: "processed" }));
    const sink = new Sink();
    await channel.attach("c1", sink, () => {});
    await channel.deliver({ channel: "webchat", conversationId: "c1", userId: "c1" }, [{ type: "send", message: { text: "one (here)" } }]);
    // Two frames another process appended; the announcement of the second overtakes the first.
    stored.push({ seq: 2, frame: { type: "message", text: "two (there)" } }, { seq: 3, frame: { type: "message", text: "three (there)" } });
    remote("c1", [{ seq: 3, frame: { type: "message", text: "three (there)" } }]);
    await tick();
    remote("c1", [{ seq: 2, frame: { type: "message", text: "two (there)" } }]);
    remote("elsewhere", [{ seq: 1, frame: { type: "message", text: "not ours" } }]);
    await tick();
    expect(sink.frames.map((f) => (f.type === "message" ? f.text : f.type))).toEqual(["one (here)", "two (there)", "three (there)"]);
  });

  it("resolves a trigger's visitor only while a tab has the conversation open, here or on another process", async () => {
    const sessions = new MemoryChannelStorage();
    const history = new StoredWebchatHistory(new MemoryChannelStorage());
    const a = new WebchatChannel({ history, sessions });
    const b = new WebchatChannel({ history, sessions });
    await a.start(async () => ({ status: "processed" }));
    await b.start(async () => ({ status: "processed" }));
    const { conversationId } = await a.openConversation(undefined);
    const noSession = { ok: false, status: 404, problem: "unknown_recipient", reason: "this visitor has no open web chat session" };
    expect(await a.proactive.resolve({ to: conversationId })).toEqual(noSession);
    const sink = new Sink();
    await a.attach(conversationId, sink, () => {});
    await new Promise((r) => setImmediate(r)); // the mark is written in the background
    const ref = { channel: "webchat", conversationId, userId: conversationId };
    expect(await a.proactive.resolve({ to: conversationId })).toEqual({ ok: true, ref });
    expect(await b.proactive.resolve({ to: conversationId })).toEqual({ ok: true, ref });
    // The first message is a server push like any other: it reaches the open tab.
    await a.deliver(ref, [{ type: "send", message: { text: "Please rate us" } }]);
    expect(sink.frames).toEqual([{ type: "message", text: "Please rate us" }]);
    a.detach(conversationId, sink);
    await new Promise((r) => setImmediate(r));
    expect(await a.proactive.resolve({ to: conversationId })).toEqual(noSession);
    expect(await b.proactive.resolve({ to: conversationId })).toEqual(noSession);
    expect(await a.proactive.resolve({ to: "not a conversation id" })).toEqual(noSession);
    await a.close();
    await b.close();
  });

  it("makes conversation ids of 144 random bits", () => {
    const channel = new WebchatChannel();
    const ids = Array.from({ length: 100 }, () => channel.newConversationId());
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(Buffer.from(id, "base64url")).toHaveLength(18);
  });
});
