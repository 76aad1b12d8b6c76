/**
 * Mounts the Teams channel on a fastify server: POST /api/messages, the messaging endpoint the
 * Azure Bot registration (or the Bot Framework Emulator) points at, through the channels' one
 * webhook route (channels/webhook-route.ts owns the status contract). The Bot Framework token
 * is checked by botbuilder's own CloudAdapter, which needs the activity too (its serviceUrl and
 * channel are part of the check), so authentication happens after the body is parsed.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../engine/ports.ts";
import { webhookRoute } from "../webhook-route.ts";
import { TEAMS } from "./parse-activity.ts";
import type { TeamsChannel } from "./teams-channel.ts";

export const TEAMS_MESSAGES_PATH = "/api/messages";

export interface TeamsRoutesOptions {
  channel: TeamsChannel;
  logger?: Logger;
}

/** Registers POST /api/messages. */
export async function teamsRoutes(app: FastifyInstance, options: TeamsRoutesOptions): Promise<void> {
  await webhookRoute(app, {
    channel: TEAMS,
    path: TEAMS_MESSAGES_PATH,
    redeliverer: "the Bot Framework",
    parse: (body) => (typeof body === "object" && body !== null && !Array.isArray(body) ? { ok: true, payload: body } : { ok: false, reason: "the body is not a Bot Framework Activity" }),
    handle: (activity, req) => options.channel.process({ method: req.method, headers: req.headers, body: activity }),
    closing: () => options.channel.isClosing,
    inflight: options.channel.inflight,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
