/**
 * Mounts the Teams channel on a fastify server: POST /api/messages, the messaging endpoint the
 * Azure Bot registration (or the Bot Framework Emulator) points at, through the channels' one
 * webhook route (channels/webhook-route.ts owns the status contract). With an App ID, a call
 * without a Bearer token is refused (401) from its headers before the body is read; the token
 * itself is checked by botbuilder's own CloudAdapter, which needs the activity too (its serviceUrl
 * and channel are part of the check). A body that is not an Activity botflow can answer is
 * refused (400, counted as dropped) before botbuilder sees it.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "../../engine/ports.ts";
import { webhookRoute, type WebhookPolicy } from "../webhook-route.ts";
import { activityProblem, TEAMS } from "./parse-activity.ts";
import type { TeamsChannel } from "./teams-channel.ts";

export const TEAMS_MESSAGES_PATH = "/api/messages";

export interface TeamsRoutesOptions {
  channel: TeamsChannel;
  logger?: Logger;
  webhook?: WebhookPolicy;
}

/** Registers POST /api/messages. */
export async function teamsRoutes(app: FastifyInstance, options: TeamsRoutesOptions): Promise<void> {
  await webhookRoute(app, {
    channel: TEAMS,
    path: TEAMS_MESSAGES_PATH,
    redeliverer: "the Bot Framework",
    // With an App ID every call must carry the Bot Framework's Bearer token: a call without one is
    // refused from its headers, before the body is read. botbuilder checks the token itself later
    // (it needs the activity's serviceUrl and channel for that).
    ...(options.channel.authenticated
      ? { authenticate: (headers) => hasBearer(headers.authorization), credentials: "the request came without a Bot Framework token (Authorization: Bearer)" }
      : {}),
    parse: (body) => {
      const problem = activityProblem(body, { emulator: !options.channel.authenticated });
      return problem === undefined ? { ok: true, payload: body as object } : { ok: false, reason: problem };
    },
    bodyLimit: 1024 * 1024,
    ...(options.webhook ? { policy: options.webhook } : {}),
    handle: (activity, req) => options.channel.process({ method: req.method, headers: req.headers, body: activity }),
    closing: () => options.channel.isClosing,
    inflight: options.channel.inflight,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

function hasBearer(header: string | undefined): boolean {
  return typeof header === "string" && /^Bearer [A-Za-z0-9._~+/=-]{20,}$/.test(header);
}
