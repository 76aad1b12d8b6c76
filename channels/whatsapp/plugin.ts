/**
 * The WhatsApp Web ops endpoint, behind the same guard as /ops/queue:
 *
 *   GET /ops/whatsapp/qr   { state, qr?, terminal? }: while a login is needed, the QR string and
 *                          the same QR drawn for a terminal (`curl … | jq -r .terminal`)
 *
 * Only while the state is `qr` is there a QR; once logged in the endpoint says `ready`.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from "fastify";
import { qrForTerminal } from "./real-client.ts";
import type { WhatsappWebChannel } from "./whatsapp-web-channel.ts";

export const QR_PATH = "/ops/whatsapp/qr";

export async function whatsappWebRoutes(app: FastifyInstance, o: { channel: WhatsappWebChannel; guard: preHandlerAsyncHookHandler }): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook("preHandler", o.guard);
    scope.get(QR_PATH, async (_req, reply) => {
      const status = o.channel.status();
      reply.header("cache-control", "no-store");
      if (status.qr === undefined) return reply.send({ state: status.state });
      return reply.send({ state: status.state, qr: status.qr, terminal: qrForTerminal(status.qr) });
    });
  });
}
