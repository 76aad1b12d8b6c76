/** The web chat's entry in channels/index.ts: always on; its history in Redis in production, else in memory. Seams: `{ wrapHistory }` (tests: a history that fails). */
import { defineChannel } from "../module.ts";
import { MemoryWebchatHistory, type WebchatHistory } from "./history.ts";
import { webchatRoutes } from "./plugin.ts";
import { RedisWebchatHistory } from "./redis-history.ts";
import { WEBCHAT, WEBCHAT_LIMITS, WebchatChannel } from "./webchat-channel.ts";

export const webchatModule = defineChannel<Record<string, never>>({
  ...{ name: WEBCHAT, title: "web chat", variables: {}, limits: WEBCHAT_LIMITS },
  parseConfig: () => ({}),
  async create(_config, deps) {
    const seams = (deps.seams ?? {}) as { wrapHistory?: (history: WebchatHistory) => WebchatHistory };
    const made = deps.redis ? new RedisWebchatHistory(deps.redis, { keyPrefix: deps.keyPrefix }) : new MemoryWebchatHistory();
    const history = seams.wrapHistory ? seams.wrapHistory(made) : made;
    const channel = new WebchatChannel({ logger: deps.logger, history, issued: deps.storage.scope("issued:"), ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}) });
    return {
      channel,
      routes: (app, context) => webchatRoutes(app, { channel, logger: context.logger }),
      gauges: () => ({ sockets: channel.socketCount() }),
    };
  },
});
