/**
 * The WhatsApp Web channel on its own, with a fake client and a recording handler: login
 * lifecycle and reconnects (sleep injected, nothing waits), vote mapping and message filtering.
 */
import type { WhatsappWebConfig } from "../../channels/whatsapp/web-config.ts";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { randomUUID } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { Redis } from "ioredis";
import { loadConfig } from "../../app/config.ts";
import { CHROMIUM_ARGS, loadWhatsappWebClientFactory } from "../../channels/whatsapp/real-client.ts";
import { RedisAuthStore } from "../../channels/whatsapp/redis-auth-store.ts";
import { WhatsappWebChannel } from "../../channels/whatsapp/whatsapp-web-channel.ts";
import type { InboundEvent } from "../../engine/types.ts";
import type { Logger } from "../../engine/ports.ts";
import { BOT_ID, fakeFactory, type FakeWebClient } from "./whatsapp-web-fake-client.ts";

const CHAT = "380501234567@c.us";

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ""} ${JSON.stringify(obj)}`);
  return { lines, debug: rec("debug"), info: rec("info"), warn: rec("warn"), error: rec("error") };
}

function setup(o: { polls?: boolean; recoverMs?: number; handle?: (e: InboundEvent) => Promise<unknown> } = {}) {
  const factory = fakeFactory();
  const pauses: number[] = [];
  const events: InboundEvent[] = [];
  const logger = recordingLogger();
  const channel = new WhatsappWebChannel({
    createClient: factory.create,
    polls: o.polls ?? true,
    logger,
    reconnectMs: 100,
    maxReconnectMs: 350,
    ...(o.recoverMs !== undefined ? { recoverMs: o.recoverMs } : {}),
    sleep: async (ms) => void pauses.push(ms),
    // Each full-jitter pause at its ceiling, so the doubling is visible.
    random: () => 1,
  });
  const handle = o.handle ?? (async (e: InboundEvent) => void events.push(e));
  return { factory, pauses, events, logger, channel, start: () => channel.start(async (e) => (await handle(e), { status: "processed" as const })) };
}

const keyboard = {
  type: "send" as const,
  message: {
    text: "Rate us",
    promptId: "p7",
    buttons: [
      { label: "1", value: 1, index: 0 },
      { label: "2", value: 2, index: 1 },
      { label: "Skip", value: "", index: 2, skip: true },
    ],
  },
};

describe("WhatsappWebChannel login lifecycle", () => {
  it("waits out a LOGOUT on the same client, replaces one the library gave up on, backing off, and resets after ready", async () => {
    const s = setup({ recoverMs: 20 });
    await s.start();
    const first = s.factory.clients[0] as FakeWebClient;
    first.emit("qr", "2@abc");
    expect(s.channel.status()).toEqual({ state: "qr", qr: "2@abc" });
    first.emit("ready");
    expect(s.channel.status()).toEqual({ state: "ready" });

    // whatsapp-web.js re-injects the page after a LOGOUT and shows a new QR: the client stays.
    first.emit("disconnected", "LOGOUT");
    expect(s.channel.status().state).toBe("disconnected");
    expect(s.logger.lines.join("\n")).toContain("logged out from the phone");
    first.emit("qr", "2@def");
    await new Promise((r) => setTimeout(r, 40)); // past recoverMs: the QR came, nothing is replaced
    expect(s.factory.clients).toHaveLength(1);
    expect(first.destroyed).toBe(false);
    expect(s.channel.status()).toEqual({ state: "qr", qr: "2@def" });
    first.emit("ready");

    // A LOGOUT the library does not recover from within recoverMs: the client is replaced.
    first.emit("disconnected", "LOGOUT");
    await vi.waitFor(() => expect(s.factory.clients).toHaveLength(2));
    expect(first.destroyed).toBe(true);
    expect(s.logger.lines.join("\n")).toContain("did not show a new QR");
    const second = s.factory.clients[1] as FakeWebClient;
    expect(second.initialized).toBe(true);
    // Events of the old client no longer count.
    first.emit("ready");
    expect(s.channel.status().state).toBe("starting");

    // Any other state the library gives up on (it destroyed the client): replaced, backing off.
    second.emit("disconnected", "UNPAIRED");
    await vi.waitFor(() => expect(s.factory.clients).toHaveLength(3));
    (s.factory.clients[2] as FakeWebClient).emit("disconnected", "TOS_BLOCK");
    await vi.waitFor(() => expect(s.factory.clients).toHaveLength(4));
    expect(s.pauses).toEqual([100, 200, 350]);
    (s.factory.clients[3] as FakeWebClient).emit("ready");
    (s.factory.clients[3] as FakeWebClient).emit("disconnected", "UNLAUNCHED");
    await vi.waitFor(() => expect(s.factory.clients).toHaveLength(5));
    expect(s.pauses).toEqual([100, 200, 350, 100]);
    await s.channel.close();
    expect((s.factory.clients[4] as FakeWebClient).destroyed).toBe(true);
    expect(s.channel.status().state).toBe("closed");
  });

  it("stands down on CONFLICT: no reconnect that would take the session back, and says why", async () => {
    const s = setup();
    await s.start();
    const client = s.factory.clients[0] as FakeWebClient;
    client.emit("ready");
    client.emit("disconnected", "CONFLICT");
    await new Promise((r) => setTimeout(r, 20));
    expect(s.factory.clients).toHaveLength(1);
    expect(s.pauses).toEqual([]);
    expect(s.channel.status()).toEqual({ state: "conflict" });
    expect(s.logger.lines.join("\n")).toMatch(/^error .*CONFLICT.*does not reconnect/m);
    expect(await s.channel.proactive.resolve({ to: CHAT })).toMatchObject({ ok: false, status: 422, problem: "not_allowed", reason: expect.stringContaining("another process runs this WhatsApp session") });
    await expect(s.channel.deliver({ channel: "whatsapp", conversationId: CHAT, userId: CHAT }, [keyboard])).rejects.toThrow(/CONFLICT/);
    await s.channel.close();
    expect(s.channel.status().state).toBe("closed");
  });

  it("retries a client that fails to start, saying to check Chromium", async () => {
    const s = setup();
    let calls = 0;
    const create = s.factory.create;
    const channel = new WhatsappWebChannel({
      createClient: () => {
        const c = create();
        if (calls++ === 0) c.initialize = async () => Promise.reject(new Error("Failed to launch the browser process!"));
        return c;
      },
      logger: s.logger,
      sleep: async (ms) => void s.pauses.push(ms),
    });
    await channel.start(async () => ({ status: "processed" }));
    await vi.waitFor(() => expect(s.factory.clients).toHaveLength(2));
    expect(s.logger.lines.join("\n")).toContain("PUPPETEER_EXECUTABLE_PATH");
    await channel.close();
  });

  it("refuses to deliver while not logged in, so the step is not saved", async () => {
    const s = setup();
    await s.start();
    await expect(s.channel.deliver({ channel: "whatsapp", conversationId: CHAT, userId: CHAT }, [keyboard])).rejects.toThrow(/not logged in/);
  });
});

describe("WhatsappWebChannel events", () => {
  it("maps a vote on its own poll to a choice of that prompt, and ignores others", async () => {
    const s = setup();
    await s.start();
    const client = s.factory.clients[0] as FakeWebClient;
    client.emit("ready");
    await s.channel.deliver({ channel: "whatsapp", conversationId: CHAT, userId: CHAT }, [keyboard]);
    expect(client.sent.map((m) => m.text ?? m.poll)).toEqual(['Rate us\n\nReply 1 / 2, or "Skip".', { name: "Rate us", options: ["1", "2", "Skip"] }]);
    const poll = client.sent[1] as NonNullable<(typeof client.sent)[number]>;

    client.vote(poll, 2);
    await vi.waitFor(() => expect(s.events).toHaveLength(1));
    expect(s.events[0]).toMatchObject({ channel: "whatsapp", conversationId: CHAT, userId: CHAT, kind: "choice", promptId: "p7", buttonIndex: 2 });
    expect(s.events[0]?.dedupeKey).toMatch(/^vote:true_380501234567@c\.us_/);

    client.vote(poll, undefined); // taken back
    client.vote({ ...poll, id: { ...poll.id, _serialized: "true_x_unknown" } }, 0); // a poll we did not send
    client.vote({ ...poll, chatId: BOT_ID }, 0); // our own vote
    client.text(CHAT, "after");
    await vi.waitFor(() => expect(s.events).toHaveLength(2));
    expect(s.events[1]).toMatchObject({ kind: "text", text: "after", startIfIdle: true });
    await s.channel.close();
  });

  it("turns media into an empty answer, skips other message types, and retries a failed handle", async () => {
    let failures = 2;
    const seen: InboundEvent[] = [];
    const s = setup({
      handle: async (e) => {
        if (failures-- > 0) throw new Error("conversation busy");
        seen.push(e);
      },
    });
    await s.start();
    const client = s.factory.clients[0] as FakeWebClient;
    client.text(CHAT, "", { type: "e2e_notification" });
    client.text(CHAT, "caption", { type: "image" });
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toMatchObject({ kind: "text", text: "", startIfIdle: true });
    expect(s.pauses).toEqual([500, 1000]);
    await s.channel.close();
  });
});

describe("WhatsappWebChannel proactive delivery", () => {
  it("resolves a registered number only while logged in, with the ref the number's messages produce", async () => {
    const s = setup();
    await s.start();
    expect(await s.channel.proactive.resolve({ to: CHAT })).toMatchObject({ ok: false, status: 422, problem: "not_allowed", reason: expect.stringMatching(/not logged in \(state starting\).*QR/) });
    const client = s.factory.clients[0] as FakeWebClient;
    client.emit("ready");
    const target = await s.channel.proactive.resolve({ to: CHAT });
    expect(target).toEqual({ ok: true, ref: { channel: "whatsapp", conversationId: CHAT, userId: CHAT } });
    client.text(CHAT, "4");
    await vi.waitFor(() => expect(s.events).toHaveLength(1));
    expect(s.events[0]).toMatchObject({ channel: "whatsapp", conversationId: CHAT, userId: CHAT });
    expect(s.events[0]?.botId).toBeUndefined();
    client.unregistered.add("380509999999@c.us");
    expect(await s.channel.proactive.resolve({ to: "380509999999@c.us" })).toEqual({ ok: false, status: 404, problem: "unknown_recipient", reason: "this number is not on WhatsApp" });
  });

  it("refuses what is not <number>@c.us with a 422 before asking the client", async () => {
    const s = setup();
    await s.start();
    const client = s.factory.clients[0] as FakeWebClient;
    client.emit("ready");
    const asked = vi.spyOn(client, "isRegisteredUser");
    for (const to of ["380501234567", "+380501234567@c.us", "380501234567@g.us", "12@c.us", "status@broadcast", ""]) {
      expect(await s.channel.proactive.resolve({ to })).toMatchObject({ ok: false, status: 422, problem: "unknown_recipient" });
    }
    expect(asked).not.toHaveBeenCalled();
  });

  it("makes a trigger's first message while logged out a retryable ChannelError", async () => {
    const s = setup();
    await s.start();
    const ref = { channel: "whatsapp", conversationId: CHAT, userId: CHAT };
    const cause: InboundEvent = { ...ref, kind: "start", dedupeKey: "trigger:t1", proactive: { triggerId: "t1" } };
    await expect(s.channel.deliver(ref, [keyboard], cause)).rejects.toMatchObject({ name: "ChannelError", retryable: true });
  });
});

describe("real whatsapp-web.js wiring", () => {
  it("builds a Client with LocalAuth that launches the configured Chromium (a missing one here, so no browser runs)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-wweb-"));
    try {
      const create = await loadWhatsappWebClientFactory({ authDir: path.join(dir, "auth"), executablePath: "/nonexistent/chromium-for-botflow-test", auth: { kind: "local" } });
      const client = create();
      client.on("qr", () => {});
      const err = await client.initialize().then(() => undefined, (e: unknown) => e);
      expect(String(err)).toContain("/nonexistent/chromium-for-botflow-test");
      expect(CHROMIUM_ARGS).toContain("--no-sandbox");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("WhatsApp Web login on Redis (RemoteAuth store)", () => {
  const REDIS_URL = "redis://127.0.0.1:6379";

  it("saves the session zip RemoteAuth leaves, restores it elsewhere, and deletes it", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-wweb-remote-"));
    const keyPrefix = `test-${randomUUID()}:whatsapp-web:`;
    const redis = new Redis(REDIS_URL);
    try {
      const store = new RedisAuthStore({ redisUrl: REDIS_URL, keyPrefix, dataPath: dir });
      const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, ...Array.from({ length: 4096 }, (_, i) => i % 251)]);
      await writeFile(path.join(dir, "RemoteAuth.zip"), zip);
      expect(await store.sessionExists({ session: "RemoteAuth" })).toBe(false);
      await store.save({ session: "RemoteAuth" });
      expect(await store.sessionExists({ session: "RemoteAuth" })).toBe(true);
      expect(await redis.getBuffer(`${keyPrefix}RemoteAuth`)).toEqual(zip);

      // Another host: a fresh store with its own folder gets the same bytes back.
      const other = path.join(dir, "other-host");
      await mkdir(other);
      await new RedisAuthStore({ redisUrl: REDIS_URL, keyPrefix, dataPath: other }).extract({ session: "RemoteAuth", path: path.join(other, "RemoteAuth.zip") });
      expect(await readFile(path.join(other, "RemoteAuth.zip"))).toEqual(zip);

      await store.delete({ session: "RemoteAuth" });
      expect(await store.sessionExists({ session: "RemoteAuth" })).toBe(false);
    } finally {
      await redis.del(`${keyPrefix}RemoteAuth`);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("wires whatsapp-web.js's RemoteAuth to it when WHATSAPP_WEB_AUTH=redis", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "botflow-wweb-remote-"));
    try {
      const config = loadConfig(
        { WHATSAPP_WEB_ENABLED: "1", WHATSAPP_WEB_AUTH: "redis", REDIS_URL, DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test", BOTFLOW_STATE_PREFIX: `test-${randomUUID()}:`, WHATSAPP_WEB_AUTH_DIR: "auth" },
        { cwd: dir },
      );
      const configured = config.channels.whatsapp as WhatsappWebConfig | undefined;
      expect(configured?.auth).toMatchObject({ kind: "redis", redisUrl: REDIS_URL });
      expect(configured?.authDir).toBe(path.join(dir, "auth"));
      const web = { ...(configured as WhatsappWebConfig), executablePath: "/nonexistent/chromium-for-botflow-test" };
      const client = (await loadWhatsappWebClientFactory(web))();
      // RemoteAuth asks the store for a saved session (none) and prepares the folder before the launch fails.
      const err = await client.initialize().then(() => undefined, (e: unknown) => e);
      expect(String(err)).toContain("/nonexistent/chromium-for-botflow-test");
      expect((await stat(path.join(dir, "auth", "RemoteAuth"))).isDirectory()).toBe(true);

      expect(() => loadConfig({ WHATSAPP_WEB_ENABLED: "1", WHATSAPP_WEB_AUTH: "redis" }, { cwd: dir })).toThrow(/REDIS_URL is not set/);
      expect(() => loadConfig({ WHATSAPP_WEB_ENABLED: "1", WHATSAPP_WEB_AUTH: "mongo" }, { cwd: dir })).toThrow(/use local or redis/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
