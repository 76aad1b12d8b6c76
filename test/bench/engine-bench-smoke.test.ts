/**
 * Keeps bench/engine-throughput.ts honest: the engine and the hand-coded CSAT flow it is
 * compared with must produce the same messages, keyboards, closed prompts and queued surveys.
 * No timing here; the benchmark itself is `npm run bench`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createEngineFlow, createHandCodedFlow, loadCsat, playConversations } from "../../bench/csat-flows.ts";
import { checkOutputs, runBoth } from "../../bench/engine-throughput.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";

let scenario: LoadedScenario;
beforeAll(async () => {
  scenario = await loadCsat();
});

describe("engine throughput bench", () => {
  it("plays 100 conversations with identical outputs on both sides", async () => {
    const { engine, handCoded } = await runBoth(scenario, 100, true);
    expect(() => checkOutputs(engine, handCoded, 100)).not.toThrow();
    expect(engine.recorded?.sent).toHaveLength(500); // 3 messages + 2 closed prompts per conversation
    expect(handCoded.recorded?.sent).toEqual(engine.recorded?.sent);
    expect(engine.recorded?.queued).toHaveLength(100);
    expect(handCoded.recorded?.queued).toEqual(engine.recorded?.queued);
  });

  it("queues the rating and the typed comment of each conversation", async () => {
    const { engine } = await runBoth(scenario, 6, true);
    const queued = engine.recorded?.queued ?? [];
    expect(queued.map((q) => [q.conversationId, q.kind, q.score, q.comment])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`c${i}`, "completed", (i % 5) + 1, `Comment ${i}: rated ${(i % 5) + 1}`]),
    );
    expect(new Set(queued.map((q) => q.surveyId)).size).toBe(6);
  });

  it("refuses figures when one side falls short", async () => {
    const engine = createEngineFlow(scenario);
    const handCoded = createHandCodedFlow(scenario);
    await playConversations(engine, 10);
    await playConversations(handCoded, 9);
    expect(() => checkOutputs(engine.output, handCoded.output, 10)).toThrow(/hand-coded produced 27 events for 10 conversations, expected 30/);
  });
});
