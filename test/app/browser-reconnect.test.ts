/**
 * The web chat page across a web process restart, in real Chromium, on the production
 * services (Redis state and history): the page reconnects by itself, resumes the
 * conversation with its history, and the user answers on.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./app-harness.ts";
import { launchBrowser } from "./browser.ts";

const DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";
const id = randomUUID().replace(/-/g, "").slice(0, 12);
const env = {
  REDIS_URL: "redis://127.0.0.1:6379",
  DATABASE_URL,
  BOTFLOW_QUEUE: `test-${id}`,
  BOTFLOW_QUEUE_PREFIX: `test-${id}`,
  BOTFLOW_STATE_PREFIX: `test-${id}:`,
  BOTFLOW_DB_SCHEMA: `test_${id}`,
};
let browser: Browser;
const apps: TestApp[] = [];
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  for (const a of apps) await a.dispose();
  const redis = new Redis("redis://127.0.0.1:6379");
  const keys = await redis.keys(`test-${id}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  await db.query(`drop schema if exists test_${id} cascade`);
  await db.end();
});

describe("web chat page across a server restart", () => {
  it("reconnects, replays the conversation and takes the next answer", async () => {
    const first = await startTestApp(env);
    apps.push(first);
    const { port } = await first.app.listen();
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`http://127.0.0.1:${port}/chat`);
    await page.getByRole("group", { name: /Please rate/ }).getByRole("button", { name: "5", exact: true }).click();
    await page.getByText("Would you like to add a comment to your rating?").waitFor();

    await first.app.close(); // sockets closed with 1012; the page starts reconnecting
    await page.getByText("Disconnected, reconnecting…").waitFor();
    const second = await startTestApp({ ...env, PORT: String(port) });
    apps.push(second);
    await second.app.listen();
    await page.getByText("Connected").waitFor({ timeout: 15_000 });

    // The replayed history: the rating (answered, 5 chosen) and the comment question.
    const rating = page.getByRole("group", { name: /Please rate/ });
    expect(await rating.getByRole("button", { name: "5", exact: true }).getAttribute("aria-pressed")).toBe("true");
    expect(await page.getByText("Would you like to add a comment to your rating?").count()).toBe(1);
    await page.getByLabel("Your message").fill("still here after the restart");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("Thank you for your feedback!").waitFor();

    const conversationId = (await page.evaluate('localStorage.getItem("botflow.webchat.conversation")')) as string;
    // No worker runs here, so the survey waits in BullMQ; the conversation state in Redis shows
    // the dialogue ended on the second process with both answers saved.
    const redis = new Redis("redis://127.0.0.1:6379");
    try {
      const keys = await redis.keys(`${env.BOTFLOW_STATE_PREFIX}*state:webchat::${conversationId}`);
      expect(keys).toHaveLength(1);
      const state = JSON.parse((await redis.get(keys[0] as string)) as string) as { ended: boolean; vars: Record<string, unknown> };
      expect(state).toMatchObject({ ended: true, vars: { quality_answer: 5, quality_comment: "still here after the restart" } });
    } finally {
      await redis.quit();
    }
    await page.close();
  });
});
