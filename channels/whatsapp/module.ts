/**
 * WhatsApp Web's entry in channels/index.ts: on with WHATSAPP_WEB_ENABLED; a client channel (no
 * webhook), with the login QR behind the dashboard token. Seams: `{ createClient }` (tests: a fake).
 */
import { defineChannel } from "../module.ts";
import { WHATSAPP_WEB_LIMITS } from "./capabilities.ts";
import { WHATSAPP_WEB } from "./render.ts";
import { parseWhatsappWebConfig, WHATSAPP_WEB_VARIABLES, type WhatsappWebConfig } from "./web-config.ts";
import type { WhatsappWebOptions } from "./whatsapp-web-channel.ts";

export const whatsappWebModule = defineChannel<WhatsappWebConfig>({
  ...{ name: WHATSAPP_WEB, title: "WhatsApp Web", variables: WHATSAPP_WEB_VARIABLES, limits: WHATSAPP_WEB_LIMITS },
  parseConfig: (get, problems, context) => parseWhatsappWebConfig(get, problems, context),
  async create(config, deps) {
    const seams = (deps.seams ?? {}) as Partial<Pick<WhatsappWebOptions, "createClient" | "sleep" | "random">>;
    // whatsapp-web.js and the routes load here, so reading the configuration (validate, the CLI) loads neither.
    const [{ WhatsappWebChannel }, { whatsappWebRoutes }, { loadWhatsappWebClientFactory, qrForTerminal }] = await Promise.all([
      import("./whatsapp-web-channel.ts"),
      import("./plugin.ts"),
      import("./real-client.ts"),
    ]);
    const channel = new WhatsappWebChannel({
      createClient: seams.createClient ?? (await loadWhatsappWebClientFactory(config)),
      polls: config.polls,
      messagesPerSecond: config.messagesPerSecond,
      logger: deps.logger,
      storage: deps.storage,
      ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}),
      ...(seams.createClient ? {} : { printQr: (qr: string) => void process.stderr.write(`${qrForTerminal(qr)}\n`) }),
      ...(seams.sleep ? { sleep: seams.sleep } : {}),
      ...(seams.random ? { random: seams.random } : {}),
    });
    return { channel, routes: (app, context) => whatsappWebRoutes(app, { channel, guard: context.guard }) };
  },
});
