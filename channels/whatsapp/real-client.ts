/**
 * Production wiring of the WhatsApp Web channel: whatsapp-web.js's `Client` with `LocalAuth`
 * (the session saved under WHATSAPP_WEB_AUTH_DIR) or `RemoteAuth` on Redis (WHATSAPP_WEB_AUTH=redis),
 * and puppeteer on the system Chromium,
 * adapted to WebClientPort. Loaded only when WHATSAPP_WEB_ENABLED is on, so neither the
 * library nor a browser is touched by default; most tests use a fake client instead, and
 * test/channels/whatsapp-web-lifecycle.test.ts drives this real Client on a stubbed browser.
 * RemoteAuth goes through shared-session-guard.ts, so a host that loses the session to another
 * (CONFLICT) leaves it in Redis.
 */
import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { RedisAuthStore } from "./redis-auth-store.ts";
import { guardSharedSession, type GuardedAuthStrategy } from "./shared-session-guard.ts";
import type { WebClientFactory, WebClientPort, WebMessageId } from "./web-client-port.ts";
import type { WhatsappWebConfig } from "./web-config.ts";

/** Chromium flags for a server: containers have no user namespaces for the sandbox and a small /dev/shm. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-setuid-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-zygote"];

/** How often RemoteAuth backs the session up to Redis (its minimum is one minute). */
export const REMOTE_BACKUP_MS = 5 * 60_000;

/** Loads whatsapp-web.js and returns a factory of real clients. */
export async function loadWhatsappWebClientFactory(config: Pick<WhatsappWebConfig, "authDir" | "executablePath" | "auth">): Promise<WebClientFactory> {
  const wweb = (await import("whatsapp-web.js")).default;
  return (): WebClientPort => {
    const client = new wweb.Client({
      authStrategy:
        config.auth.kind === "redis"
          ? // The session in Redis is shared with other hosts: one that loses it (CONFLICT) must not delete it.
            guardSharedSession(
              new wweb.RemoteAuth({
                store: new RedisAuthStore({ redisUrl: config.auth.redisUrl, keyPrefix: config.auth.keyPrefix, dataPath: config.authDir }),
                dataPath: config.authDir,
                backupSyncIntervalMs: REMOTE_BACKUP_MS,
              }) as unknown as InstanceType<typeof wweb.RemoteAuth> & GuardedAuthStrategy,
            )
          : new wweb.LocalAuth({ dataPath: config.authDir }),
      puppeteer: { headless: true, executablePath: config.executablePath, args: CHROMIUM_ARGS },
    });
    const port: WebClientPort = {
      initialize: () => client.initialize(),
      destroy: () => client.destroy(),
      async sendMessage(chatId, content): Promise<{ id: WebMessageId }> {
        const body = typeof content === "string" ? content : new wweb.Poll(content.poll.name, content.poll.options, { allowMultipleAnswers: false, messageSecret: undefined });
        const sent = await client.sendMessage(chatId, body);
        return { id: sent.id };
      },
      isRegisteredUser: (id) => client.isRegisteredUser(id),
      on(event, listener) {
        // The Client is an EventEmitter; its typed overloads do not take a union of event names.
        (client as EventEmitter).on(event, listener as (...args: unknown[]) => void);
        return port;
      },
    };
    return port;
  };
}

type QrTerminal = { generate(input: string, options: { small: boolean }, done: (output: string) => void): void };

/** The QR drawn with block characters, to scan from a terminal. */
export function qrForTerminal(qr: string): string {
  const qrcode = createRequire(import.meta.url)("qrcode-terminal") as QrTerminal;
  let out = "";
  qrcode.generate(qr, { small: true }, (s) => (out = s));
  return out;
}
