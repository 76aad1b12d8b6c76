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

/** A Graph API error answer: its HTTP status and WhatsApp's code, as the Cloud API sends them. */
export interface GraphFailure {
  status: number;
  code: number;
  message: string;
  details?: string;
}

/** The Graph API's answers for the re-engagement and recipient errors (error-codes page, v21.0). */
export const GRAPH_ERRORS = {
  reEngagement: { status: 400, code: 131047, message: "Re-engagement message", details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
  notAllowed: { status: 400, code: 131030, message: "(#131030) Recipient phone number not in allowed list", details: "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again." },
  undeliverable: { status: 400, code: 131026, message: "Message undeliverable", details: "Message Undeliverable." },
  templateMissing: { status: 404, code: 132001, message: "(#132001) Template name does not exist in the translation", details: "template name (csat_request) does not exist in en_US" },
  throughput: { status: 400, code: 130429, message: "(#130429) Rate limit hit", details: "Cloud API message throughput has been reached." },
  pairRate: { status: 400, code: 131056, message: "(#131056) (Business Account, Consumer Account) pair rate limit hit", details: "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time." },
} satisfies Record<string, GraphFailure>;

/** The answer real Graph gives for a bare status: 429 its rate limit, 5xx a temporary failure, 401 a bad token, other 4xx a bad parameter. */
function failureOf(status: number): GraphFailure {
  if (status === 429) return { status, code: 130429, message: "(#130429) Rate limit hit" };
  if (status >= 500) return { status, code: 2, message: "Service temporarily unavailable" };
  if (status === 401) return { status, code: 190, message: "Invalid OAuth access token - Cannot parse access token" };
  return { status, code: 100, message: "(#100) Invalid parameter" };
}

export class FakeGraph {
  readonly requests: RecordedRequest[] = [];
  /** Failures to answer next (then 200s): bare statuses, e.g. [429, 503], or Graph errors (GRAPH_ERRORS). */
  readonly failures: (number | GraphFailure)[] = [];
  /** Every request body, failed ones included, in order. */
  readonly attempts: Record<string, unknown>[] = [];
  private server: Server | undefined;
  private seq = 0;
  apiRoot = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        this.attempts.push(body);
        const next = this.failures.shift();
        if (next !== undefined) {
          const f = typeof next === "number" ? failureOf(next) : next;
          res.writeHead(f.status, { "content-type": "application/json", ...(f.status === 429 ? { "retry-after": "0" } : {}) });
          res.end(JSON.stringify({ error: { message: f.message, type: "OAuthException", code: f.code, ...(f.details !== undefined ? { error_data: { messaging_product: "whatsapp", details: f.details } } : {}), fbtrace_id: "AbCdEf" } }));
          return;
        }
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
