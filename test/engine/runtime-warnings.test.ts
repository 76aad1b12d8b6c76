/**
 * The runtime logs a step's warnings (a set block whose `add` met text that is not a number):
 * one warn line naming the conversation, scenario and block, never the value that failed.
 */
import { describe, expect, it } from "vitest";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery, RecordingLogger } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

const YAML = `id: counter
start: ask
blocks:
  ask:
    type: wait_for_response
    text: How many?
    save_to: how_many
    next: count
  count:
    type: set
    set: { total: { add: ["{{how_many}}", 1] } }
    next: bye
  bye:
    type: end
    text: "Total: {{total}}"
`;

describe("runtime warnings", () => {
  it("logs a set block that could not compute a value, without the value", async () => {
    const scenarios = new ScenarioRegistry();
    scenarios.add(loadTestScenario(YAML));
    const logger = new RecordingLogger();
    const clock = new ManualClock();
    const delivery = new RecordingDelivery();
    const runtime = new Runtime({ scenarios, store: new MemoryStateStore(clock), delivery, actions: testActions(new RecordingQueue()), defaultScenarioId: "counter", clock, logger });
    let n = 0;
    const send = (e: Partial<InboundEvent>) => runtime.handle({ channel: "telegram", conversationId: "42", userId: "7", kind: "text", dedupeKey: `d${n++}`, ...e } as InboundEvent);
    await send({ kind: "start" });
    expect(logger.lines.filter((l) => l.level === "warn")).toEqual([]);
    await send({ text: "secret-word-314" });
    const warns = logger.lines.filter((l) => l.level === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0]).toMatchObject({ obj: { conversation: "telegram::42", scenario: "counter", block: "count" } });
    expect(warns[0]!.msg).toMatch(/block "count": set total/);
    expect(JSON.stringify(logger.serialized())).not.toContain("secret-word-314");
  });
});
