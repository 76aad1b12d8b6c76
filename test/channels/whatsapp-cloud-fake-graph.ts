/**
 * A local fake of the Graph API's messages endpoint on 127.0.0.1: records every request and
 * answers like the Graph API does, or with the failures a test queues up.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export class FakeGraph {
  readonly requests: RecordedRequest[] = [];
  /** Statuses to answer next (then 200s): e.g. [429, 503]. */
  readonly failures: number[] = [];
  private server: Server | undefined;
  private seq = 0;
  apiRoot = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const status = this.failures.shift();
        if (status !== undefined) {
          res.writeHead(status, { "content-type": "application/json", ...(status === 429 ? { "retry-after": "0" } : {}) });
          res.end(JSON.stringify({ error: { message: status === 429 ? "(#130429) Rate limit hit" : "Service temporarily unavailable", type: "OAuthException", code: status === 429 ? 130429 : 2, fbtrace_id: "AbCdEf" } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, body });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ messaging_product: "whatsapp", contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: `wamid.fake${++this.seq}` }] }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.apiRoot = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v21.0`;
    return this;
  }

  /** Messages sent to `to`, in order. */
  sentTo(to: string): Record<string, unknown>[] {
    return this.requests.filter((r) => r.body.to === to).map((r) => r.body);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
