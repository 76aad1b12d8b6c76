/**
 * The Graph API client's retries, against the local fake Graph API: rate limits and server
 * errors back off exponentially (sleep injected, nothing waits), other errors fail at once.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelError } from "../../engine/errors.ts";
import { GraphClient } from "../../channels/whatsapp-cloud/graph-client.ts";
import { FakeGraph, GRAPH_ERRORS } from "./whatsapp-cloud-fake-graph.ts";

const TOKEN = "EAAG-secret-token-for-the-graph-client";
const MESSAGE = { messaging_product: "whatsapp" as const, to: "16505551234", type: "text", text: { body: "hi" } };

let graph: FakeGraph;
let pauses: number[];
let client: GraphClient;
beforeEach(async () => {
  graph = await new FakeGraph().start();
  pauses = [];
  // random: 1 makes each full-jitter pause its ceiling, so the doubling is visible.
  client = new GraphClient({ apiRoot: `${graph.apiRoot}/`, phoneNumberId: "106540352242922", accessToken: TOKEN, sleep: async (ms) => void pauses.push(ms), random: () => 1 });
});
afterEach(async () => {
  await graph.stop();
});

describe("GraphClient", () => {
  it("sends with the Bearer token to /{phone-number-id}/messages and returns the message id", async () => {
    expect(await client.send(MESSAGE)).toBe("wamid.fake1");
    expect(graph.requests).toEqual([{ method: "POST", path: "/v21.0/106540352242922/messages", authorization: `Bearer ${TOKEN}`, body: MESSAGE }]);
    expect(pauses).toEqual([]);
  });

  it("retries 429 and 5xx with doubling pauses, then succeeds", async () => {
    graph.failures.push(429, 503, 500);
    expect(await client.send(MESSAGE)).toBe("wamid.fake1");
    expect(pauses).toEqual([500, 1000, 2000]);
    expect(graph.requests).toHaveLength(1);
  });

  it("gives up after the last attempt with a retryable ChannelError", async () => {
    graph.failures.push(503, 503, 503, 503, 503);
    const err = await client.send(MESSAGE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ status: 503, retryable: true });
    expect(pauses).toEqual([500, 1000, 2000]);
    expect(graph.failures).toEqual([503]);
  });

  it("fails at once on a client error, saying what to check and never the token", async () => {
    graph.failures.push(401);
    const err = (await client.send(MESSAGE).catch((e: unknown) => e)) as ChannelError;
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("answered 401");
    expect(err.message).toContain("check WHATSAPP_CLOUD_ACCESS_TOKEN");
    expect(err.message).not.toContain(TOKEN);
    expect(pauses).toEqual([]);
  });

  it("retries a Graph API it cannot reach", async () => {
    await graph.stop();
    const err = (await client.send(MESSAGE).catch((e: unknown) => e)) as ChannelError;
    expect(err).toMatchObject({ retryable: true });
    expect(err.message).toContain("could not reach the Graph API");
    expect(pauses).toEqual([500, 1000, 2000]);
  });

  it("names a recipient it cannot reach (131047, 131030, 131026) and does not retry it", async () => {
    for (const [failure, recipient] of [
      [GRAPH_ERRORS.reEngagement, "window_closed"],
      [GRAPH_ERRORS.notAllowed, "not_allowed"],
      [GRAPH_ERRORS.undeliverable, "unknown_recipient"],
    ] as const) {
      graph.failures.push(failure, failure);
      const err = (await client.send(MESSAGE).catch((e: unknown) => e)) as ChannelError;
      expect(err).toBeInstanceOf(ChannelError);
      expect(err).toMatchObject({ status: 400, retryable: false, recipient });
      expect(err.message).toContain(`(code ${failure.code})`);
      expect(err.message).not.toContain(TOKEN);
      graph.failures.splice(0);
    }
    expect(graph.attempts).toHaveLength(3);
    expect(pauses).toEqual([]);
    const closed = (await (graph.failures.push(GRAPH_ERRORS.reEngagement), client.send(MESSAGE)).catch((e: unknown) => e)) as ChannelError;
    expect(closed.message).toContain("more than 24 hours have passed since the customer last replied");
    expect(closed.message).toContain("WHATSAPP_CLOUD_TEMPLATE");
  });

  it("says a template is missing in that language rather than blaming the phone number id (132001 comes as a 404)", async () => {
    graph.failures.push(GRAPH_ERRORS.templateMissing);
    const err = (await client.send(MESSAGE).catch((e: unknown) => e)) as ChannelError;
    expect(err).toMatchObject({ status: 404, retryable: false, recipient: undefined });
    expect(err.message).toContain("template name (csat_request) does not exist in en_US");
    expect(err.message).toContain("check the name and language in WhatsApp Manager");
    expect(err.message).not.toContain("WHATSAPP_CLOUD_PHONE_NUMBER_ID");
  });

  it("retries WhatsApp's throughput (130429) and pair rate (131056, waiting 6 s) limits, though answered with a 400", async () => {
    graph.failures.push(GRAPH_ERRORS.throughput, GRAPH_ERRORS.pairRate);
    expect(await client.send(MESSAGE)).toBe("wamid.fake1");
    expect(pauses).toEqual([500, 6000]);
    graph.failures.push(GRAPH_ERRORS.pairRate, GRAPH_ERRORS.pairRate, GRAPH_ERRORS.pairRate, GRAPH_ERRORS.pairRate);
    const err = (await client.send(MESSAGE).catch((e: unknown) => e)) as ChannelError;
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 6000, recipient: undefined });
  });
});
