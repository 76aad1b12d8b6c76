/**
 * The one webhook route (channels/webhook-route.ts) on a bare fastify: the status contract every
 * webhook channel shares, matched by error class and code, never by message.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { InFlight } from "../../channels/in-flight.ts";
import { sameSecret } from "../../channels/secret.ts";
import { MAX_UNREACHABLE, webhookRoute, type WebhookSpec } from "../../channels/webhook-route.ts";
import { ChannelError, ConversationBusyError, LockLostError, StoreUnavailableError } from "../../engine/errors.ts";

const SECRET = "route-secret-7c1f";
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function route(over: Partial<WebhookSpec<{ n: number }>> = {}) {
  const calls = { parse: 0, handle: 0 };
  let closing = false;
  const inflight = new InFlight();
  const app = Fastify();
  apps.push(app);
  await webhookRoute<{ n: number }>(app, {
    channel: "test",
    path: "/hook",
    redeliverer: "the test",
    authenticate: (h) => sameSecret(h["x-secret"], SECRET),
    parse: (body) => {
      calls.parse++;
      return typeof (body as { n?: unknown }).n === "number" ? { ok: true, payload: body as { n: number } } : { ok: false, reason: "no n" };
    },
    handle: async () => {
      calls.handle++;
    },
    closing: () => closing,
    inflight,
    bodyLimit: 1024,
    ...over,
  });
  const post = (body: string, secret: string | null = SECRET) =>
    app.inject({ method: "POST", url: "/hook", headers: { "content-type": "application/json", ...(secret !== null ? { "x-secret": secret } : {}) }, payload: body });
  return { app, calls, inflight, post, close: () => void (closing = true) };
}

describe("webhookRoute", () => {
  it("answers 200 once handled, and counts the call in flight meanwhile", async () => {
    let seen = -1;
    const inflight = new InFlight();
    const r = await route({
      inflight,
      handle: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        seen = inflight.size;
      },
    });
    const res = await r.post(JSON.stringify({ n: 1 }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(seen).toBe(1);
    expect(inflight.size).toBe(0);
  });

  it("refuses a missing or wrong secret with 401 from the headers, before the body is read (even an oversized one)", async () => {
    const r = await route();
    expect((await r.post(JSON.stringify({ n: 1 }), null)).statusCode).toBe(401);
    expect((await r.post(JSON.stringify({ n: 1 }), `${SECRET}x`)).statusCode).toBe(401);
    expect((await r.post("x".repeat(10_000), "wrong")).statusCode).toBe(401);
    expect((await r.post("x".repeat(10_000))).statusCode).toBe(413);
    expect(r.calls).toEqual({ parse: 0, handle: 0 });
  });

  it("refuses a bad signature with 401, an unparsable body or a foreign payload with 400", async () => {
    const r = await route({ verify: (raw) => !raw.toString().includes("forged") });
    expect((await r.post(JSON.stringify({ n: 1, forged: true }))).statusCode).toBe(401);
    const bad = await r.post("{not json");
    expect(bad.statusCode).toBe(400);
    expect(bad.body).not.toContain("{not json");
    expect((await r.post(JSON.stringify({ other: 1 }))).statusCode).toBe(400);
    expect(r.calls.handle).toBe(0);
  });

  it("answers 503 with Retry-After while closing, and when the conversation is busy, its lock lost or a store away", async () => {
    const closing = await route();
    closing.close();
    const refused = await closing.post(JSON.stringify({ n: 1 }));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("5");
    expect(closing.calls.handle).toBe(0);
    for (const err of [new ConversationBusyError("test::1"), new LockLostError("test::1"), new StoreUnavailableError("Redis")]) {
      const r = await route({
        handle: async () => {
          throw err;
        },
      });
      const res = await r.post(JSON.stringify({ n: 1 }));
      expect(res.statusCode, err.name).toBe(503);
      expect(res.headers["retry-after"]).toBe("5");
    }
  });

  it("answers 500 to any other failure (a message naming a code is not that error), so the messenger delivers again", async () => {
    const r = await route({
      handle: async () => {
        throw new Error("CONVERSATION_BUSY");
      },
    });
    expect((await r.post(JSON.stringify({ n: 1 }))).statusCode).toBe(500);
  });

  it("passes on an SDK's own refusal (401, 400) and reply body", async () => {
    const refusing = await route({ handle: async () => ({ status: 401, reason: "no valid token" }) });
    expect((await refusing.post(JSON.stringify({ n: 1 }))).statusCode).toBe(401);
    const invoke = await route({ handle: async () => ({ status: 200, body: { status: 200, body: { ok: 1 } } }) });
    const res = await invoke.post(JSON.stringify({ n: 1 }));
    expect(res.json()).toEqual({ status: 200, body: { ok: 1 } });
  });

  it("never answers one payload 5xx forever: a failure of its own gets 500 once, then the payload is dropped and counted", async () => {
    const drops: string[] = [];
    const r = await route({
      dropStatus: 200,
      policy: { onDrop: (channel, reason) => drops.push(`${channel}:${reason}`) },
      handle: async (p) => {
        if (p.n === 13) throw new TypeError("cannot read properties of undefined");
      },
    });
    expect((await r.post(JSON.stringify({ n: 13 }))).statusCode).toBe(500);
    const again = await r.post(JSON.stringify({ n: 13 }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ok: true, dropped: "failed_again" });
    expect((await r.post(JSON.stringify({ n: 1 }))).statusCode).toBe(200); // other payloads are unaffected
    expect(drops).toEqual(["test:failed_again"]);
  });

  it("answers 503 while the messenger's API is away, up to MAX_UNREACHABLE times per payload, and never drops for its own stores", async () => {
    const drops: string[] = [];
    let err: Error = new ChannelError("test", "send", "the API answered 502", { status: 502, retryable: true });
    const r = await route({ policy: { onDrop: (_c, reason) => drops.push(reason) }, handle: async () => Promise.reject(err) });
    const body = JSON.stringify({ n: 2 });
    for (let i = 0; i < MAX_UNREACHABLE; i++) expect((await r.post(body)).statusCode).toBe(503);
    expect((await r.post(body)).statusCode).toBe(400);
    expect(drops).toEqual(["reply_target_unreachable"]);
    err = new StoreUnavailableError("conversation state (Redis)");
    const other = JSON.stringify({ n: 3 });
    for (let i = 0; i < 20; i++) expect((await r.post(other)).statusCode).toBe(503);
    expect(drops).toHaveLength(1);
  });

  it("counts unparsable and foreign bodies as drops, answered with the channel's drop status", async () => {
    const drops: string[] = [];
    const r = await route({ dropStatus: 200, policy: { onDrop: (_c, reason) => drops.push(reason) } });
    expect((await r.post("{not json")).json()).toEqual({ ok: true, dropped: "unparsable" });
    expect((await r.post(JSON.stringify({ other: 1 }))).json()).toEqual({ ok: true, dropped: "malformed" });
    expect(drops).toEqual(["unparsable", "malformed"]);
    expect(r.calls.handle).toBe(0);
  });

  it("answers 503 with Retry-After when the work does not finish within the deadline, and lets it finish", async () => {
    let finish: () => void = () => {};
    let done = false;
    const inflight = new InFlight();
    const r = await route({
      inflight,
      policy: { deadlineMs: 100 },
      handle: () =>
        new Promise<void>((resolve) => {
          finish = () => {
            done = true;
            resolve();
          };
        }),
    });
    const began = Date.now();
    const res = await r.post(JSON.stringify({ n: 1 }));
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(inflight.size).toBe(1); // still running: close() waits for it
    finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(true);
    expect(inflight.size).toBe(0);
  });
});
