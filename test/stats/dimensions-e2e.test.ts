/**
 * Survey dimensions through the whole web process on Telegram: a trigger's variables (agent,
 * team, tags, ticket) are frozen into the survey when its rating is offered, and the statistics
 * API filters, groups and searches by them. The agent is frozen at the offer: a scenario that
 * asks "who helped you?" after the rating (saving to `agent`) leaves the survey with the agent
 * the trigger named (chatwoot#14872 is the bug this pins).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, storedDialogue, useSharedStore } from "../app/app-harness.ts";
import { FakeBotApi, type RecordedCall } from "../channels/telegram-fake-bot-api.ts";
import { newChat, tapUpdate, textUpdate } from "../channels/telegram-updates.ts";
import { API_TOKEN, trigger, until, untilState } from "../triggers/trigger-api-harness.ts";

const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const SECRET = "webhook-secret_5f2c9d1e";

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The bundled csat scenario, and one that asks who helped after the rating and saves the answer to `agent`. */
const REASSIGN = `id: csat_reassign
start: rate
dimensions: [agent, team]
blocks:
  rate:
    type: message_with_keyboard
    text: How did we do?
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }, { label: "3", value: 3 }, { label: "4", value: 4 }, { label: "5", value: 5 }]
    save_to: quality_answer
    next: who
  who:
    type: wait_for_response
    text: Who helped you?
    save_to: agent
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: bye
  bye:
    type: end
    text: Thanks!
`;

async function startApp() {
  const api = await new FakeBotApi(TOKEN).start();
  cleanups.push(() => api.stop());
  const scenarios = await mkdtemp(path.join(tmpdir(), "botflow-dims-"));
  cleanups.push(() => rm(scenarios, { recursive: true, force: true }));
  await writeFile(path.join(scenarios, "csat.yaml"), await readFile(new URL("../../scenarios/csat.yaml", import.meta.url), "utf8"));
  await writeFile(path.join(scenarios, "csat_reassign.yaml"), REASSIGN);
  const t = await startTestApp(
    { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, BOTFLOW_TOKEN: API_TOKEN, BOTFLOW_SCENARIOS_DIR: scenarios },
    { surveyStore: store },
  );
  cleanups.push(() => t.dispose());
  const { url } = await t.app.listen();
  return { api, url, t };
}

const sends = (api: FakeBotApi, chat: number): RecordedCall[] => api.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat && c.status === 200);
const messageIdOf = (api: FakeBotApi, call: RecordedCall): number => 5001 + api.calls.filter((c) => c.method === "sendMessage" && c.status === 200).indexOf(call);

async function webhook(url: string, update: unknown): Promise<void> {
  const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: JSON.stringify(update) });
  await res.text();
  expect(res.status).toBe(200);
}

async function stats(url: string, query: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/stats/${query}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Taps button `index` (0-based) of the keyboard of `question`. */
async function tap(api: FakeBotApi, url: string, chat: number, question: RecordedCall, index: number): Promise<void> {
  const keyboard = question.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] };
  await webhook(url, tapUpdate(chat, keyboard.inline_keyboard.flat()[index]!.callback_data, messageIdOf(api, question), keyboard));
}

describe("survey dimensions through the trigger API and the statistics API", () => {
  it("records the trigger's agent, team, tags and ticket with the survey, and the API filters, groups and searches by them", async () => {
    const { api, url } = await startApp();
    const run = Math.random().toString(36).slice(2, 8);
    const agent = `olena-${run}`;
    const surveyed: { chat: number; score: number; tags: string }[] = [
      { chat: newChat(), score: 5, tags: "refund, vip" },
      { chat: newChat(), score: 2, tags: "refund" },
      { chat: newChat(), score: 4, tags: "" },
    ];
    for (const [i, s] of surveyed.entries()) {
      const variables = { agent, team: `billing-${run}`, ticket: `T-${run}-${i}`, ...(s.tags ? { tags: s.tags } : {}) };
      const answer = await trigger(url, { channel: "telegram", to: String(s.chat), scenario: "csat", key: `dims-${run}-${i}`, variables });
      expect(answer.status).toBe(202);
      await untilState(url, answer.body.id as string, "sent");
      const question = await until(() => sends(api, s.chat)[0]);
      await tap(api, url, s.chat, question, s.score - 1);
      const comment = await until(() => sends(api, s.chat)[1]);
      await tap(api, url, s.chat, comment, 0); // "No comment"
      await untilState(url, answer.body.id as string, "completed");
    }
    await until(async () => ((await stats(url, `figures?dim.agent=${agent}`)).surveys === 3 ? true : undefined));

    const byAgent = await stats(url, `figures?dim.agent=${agent}`);
    expect(byAgent).toMatchObject({ surveys: 3, rated: 3, average: 11 / 3, cdsat: 1 / 3, distribution: { "2": 1, "4": 1, "5": 1 }, source: "rollups", filter: { dimensions: { agent } } });
    const grouped = await stats(url, `figures?group_by=tags&dim.team=billing-${run}`);
    const groups = grouped.groups as { value: string; surveys: number; average: number }[];
    expect(groups.map((g) => [g.value, g.surveys, g.average])).toEqual([
      ["refund", 2, 3.5],
      ["vip", 1, 5],
    ]);
    const agents = (await stats(url, "figures?group_by=agent")).groups as { value: string; surveys: number; averageInterval: unknown }[];
    expect(agents.find((g) => g.value === agent)).toMatchObject({ surveys: 3, averageInterval: { low: expect.any(Number), high: expect.any(Number) } });
    const ticket = await stats(url, `dialogues?dim.ticket=T-${run}-1`);
    expect((ticket.rows as { dimensions: unknown; conversationId: string }[]).map((r) => [r.conversationId, r.dimensions])).toEqual([
      [String(surveyed[1]!.chat), { agent, team: `billing-${run}`, tags: ["refund"], ticket: `T-${run}-1` }],
    ]);
    const bad = await fetch(`${url}/api/stats/figures?dim.bad-name=x`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request", parameter: "dim.bad-name" });
  });

  it("freezes the agent when the rating is offered: a later answer saved to `agent` does not move the survey", async () => {
    const { api, url } = await startApp();
    const run = Math.random().toString(36).slice(2, 8);
    const chat = newChat();
    const answer = await trigger(url, { channel: "telegram", to: String(chat), scenario: "csat_reassign", key: `reassign-${run}`, variables: { agent: `olena-${run}`, team: "billing" } });
    expect(answer.status).toBe(202);
    const question = await until(() => sends(api, chat)[0]);
    await tap(api, url, chat, question, 3);
    await until(() => sends(api, chat)[1]);
    await webhook(url, textUpdate(chat, `taras-${run}`));
    await untilState(url, answer.body.id as string, "completed");
    const row = await until(async () => {
      const r = await storedDialogue(store, String(chat));
      return r?.completed ? r : undefined;
    });
    expect(row.dimensions).toEqual({ agent: `olena-${run}`, team: "billing" });
    expect(row.score).toBe(4);
    expect(await stats(url, `figures?dim.agent=olena-${run}`)).toMatchObject({ surveys: 1, average: 4 });
    expect(await stats(url, `figures?dim.agent=taras-${run}`)).toMatchObject({ surveys: 0, dialogues: 0 });
  });
});
