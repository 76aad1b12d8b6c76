/**
 * The HTTP answers of one test case: its `mock:` steps, served through a `fetch` that the case's
 * http__request action is given, so a test never reaches the network. The latest mock whose URL
 * (and method, when it names one) matches answers; a request nothing matches fails as a network
 * error would, and is remembered so the case reports it instead of quietly taking `on_error`.
 *
 * @example
 * const mocks = new HttpMocks();
 * mocks.add({ url: "https://crm.example/orders/42", status: 200, json: { status: "shipped" } });
 * const action = httpRequestAction({ fetch: mocks.fetch, … });
 */
import type { HttpMock } from "./test-file.ts";

export class HttpMocks {
  private readonly mocks: HttpMock[] = [];
  private missed: string[] = [];
  /** Every request the case made, `METHOD url` (secrets shown as `{{env.NAME}}`), in order. */
  readonly requests: string[] = [];

  /** `secrets`: the allowed secrets (BOTFLOW_HTTP_ENV), name → value; a URL that carries one is reported with its name instead. */
  constructor(private readonly secrets: Readonly<Record<string, string | undefined>> = {}) {}

  add(mock: HttpMock): void {
    this.mocks.push(mock);
  }

  /** A fetch over the mocks. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const request = `${method} ${this.redact(url)}`;
    this.requests.push(request);
    const mock = this.mocks.findLast((m) => sameUrl(m.url, url) && (m.method === undefined || m.method === method));
    if (!mock) {
      if (!this.missed.includes(request)) this.missed.push(request);
      throw new TypeError("fetch failed: no mock answers this request");
    }
    const body = mock.json === undefined || method === "HEAD" || mock.status === 204 || mock.status === 304 ? null : JSON.stringify(mock.json);
    return new Response(body, { status: mock.status, headers: body === null ? {} : { "content-type": "application/json" } });
  };

  private redact(url: string): string {
    let out = url;
    for (const [name, value] of Object.entries(this.secrets)) {
      if (value === undefined || value.length < 3) continue;
      for (const form of new Set([value, encodeURIComponent(value)])) out = out.split(form).join(`{{env.${name}}}`);
    }
    return out;
  }

  /** The requests no mock answered since the last call, each once. */
  unanswered(): string[] {
    const missed = this.missed;
    this.missed = [];
    return missed;
  }
}

/** URLs compare as parsed, so `https://Crm.example/a` and `https://crm.example/a` are the same request. */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}
