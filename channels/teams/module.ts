/** Teams' entry in channels/index.ts: on with MICROSOFT_APP_ID (or the Emulator switch); POST /api/messages. */
import { defineChannel } from "../module.ts";
import { parseTeamsConfig, TEAMS_VARIABLES, type TeamsConfig } from "./teams-config.ts";
import { TEAMS_LIMITS } from "./capabilities.ts";
import { TEAMS } from "./parse-activity.ts";

export const teamsModule = defineChannel<TeamsConfig>({
  ...{ name: TEAMS, title: "Teams", variables: TEAMS_VARIABLES, limits: TEAMS_LIMITS },
  parseConfig: (get, problems) => parseTeamsConfig(get, problems),
  async create(config, deps) {
    // botbuilder loads here, so reading the configuration (validate, the CLI) loads no SDK.
    const [{ TeamsChannel }, { teamsRoutes }] = await Promise.all([import("./teams-channel.ts"), import("./plugin.ts")]);
    const channel = new TeamsChannel({
      credentials: config,
      logger: deps.logger,
      storage: deps.storage,
      startOnInstall: config.startOnInstall,
      ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}),
    });
    return { channel, routes: (app, context) => teamsRoutes(app, { channel, logger: context.logger, webhook: context.webhook }) };
  },
  // The conversation reference (it names the user) and the cards sent (conversation-store.ts).
  async forget(storage, conversationId) {
    let n = 0;
    for (const key of [`ref:${conversationId}`, `cards:${conversationId}`]) if ((await storage.take(key)) !== undefined) n++;
    return n;
  },
});
