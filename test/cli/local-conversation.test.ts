/**
 * LocalConversation with an injected survey queue: events reach the queue given to the kit,
 * and a failing action is reported (without personal data) while the dialogue goes on.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioFile } from "../../engine/loader.ts";
import { LocalConversation, type ConversationEntry } from "../../cli/local-conversation.ts";
import { createScenarioKit } from "../../cli/scenario-kit.ts";
import { SimClock } from "../../cli/sim-clock.ts";
import { formatEntry } from "../../cli/transcript.ts";
import type { SurveyEvent, SurveyQueue } from "../../stats/events.ts";

class ListQueue implements SurveyQueue {
  readonly added: SurveyEvent[] = [];
  constructor(private readonly failOn?: SurveyEvent["kind"]) {}
  async add(event: SurveyEvent): Promise<void> {
    if (event.kind === this.failOn) throw new Error("queue is down; retry later");
    this.added.push(event);
  }
  async close(): Promise<void> {}
}

async function converse(queue: SurveyQueue): Promise<{ entries: ConversationEntry[]; conversation: LocalConversation }> {
  const kit = createScenarioKit({ queue });
  const scenario = await loadScenarioFile("scenarios/csat.yaml", kit.loadOptions);
  const entries: ConversationEntry[] = [];
  const conversation = new LocalConversation({ scenario, kit, clock: new SimClock(() => 1_000_000), onEntry: (e) => entries.push(e) });
  await conversation.start();
  await conversation.text("2");
  await conversation.text("Private remark");
  return { entries, conversation };
}

describe("LocalConversation", () => {
  it("passes every survey event on to the queue it was given, in order", async () => {
    const queue = new ListQueue();
    const { conversation } = await converse(queue);
    expect(queue.added.map((e) => e.kind)).toEqual(["dialogue_started", "offered", "answered", "commented", "completed"]);
    expect(queue.added.at(-1)).toMatchObject({ scenarioId: "csat", channel: "cli", score: 2, comment: "Private remark" });
    expect(conversation.state?.ended).toBe(true);
  });

  it("reports a failed action and carries on to the thank-you", async () => {
    const { entries, conversation } = await converse(new ListQueue("completed"));
    const action = entries.find((e) => e.kind === "action");
    expect(action).toEqual({ kind: "action", name: "statistic__set", ok: false, events: [], error: "queue is down; retry later" });
    expect(formatEntry(action as ConversationEntry)).toEqual(["     [statistic__set failed: queue is down; retry later]"]);
    const last = entries.at(-1);
    expect(last?.kind === "bot" ? last.message.text : undefined).toBe("Thank you for your feedback!");
    expect(conversation.state?.vars).toEqual({ quality_answer: 2, quality_comment: "Private remark" });
  });
});
