/**
 * The WhatsApp Web session lifecycle through whatsapp-web.js's real `Client` (built by
 * real-client.ts, RemoteAuth on the real Redis), with only the browser stubbed
 * (whatsapp-web-fake-browser.ts): the library's own handlers run on the page events a phone
 * and WhatsApp cause. What is checked is what goes wrong on real traffic when the channel does
 * not follow the library's state machine: an unhandled rejection after a LOGOUT, and the shared
 * session deleted from Redis by the host that lost it on CONFLICT. Also a poll vote that comes
 * without its poll message (parentMsgKey only) and an album, as the library emits them.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadWhatsappWebClientFactory } from "../../channels/whatsapp/real-client.ts";
import { RedisAuthStore } from "../../channels/whatsapp/redis-auth-store.ts";
import type { WhatsappWebConfig } from "../../channels/whatsapp/web-config.ts";
import { WhatsappWebChannel } from "../../channels/whatsapp/whatsapp-web-channel.ts";
import { MemoryChannelStorage } from "../../channels/storage/memory-channel-storage.ts";
import type { Logger } from "../../engine/ports.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { PAGE_ME, stubPuppeteer, type FakeBrowser, type FakePage } from "./whatsapp-web-fake-browser.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const CHAT = "380501234567@c.us";
const SESSION = "RemoteAuth";

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ""} ${JSON.stringify(obj)}`);
  return { lines, debug: rec("debug"), info: rec("info"), warn: rec("warn"), error: rec("error") };
}

/** A session zip as RemoteAuth stores it (the browser profile's Default folder). */
async function sessionZip(): Promise<Buffer> {
  const archiver = createRequire(import.meta.url)("archiver") as (format: "zip") => {
    append(data: string, o: { name: string }): void;
    pipe(to: NodeJS.WritableStream): void;
    finalize(): Promise<void>;
  };
  const archive = archiver("zip");
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => out.on("end", resolve));
  archive.pipe(out);
  archive.append('{"profile":{}}', { name: "Default/Preferences" });
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

let dir: string;
let keyPrefix: string;
let redis: Redis;
let stub: ReturnType<typeof stubPuppeteer>;
/** What the next launched browser's WhatsApp Web finds: a restored login, or none (a QR). */
let launchState = "CONNECTED";
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
const channels: WhatsappWebChannel[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "botflow-wweb-life-"));
  keyPrefix = `test-${randomUUID()}:whatsapp-web:`;
  redis = new Redis(REDIS_URL);
  // The login another host saved: this one restores it without a QR.
  await redis.set(`${keyPrefix}${SESSION}`, await sessionZip());
  launchState = "CONNECTED";
  stub = stubPuppeteer(() => launchState);
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});

afterEach(async () => {
  for (const c of channels.splice(0)) await c.close();
  process.off("unhandledRejection", onUnhandled);
  stub.restore();
  await redis.del(`${keyPrefix}${SESSION}`);
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
});

function config(): WhatsappWebConfig {
  return { authDir: path.join(dir, "auth"), executablePath: "/nonexistent/chromium-for-botflow-test", polls: true, auth: { kind: "redis", redisUrl: REDIS_URL, keyPrefix }, messagesPerSecond: 1 };
}

/** A channel on the real Client, started and logged in from the session in Redis. */
async function readyChannel(o: { storage?: MemoryChannelStorage } = {}) {
  const logger = recordingLogger();
  const events: InboundEvent[] = [];
  const pauses: number[] = [];
  const channel = new WhatsappWebChannel({
    createClient: await loadWhatsappWebClientFactory(config()),
    logger,
    polls: true,
    ...(o.storage ? { storage: o.storage } : {}),
    sleep: async (ms) => void pauses.push(ms),
  });
  channels.push(channel);
  await channel.start(async (e) => (events.push(e), { status: "processed" as const }));
  await vi.waitFor(() => expect(stub.browsers).toHaveLength(1));
  const browser = stub.browsers[0] as FakeBrowser;
  const page = browser.page;
  // The library has injected and is listening for the login to finish syncing.
  await vi.waitFor(() => expect(typeof page.window.onAppStateHasSyncedEvent).toBe("function"), { timeout: 5_000 });
  await vi.waitFor(() => expect(channel.status().state).toBe("starting"));
  page.socket.trigger("change:hasSynced");
  await vi.waitFor(() => expect(channel.status()).toEqual({ state: "ready" }), { timeout: 5_000 });
  return { channel, browser, page, logger, events, pauses };
}

async function sessionInRedis(): Promise<boolean> {
  return (await redis.exists(`${keyPrefix}${SESSION}`)) === 1;
}

function noLibraryErrors(page: FakePage): void {
  expect(unhandled).toEqual([]);
  expect(page.bindingErrors).toEqual([]);
}

