/** The WhatsApp Cloud API's entry in channels/index.ts: on with its four WHATSAPP_CLOUD_* variables; GET/POST /whatsapp/webhook; proactive surveys (24-hour window in its ChannelStorage, templates outside it). */
import { defineChannel } from "../module.ts";
import { parseWhatsappCloudConfig, WHATSAPP_CLOUD_VARIABLES, type WhatsappCloudConfig } from "./cloud-config.ts";
import { WHATSAPP_CLOUD } from "./graph-client.ts";
import { WHATSAPP_CLOUD_LIMITS } from "./capabilities.ts";
import type { WhatsappCloudOptions } from "./whatsapp-cloud-channel.ts";

export const whatsappCloudModule = defineChannel<WhatsappCloudConfig>({
  ...{ name: WHATSAPP_CLOUD, title: "WhatsApp Cloud API", variables: WHATSAPP_CLOUD_VARIABLES, limits: WHATSAPP_CLOUD_LIMITS },
  parseConfig: (get, problems) => parseWhatsappCloudConfig(get, problems),
  async create(config, deps) {
    const seams = (deps.seams ?? {}) as Pick<WhatsappCloudOptions, "graph">;
    // The channel and its routes load here, so reading the configuration (validate, the CLI) loads neither.
    const [{ WhatsappCloudChannel }, { whatsappCloudRoutes }] = await Promise.all([import("./whatsapp-cloud-channel.ts"), import("./plugin.ts")]);
    const channel = new WhatsappCloudChannel({ ...config, logger: deps.logger, storage: deps.storage, ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}), ...seams });
    return { channel, routes: (app, context) => whatsappCloudRoutes(app, { channel, logger: context.logger, webhook: context.webhook }) };
  },
  // The 24-hour window, `window:<business number>:<wa_id>` on every business number (service-window.ts).
  forget: (storage, waId) => storage.deleteMatching("window:", `:${waId}`),
});
