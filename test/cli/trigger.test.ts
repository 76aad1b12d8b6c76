/**
 * `botflow trigger` through the CLI entry against a real composed web process on Telegram (local
 * fake Bot API): one trigger, a retried key, the JSON-lines bulk form with its tally and progress
 * bar, and the usage errors that never reach the server.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import type { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import { startTestApp, useSharedStore, type TestApp } from "../app/app-harness.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { newChat } from "../channels/telegram-updates.ts";

const TOKEN = "7012345678:AAE-test_Token_0123456789abcdefXYZ";
const API_TOKEN = "cli-trigger-token-0123456789";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let store: PgliteSurveyStore;
useSharedStore((s) => (store = s));
let t: TestApp;
let fake: FakeBotApi;
let url: string;
let dir: string;

beforeAll(async () => {
  fake = await new FakeBotApi(TOKEN).start();
  t = await startTestApp({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_INSECURE: "true", BOTFLOW_TOKEN: API_TOKEN }, { surveyStore: store });
  url = (await t.app.listen()).url;
  dir = await mkdtemp(path.join(tmpdir(), "botflow-cli-trigger-"));
});
afterAll(async () => {
  await t?.dispose();
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string | undefined> = { BOTFLOW_TOKEN: API_TOKEN, BOTFLOW_URL: url }, tty = false) {
  const stdout = new Sink();
  const stderr = Object.assign(new Sink(), { isTTY: tty });
  const code = await main(["trigger", ...argv], { stdout, stderr, stdin: Readable.from([]), env, cwd: dir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const sentTo = (chat: number) => fake.calls.filter((c) => c.method === "sendMessage" && c.payload.chat_id === chat);

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("botflow trigger", () => {
  it("starts one survey, and says a retried key is the same dialogue", async () => {
    const chat = newChat();
    const key = `T-${randomUUID()}`;
    const first = await cli(["--channel", "telegram", "--to", String(chat), "--scenario", "csat", "--var", "agent=olena", "--var", "ticket=T-1", "--key", key]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    const id = /dialogue ([0-9a-f-]{36})/.exec(first.stdout)?.[1];
    expect(first.stdout).toMatch(/^started: dialogue [0-9a-f-]{36} \(scheduled\)\n$/);
    const again = await cli(["--channel", "telegram", "--to", String(chat), "--scenario", "csat", "--key", key, "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 200, id, result: "duplicate", variables: { agent: "olena", ticket: "T-1" } });
    await until(() => sentTo(chat).length === 1);
  });

  it("schedules with --delay, and reports a refusal with its field and a failing exit code", async () => {
    const later = await cli(["--channel", "telegram", "--to", String(newChat()), "--scenario", "csat", "--delay", "2h"]);
    expect(later.code).toBe(0);
    expect(later.stdout).toMatch(/^scheduled for \d{4}-\d\d-\d\dT[0-9:.]+Z: dialogue /);
    const bad = await cli(["--channel", "telegram", "--to", String(newChat()), "--scenario", "csat", "--delay", "whenever"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^refused \(400, delay\): give a delay such as 90s/);
  });

  it("sends a JSON-lines file with keyed retries, tallies the answers and draws a progress bar on a terminal", async () => {
    const chats = [newChat(), newChat(), newChat()];
    const lines = [
      JSON.stringify({ channel: "telegram", to: String(chats[0]), scenario: "csat", key: `B-${randomUUID()}` }),
      JSON.stringify({ channel: "telegram", to: String(chats[1]), scenario: "csat", variables: { agent: "taras" } }),
      "",
      "{not json",
      JSON.stringify({ channel: "telegram", to: String(chats[2]), scenario: "no_such_scenario" }),
    ];
    await writeFile(path.join(dir, "tickets.jsonl"), `${lines.join("\n")}\n`);
    const r = await cli(["--file", "tickets.jsonl", "--concurrency", "2"], undefined, true);
    expect(r.code).toBe(1); // two lines were refused
    expect(r.stdout).toBe("4 triggers: 1 invalid line, 1 refused 422, 2 started\n");
    expect(r.stderr).toContain("line 4: not JSON");
    expect(r.stderr).toMatch(/line 5: refused \(422, scenario\)/);
    expect(r.stderr).toContain("4/4 (100%)");
    await until(() => sentTo(chats[0] as number).length === 1 && sentTo(chats[1] as number).length === 1);
    expect(sentTo(chats[2] as number)).toHaveLength(0);
  });

  it("refuses to run without BOTFLOW_TOKEN or with half a trigger, before calling anyone", async () => {
    const before = fake.calls.length;
    const noToken = await cli(["--channel", "telegram", "--to", "1", "--scenario", "csat"], { BOTFLOW_URL: url });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("set BOTFLOW_TOKEN");
    const half = await cli(["--channel", "telegram", "--to", "1"]);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain("give --channel, --to and --scenario");
    const wrongUrl = await cli(["--channel", "telegram", "--to", "1", "--scenario", "csat", "--url", "ftp://x"]);
    expect(wrongUrl.code).toBe(2);
    expect(fake.calls.length).toBe(before);
  });
});
