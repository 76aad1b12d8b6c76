/**
 * A local stand-in for the Bot Framework connector service (the `serviceUrl` of an activity):
 * records every call the bot makes and answers with activity ids, or with the failures a test
 * queues (429, 5xx) to exercise retries.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ConnectorCall {
  method: string;
  path: string;
  conversationId: string;
  /** The activity id in the path (the one replied to, or the one updated). */
  activityId?: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The id the fake answered with (undefined when it answered a failure). */
  answeredId?: string;
}

export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  /** Status codes to answer the next calls with instead of success, first one first. */
  readonly failures: { status: number; retryAfter?: string }[] = [];
  private seq = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeConnector> {
    let self: FakeConnector | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => (self as FakeConnector).answer(req.method ?? "", req.url ?? "", req.headers, Buffer.concat(chunks).toString("utf8"), res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakeConnector(server, `http://127.0.0.1:${port}/`);
    return self;
  }

  private answer(method: string, url: string, headers: IncomingHttpHeaders, raw: string, res: import("node:http").ServerResponse): void {
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(url);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      body = { unparsed: raw };
    }
    const call: ConnectorCall = {
      method,
      path: url,
      conversationId: m ? decodeURIComponent(m[1] as string) : "",
      ...(m?.[2] ? { activityId: decodeURIComponent(m[2]) } : {}),
      headers,
      body,
    };
    this.calls.push(call);
    const failure = this.failures.shift();
    if (failure) {
      res.writeHead(failure.status, { "content-type": "application/json", ...(failure.retryAfter ? { "retry-after": failure.retryAfter } : {}) });
      res.end(JSON.stringify({ error: { code: "ServiceError", message: `fake failure ${failure.status}` } }));
    } else if (!m) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "NotFound", message: "unknown path" } }));
    } else {
      const id = method === "PUT" && call.activityId ? call.activityId : `bot-activity-${++this.seq}`;
      call.answeredId = id;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id }));
    }
    this.waiters = this.waiters.filter((w) => (this.calls.length >= w.n ? (w.resolve(), false) : true));
  }

  /** Calls that created or updated activities (what the user sees), in order. */
  activities(): ConnectorCall[] {
    return this.calls.filter((c) => (c.method === "POST" || c.method === "PUT") && c.conversationId !== "");
  }

  /** Resolves once at least `n` calls were recorded. */
  waitForCalls(n: number): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
