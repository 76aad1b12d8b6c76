/**
 * The web chat socket route on a bare fastify: sockets that stop answering pings are dropped,
 * so a vanished phone does not stay in its conversation's delivery list.
 */
import websocket from "@fastify/websocket";
import Fastify from "fastify";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { webchatRoutes } from "../../channels/webchat/plugin.ts";
import { WebchatChannel } from "../../channels/webchat/webchat-channel.ts";

const apps: ReturnType<typeof Fastify>[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

async function open(url: string, autoPong: boolean): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(url, { autoPong });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return { ws, closed };
}

describe("web chat heartbeat", () => {
  it("terminates a socket that does not answer pings and keeps one that does", async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(websocket);
    const channel = new WebchatChannel();
    await webchatRoutes(app, { channel, handle: async () => ({ status: "processed" }), heartbeatMs: 250 });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/chat/ws`;

    const healthy = await open(url, true);
    const silent = await open(url, false);
    for (const s of [healthy, silent]) s.ws.send(JSON.stringify({ type: "hello" }));
    await expect.poll(() => channel.socketCount(), { interval: 5 }).toBe(2);

    expect(await silent.closed).toBe(1006);
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    await expect.poll(() => channel.socketCount(), { timeout: 2_000 }).toBe(1);
    healthy.ws.close();
  });
});
