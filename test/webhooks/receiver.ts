/**
 * A webhook receiver for tests: a real node:http server on a free port that records every
 * request (headers and the raw body) and answers what the test says, per request.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
}

export class Receiver {
  readonly requests: Received[] = [];
  /** Decides each answer; default 200. */
  answer: (req: { headers: IncomingHttpHeaders; body: string; n: number }) => Answer = () => ({ status: 200 });
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(path = "/hook"): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const r = self as Receiver;
        const body = Buffer.concat(chunks).toString("utf8");
        const a = r.answer({ headers: req.headers, body, n: r.requests.length + 1 });
        r.requests.push({ headers: req.headers, body, status: a.status, at: Date.now() });
        res.writeHead(a.status, { "content-type": "text/plain", ...a.headers }).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = new Receiver(server, `http://127.0.0.1:${port}${path}`);
    return self;
  }

  /** Bodies the receiver accepted (2xx), parsed. */
  accepted(): Array<Record<string, unknown>> {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300).map((r) => JSON.parse(r.body) as Record<string, unknown>);
  }

  /** Accepted event ids, sorted. */
  acceptedIds(): string[] {
    return this.accepted()
      .map((b) => String(b.id))
      .sort();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

/**
 * The README's verification snippet (the ```js block after `<!-- webhook-verify -->`), loaded as a
 * module so the tests verify with exactly what receivers are told to run.
 */
export type Verifier = (secret: string, rawBody: string, headers: IncomingHttpHeaders, toleranceSeconds?: number) => boolean;

export async function readmeVerifier(): Promise<Verifier> {
  const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
  const m = /<!-- webhook-verify -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no ```js block after <!-- webhook-verify -->");
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-readme-"));
  const file = path.join(dir, "verify.mjs");
  await writeFile(file, `${m[1]}\nexport { verifyBotflowWebhook };\n`);
  const mod = (await import(pathToFileURL(file).href)) as { verifyBotflowWebhook: Verifier };
  await rm(dir, { recursive: true, force: true });
  return mod.verifyBotflowWebhook;
}
