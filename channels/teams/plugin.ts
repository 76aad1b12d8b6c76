/**
 * Mounts the Teams channel on a fastify server: POST /api/messages, the messaging endpoint the
 * Azure Bot registration (or the Bot Framework Emulator) points at.
 */
import type { FastifyInstance } from "fastify";
import type { EventHandler, TeamsChannel } from "./teams-channel.ts";

export interface TeamsRoutesOptions {
  channel: TeamsChannel;
  handle: EventHandler;
}

/** Registers POST /api/messages; fastify has already parsed the JSON body the SDK expects. */
export async function teamsRoutes(app: FastifyInstance, options: TeamsRoutesOptions): Promise<void> {
  app.post("/api/messages", async (request, reply) => {
    const result = await options.channel.process({ method: request.method, headers: request.headers, body: request.body }, options.handle);
    reply.code(result.status);
    return result.body === undefined ? reply.send() : reply.send(result.body);
  });
}