describe("WhatsApp Web lifecycle on the real whatsapp-web.js Client", () => {
  it("LOGOUT: lets the library re-inject the same page and show a new QR; no second client, no unhandled rejection", async () => {
    const { channel, browser, page, logger } = await readyChannel();

    // The phone removes the linked device: WhatsApp Web's logout command, then the page reloads.
    page.cmd.trigger("logout");
    await new Promise((r) => setTimeout(r, 10));
    page.navigate("https://web.whatsapp.com/", "UNPAIRED");

    await vi.waitFor(() => expect(channel.status()).toMatchObject({ state: "qr", qr: expect.stringMatching(/^2@.+,.+,.+,.+,Chrome$/) }), { timeout: 5_000 });
    expect(logger.lines.join("\n")).toContain("logged out from the phone");
    // The same browser and page carried on: nothing was destroyed under the library's handler.
    expect(stub.launch).toHaveBeenCalledTimes(1);
    expect(browser.isConnected()).toBe(true);
    // The device was unlinked, so the session is dead everywhere: the library deletes it (rightly).
    expect(await sessionInRedis()).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    noLibraryErrors(page);
  });

  it("CONFLICT: the losing host keeps the shared session in Redis and stands down without reconnecting", async () => {
    const { channel, browser, page, logger, pauses } = await readyChannel();

    // Another host opened the same session: WhatsApp Web's socket goes to CONFLICT.
    page.socket.set("state", "CONFLICT");
    await vi.waitFor(() => expect(channel.status()).toEqual({ state: "conflict" }));
    // The library destroyed its client itself (it gives up on CONFLICT).
    await vi.waitFor(() => expect(browser.isConnected()).toBe(false));
    expect(logger.lines.join("\n")).toMatch(/^error .*CONFLICT/m);
    await new Promise((r) => setTimeout(r, 50));
    expect(await sessionInRedis()).toBe(true);
    expect(stub.launch).toHaveBeenCalledTimes(1);
    expect(pauses).toEqual([]);
    noLibraryErrors(page);
  });

  it("CONFLICT without the guard: whatsapp-web.js's own RemoteAuth deletes the shared session (what the guard prevents)", async () => {
    const wweb = (await import("whatsapp-web.js")).default;
    const store = new RedisAuthStore({ redisUrl: REDIS_URL, keyPrefix, dataPath: path.join(dir, "bare") });
    const client = new wweb.Client({
      authStrategy: new wweb.RemoteAuth({ store, dataPath: path.join(dir, "bare"), backupSyncIntervalMs: 60_000 }),
      puppeteer: { executablePath: "/nonexistent/chromium-for-botflow-test" },
    });
    const disconnected: string[] = [];
    client.on("disconnected", (reason) => void disconnected.push(String(reason)));
    const ready = new Promise<void>((resolve) => client.once("ready", () => resolve()));
    await client.initialize();
    const page = (stub.browsers[0] as FakeBrowser).page;
    page.socket.trigger("change:hasSynced");
    await ready;
    page.socket.set("state", "CONFLICT");
    await vi.waitFor(() => expect(disconnected).toEqual(["CONFLICT"]));
    expect(await sessionInRedis()).toBe(false);
    await client.destroy();
  });

  it("UNPAIRED (the device unlinked while running): the session goes, and a fresh client shows a QR", async () => {
    const { channel, page, pauses } = await readyChannel();
    // The fresh client finds no session to restore: its page asks for a login.
    launchState = "UNPAIRED";
    page.socket.set("state", "UNPAIRED");
    await vi.waitFor(() => expect(stub.browsers).toHaveLength(2));
    expect(pauses).toHaveLength(1);
    expect(await sessionInRedis()).toBe(false);
    await vi.waitFor(() => expect(channel.status().state).toBe("qr"), { timeout: 5_000 });
    noLibraryErrors(page);
  });
});

describe("WhatsApp Web events as the real Client emits them", () => {
  it("takes a vote whose poll message is gone by its parentMsgKey", async () => {
    const storage = new MemoryChannelStorage();
    const pollId = `true_${CHAT}_3EB0A1B2C3D4E5F60718`;
    // The poll a client sent earlier (before a restart): which prompt it stands for is in storage.
    await storage.scope("poll:").set(pollId, { conversationId: CHAT, promptId: "p1", buttonIndexes: [0, 1, 2, 3, 4, 5] }, 60_000);
    const { page, events } = await readyChannel({ storage });

    // What the page's bulkUpsert hook hands over when Msg.get and getMessagesById found nothing.
    await page.call("onPollVoteEvent", [
      {
        id: { fromMe: false, remote: CHAT, id: "3EB0FFEE00112233", _serialized: `false_${CHAT}_3EB0FFEE00112233` },
        msgKey: { fromMe: false, remote: CHAT, id: "3EB0FFEE00112233", _serialized: `false_${CHAT}_3EB0FFEE00112233` },
        sender: CHAT,
        senderUserJid: CHAT,
        selectedOptionLocalIds: [3],
        senderTimestampMs: 1764236460123,
        timestamp: 1764236460.123,
        parentMsgKey: { fromMe: true, remote: CHAT, id: "3EB0A1B2C3D4E5F60718", _serialized: pollId },
        parentMessage: null,
      },
    ]);
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({ channel: "whatsapp", conversationId: CHAT, userId: CHAT, kind: "choice", promptId: "p1", buttonIndex: 3, dedupeKey: `vote:${pollId}:3:1764236460123` });
    noLibraryErrors(page);
  });

  it("takes an album as media: an empty answer that opens the survey", async () => {
    const { page, events } = await readyChannel();
    await page.call("onAddMessageEvent", {
      id: { fromMe: false, remote: CHAT, id: "3EB0ALBUM0000001", _serialized: `false_${CHAT}_3EB0ALBUM0000001` },
      type: "album",
      body: "",
      t: 1764236400,
      from: CHAT,
      to: PAGE_ME,
      isNewMsg: true,
      ack: 1,
    });
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]).toMatchObject({ kind: "text", text: "", startIfIdle: true, conversationId: CHAT });
    noLibraryErrors(page);
  });
});
