/**
 * Keeps bench/trigger-delivery.ts runnable and honest at a tiny size: every trigger accepted by
 * both servers, every chat's first question delivered once, the figures printed, and the 429s the
 * fake Bot API answered counted. No timing is asserted; the benchmark is
 * `npx tsx bench/trigger-delivery.ts`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { main, type TriggerBenchReport } from "../../bench/trigger-delivery.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";

// A low rate: the app sends its first second's messages well within it on any machine, so
// whether pacing stays inside every sliding second does not depend on the machine's load.
const TRIGGERS = 40;
const RATE = 10;

let lines: string[] = [];
let report: TriggerBenchReport;
beforeAll(async () => {
  lines = [];
  report = await main([`--triggers=${TRIGGERS}`, `--rate=${RATE}`, "--warmup=5", "--chunk=20"], (line) => void lines.push(line));
}, 120_000);

describe("trigger delivery bench", () => {
  it("measures with a fake that answers Telegram's 429 beyond the limit in a sliding second", async () => {
    const token = "7012345678:AAE-bench_Token_0123456789abcdefXYZ";
    const fake = await new FakeBotApi(token, { sendMessagesPerSecond: 3 }).start();
    try {
      const send = async (chat: number) => {
        const res = await fetch(`${fake.apiRoot}/bot${token}/sendMessage`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ chat_id: chat, text: "q" }) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const answers = [];
      for (let chat = 1; chat <= 4; chat++) answers.push(await send(chat));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
      expect(answers[3]?.body).toEqual({ ok: false, error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } });
      expect(fake.rateLimited).toBe(1);
      expect(fake.payloads("sendMessage")).toHaveLength(3); // the refused call is recorded with status 429, not as sent
      await new Promise((r) => setTimeout(r, 1_050));
      expect((await send(5)).status).toBe(200);
    } finally {
      await fake.stop();
    }
  });

  it("delivers every first question once and prints each figure with its aim", () => {
    expect(report.delivered).toBe(TRIGGERS);
    const printed = lines.join("\n");
    expect(printed).toMatch(/accept: botflow [0-9,]+ triggers\/s \| bare fastify \+ outbox [0-9,]+ triggers\/s \| ratio [0-9.]+ \(aim ≥ 0\.50\) [✓✗]/);
    expect(printed).toMatch(/server CPU per trigger: botflow [0-9,]+ µs \| bare [0-9,]+ µs; 40 triggers each \(embedded services\)/);
    expect(printed).toMatch(/delivery: 40 first questions in [0-9.]+ s; steady [0-9.]+ msg\/s = [0-9.]+ of the 10\/s limit \(aim ≥ 0\.90\) [✓✗]/);
    expect(printed).toMatch(/steady = \(40 − burst 1\) \/ \(last − the burst's last\); overall [0-9.]+ msg\/s/);
    expect(printed).toContain(`429 from the fake: ${report.rateLimited} (aim 0)`);
    expect(report.app.ms).toBeGreaterThan(0);
    expect(report.bare.ms).toBeGreaterThan(0);
  });

  it("gets no 429 from the fake Bot API: pacing keeps every sliding second within the limit", () => {
    expect(report.rateLimited).toBe(0);
  });
});
