/**
 * The example scenario examples/support/support-order.yaml, as it is written, against a local
 * order system: the injected fetch sends its api.example.com calls to a real local HTTP server.
 * A found order is told and the CSAT survey follows with the order as its ticket; a 404 and a
 * failing system each take their on_error branch, and the survey still follows.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActionRegistry } from "../../actions/index.ts";
import { retry } from "../../channels/retry.ts";
import { formatProblem } from "../../engine/errors.ts";
import { loadScenarioText } from "../../engine/loader.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { SurveyTracker } from "../../stats/survey-tracker.ts";
import { ROOT } from "../cli/run-cli.ts";
import { RecordingDelivery, RecordingLogger } from "../helpers/recorders.ts";
import { RecordingQueue } from "../helpers/scenario.ts";
import { TestHttpServer } from "./http-server.ts";

const TOKEN = "example-crm-token-0123456789";
const orders = new TestHttpServer((req) => {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, json: { error: "unauthorized" } };
  if (req.url === "/orders/A1001") return { status: 200, json: { status: "on its way", delivery: { eta: "Friday" } } };
  if (req.url === "/orders/B500") return { status: 503, text: "maintenance" };
  return { status: 404, json: { error: "not found" } };
});
beforeAll(async () => void (await orders.start()));
afterAll(() => orders.stop());

/** Node's fetch, with api.example.com served by the local order system. */
const toLocal: typeof fetch = (input, init) => fetch(String(input).replace("https://api.example.com", orders.origin), init);

function load(file: string, specs: ReturnType<ReturnType<typeof createActionRegistry>["specs"]>) {
  const result = loadScenarioText(readFileSync(path.join(ROOT, "examples/support", file), "utf8"), file, { actions: specs });
  if (!result.scenario) throw new Error(result.problems.map(formatProblem).join("\n"));
  expect(result.problems).toEqual([]);
  return result.scenario;
}

async function talk(orderId: string) {
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const actions = createActionRegistry({
    surveys: queue,
    http: { allowHosts: ["api.example.com"], env: { CRM_TOKEN: TOKEN }, retry: (fn, o) => retry(fn, { ...o, sleep: async () => {} }), fetch: toLocal, logger },
  });
  const scenarios = new ScenarioRegistry();
  scenarios.add(load("support-order.yaml", actions.specs()));
  scenarios.add(load("csat.yaml", actions.specs()));
  const delivery = new RecordingDelivery();
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery, actions, tracker: new SurveyTracker(queue), defaultScenarioId: "support_order", logger });
  let n = 0;
  const send = (e: Partial<InboundEvent>) => runtime.handle({ channel: "test", conversationId: "c1", userId: "u1", dedupeKey: `e${++n}`, ...e } as InboundEvent);
  await send({ kind: "start", variables: { agent: "olena" } });
  const after = await send({ kind: "text", text: orderId });
  return { texts: delivery.texts(), state: after.state, queue, logs: logger.serialized().join("\n") };
}

describe("examples/support/support-order.yaml", () => {
  it("tells a found order's status and hands over to the CSAT survey with the order as its ticket", async () => {
    const { texts, state, queue, logs } = await talk("A1001");
    expect(texts.slice(0, 3)).toEqual(["Hi! What is your order number?", "Order A1001 is on its way; expected Friday.", expect.stringContaining("Please rate the quality of service")]);
    expect(state?.scenarioId).toBe("csat");
    expect(state?.context).toEqual({ ticket: "A1001", agent: "olena" });
    expect(queue.events.some((e) => e.kind === "offered")).toBe(true);
    expect(logs).not.toContain(TOKEN);
  });

  it("says so when the order system does not know the order (404), then surveys", async () => {
    const { texts, state } = await talk("Z9");
    expect(texts[1]).toBe("We could not find order Z9; an agent will write to you about it.");
    expect(state?.scenarioId).toBe("csat");
  });

  it("says so when the order system fails (5xx after the retries), then surveys", async () => {
    const before = orders.requests.length;
    const { texts, state, logs } = await talk("B500");
    expect(texts[1]).toBe("Our order system is not answering right now; an agent will write to you.");
    expect(orders.requests.length - before).toBe(3);
    expect(state?.scenarioId).toBe("csat");
    expect(logs).toContain("answered 503, not 2xx");
  });
});
