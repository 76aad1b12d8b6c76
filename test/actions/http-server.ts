/**
 * A real local HTTP server for http__request tests: records every request (method, path,
 * headers, body) and answers with what the test's handler says, or never (a hung endpoint).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Answer = { status: number; json?: unknown; text?: string; headers?: Record<string, string> } | "hang";
export type Handler = (req: RecordedRequest, n: number) => Answer;

export class TestHttpServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private readonly hung: ServerResponse[] = [];
  /** `http://127.0.0.1:<port>` once started. */
  origin = "";

  constructor(public handler: Handler = () => ({ status: 200, json: {} })) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const recorded: RecordedRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        this.requests.push(recorded);
        const answer = this.handler(recorded, this.requests.length);
        if (answer === "hang") {
          this.hung.push(res);
          return;
        }
        const body = answer.json !== undefined ? JSON.stringify(answer.json) : (answer.text ?? "");
        res.writeHead(answer.status, { "content-type": answer.json !== undefined ? "application/json" : "text/plain", ...answer.headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
