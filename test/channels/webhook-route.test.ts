/**
 * The one webhook route (channels/webhook-route.ts) on a bare fastify: the status contract every
 * webhook channel shares, matched by error class and code, never by message.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { InFlight } from "../../channels/in-flight.ts";
import { sameSecret } from "../../channels/secret.ts";
import { webhookRoute, type WebhookSpec } from "../../channels/webhook-route.ts";
import { ConversationBusyError, LockLostError, StoreUnavailableError } from "../../engine/errors.ts";

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
});
