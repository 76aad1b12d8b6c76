/**
 * The Graph API client's retries, against the local fake Graph API: rate limits and server
 * errors back off exponentially (sleep injected, nothing waits), other errors fail at once.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelError } from "../../engine/errors.ts";
import { GraphClient } from "../../channels/whatsapp-cloud/graph-client.ts";
import { FakeGraph } from "./whatsapp-cloud-fake-graph.ts";

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
});
