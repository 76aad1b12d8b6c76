/**
 * The web chat's entry in channels/index.ts: always on. Its history is kept in the ChannelStorage
 * it is given (Redis in production); with Redis, frames are also announced to the other web
 * processes over pub/sub. Seams: `{ wrapHistory }` (tests: a history that fails).
 */
import { defineChannel } from "../module.ts";
import type { WebchatHistory } from "./history.ts";
import { WEBCHAT, WEBCHAT_LIMITS } from "./capabilities.ts";

export const webchatModule = defineChannel<Record<string, never>>({
  ...{ name: WEBCHAT, title: "web chat", variables: {}, limits: WEBCHAT_LIMITS },
  parseConfig: () => ({}),
  async create(_config, deps) {
    const seams = (deps.seams ?? {}) as { wrapHistory?: (history: WebchatHistory) => WebchatHistory };
    // The socket server and its routes load here, so reading the configuration loads none of it.
    const [{ StoredWebchatHistory }, { webchatRoutes }, { RedisFrameAnnouncer }, { WebchatChannel }] = await Promise.all([
      import("./history.ts"),
      import("./plugin.ts"),
      import("./redis-announcer.ts"),
      import("./webchat-channel.ts"),
    ]);
    // ChannelStorage has no pub/sub: the live fan-out is the one use of the Redis connection here.
    const announcer = deps.redis ? new RedisFrameAnnouncer(deps.redis, { channel: `${deps.keyPrefix}appended` }) : undefined;
    const made = new StoredWebchatHistory(deps.storage.scope("history:"), announcer ? { announcer } : {});
    const history = seams.wrapHistory ? seams.wrapHistory(made) : made;
    const channel = new WebchatChannel({ logger: deps.logger, history, issued: deps.storage.scope("issued:"), sessions: deps.storage.scope("open:"), ...(deps.scenarioId !== undefined ? { scenarioId: deps.scenarioId } : {}) });
    return {
      channel,
      routes: (app, context) => webchatRoutes(app, { channel, logger: context.logger }),
      gauges: () => ({ sockets: channel.socketCount() }),
    };
  },
  // The history of the conversation, and that this server issued it and a tab has it open.
  async forget(storage, conversationId) {
    let n = 0;
    for (const scope of ["history:", "issued:", "open:"]) if ((await storage.scope(scope).take(conversationId)) !== undefined) n++;
    return n;
  },
});
