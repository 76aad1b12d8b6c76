/**
 * Webhook fuzz, per webhook channel, in production mode (Redis + PostgreSQL up): real payload
 * samples (the vendors' own, from shared/reference/protocol/, and the project's fixtures) with
 * fields deleted, retyped and truncated, each delivered twice as a messenger redelivers. A
 * payload that can never succeed must not get a 5xx on redelivery (Telegram holds the bot's
 * next updates behind it, WhatsApp retries for days); the process stays up; every drop is
 * counted in botflow_inbound_dropped_total.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../channels/whatsapp-cloud/webhook.ts";
import { startTestApp, type TestApp } from "../app/app-harness.ts";
import { parsePrometheus } from "../app/prometheus-text.ts";
import { FakeConnector } from "../channels/teams-fake-connector.ts";
import { FakeBotApi } from "../channels/telegram-fake-bot-api.ts";
import { FakeGraph } from "../channels/whatsapp-cloud-fake-graph.ts";
import { productionEnv } from "../helpers/production-env.ts";
import { mutations, pick, type Mutation } from "./payload-mutations.ts";

const REFERENCE = path.resolve(import.meta.dirname, "../../../shared/reference/protocol");
const FIXTURES = path.resolve(import.meta.dirname, "../fixtures");
/** Variants per channel: enough to touch every field of every sample kind, bounded in time. */
const PER_CHANNEL = Number(process.env.BOTFLOW_FUZZ_CASES ?? 600);

type Json = Record<string, unknown>;
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));
const fixtures = (dir: string): Json[] =>
  readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith(".json"))
    .map((f) => readJson(path.join(FIXTURES, dir, f)) as Json);

const prod = productionEnv();
const env = { ...prod.env, BOTFLOW_SWEEP_INTERVAL: "1h" };
afterAll(() => prod.cleanup());

interface Outcome {
  name: string;
  statuses: [number, number];
}

/** Delivers each variant twice; returns what each delivery was answered. */
async function deliverTwice(variants: Mutation[], post: (raw: string) => Promise<number>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const v of variants) out.push({ name: v.name, statuses: [await post(v.raw), await post(v.raw)] });
  return out;
}

async function expectSurvived(t: TestApp, url: string, outcomes: Outcome[], channel: string): Promise<void> {
  // With Redis and PostgreSQL up nothing is "not now": not even a first delivery may get a 5xx.
  const failed = outcomes.filter((o) => o.statuses.some((s) => s >= 500)).map((o) => `${o.name}: ${o.statuses.join(", ")}`);
  expect(failed, `payloads answered 5xx (${channel})`).toEqual([]);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  const metrics = parsePrometheus(await (await t.app.server.inject({ url: "/metrics" })).body).samples;
  const dropped = metrics.filter((s) => s.name === "botflow_inbound_dropped_total" && s.labels.channel === channel);
  expect(dropped.length, "botflow_inbound_dropped_total has series for the channel").toBeGreaterThan(0);
  const total = dropped.reduce((a, s) => a + s.value, 0);
  // Truncated bodies can never be parsed: each such delivery (both of them) is a counted drop.
  const truncated = outcomes.filter((o) => o.name.startsWith("truncate")).length * 2;
  expect(total).toBeGreaterThanOrEqual(truncated);
  // Personal data stays out of the logs: no comment or name from the samples.
  expect(t.logs.join("\n")).not.toContain("Sheena Nelson");
}

describe("webhook fuzz in production mode", () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.dispose());

  it("Telegram: no mutated Update gets a 5xx on redelivery, and drops are counted", async () => {
    const TOKEN = "7012345678:AAE-fuzz_Token_0123456789abcdefXYZ";
    const SECRET = "fuzz-secret_5f2c9d1e";
    const api = await new FakeBotApi(TOKEN).start();
    try {
      t = await startTestApp({ ...env, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET });
      const { url } = await t.app.listen();
      let updateId = 900_000_000;
      const samples = [...(readJson(path.join(REFERENCE, "telegram/updates.json")) as { update: Json }[]).map((u) => u.update), ...fixtures("telegram")];
      const variants = pick(
        samples.flatMap((s) => mutations({ ...s, update_id: ++updateId })),
        PER_CHANNEL,
        17,
      );
      const outcomes = await deliverTwice(variants, async (raw) => {
        const res = await fetch(`${url}/telegram/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET }, body: raw });
        await res.arrayBuffer();
        return res.status;
      });
      await expectSurvived(t, url, outcomes, "telegram");
    } finally {
      await t?.dispose();
      t = undefined;
      await api.stop();
    }
  });

  it("Teams: no mutated Activity gets a 5xx on redelivery, and drops are counted", async () => {
    const connector = await FakeConnector.start();
    try {
      t = await startTestApp({ ...env, BOTFLOW_TEAMS_EMULATOR: "true" });
      const { url } = await t.app.listen();
      const samples = [...(readJson(path.join(REFERENCE, "teams/activities.json")) as { activity: Json }[]).map((a) => a.activity), ...fixtures("teams")];
      const variants = pick(
        samples.flatMap((s) => mutations({ ...s, id: `act-${randomUUID()}`, serviceUrl: connector.url })),
        PER_CHANNEL,
        17,
      );
      const outcomes = await deliverTwice(variants, async (raw) => {
        const res = await fetch(`${url}/api/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: raw });
        await res.arrayBuffer();
        return res.status;
      });
      await expectSurvived(t, url, outcomes, "teams");
    } finally {
      await t?.dispose();
      t = undefined;
      await connector.close();
    }
  });

  it("WhatsApp Cloud: no mutated webhook gets a 5xx on redelivery, and drops are counted", async () => {
    const APP_SECRET = "app-secret-fuzz-5aa765d61d8327deb882cf99";
    const graph = await new FakeGraph().start();
    try {
      t = await startTestApp({
        ...env,
        WHATSAPP_CLOUD_ACCESS_TOKEN: "EAAG-fuzz-access-token-d41d8cd98f00b204",
        WHATSAPP_CLOUD_PHONE_NUMBER_ID: "106540352242922",
        WHATSAPP_CLOUD_APP_SECRET: APP_SECRET,
        WHATSAPP_CLOUD_VERIFY_TOKEN: "verify-fuzz",
        WHATSAPP_CLOUD_API_ROOT: graph.apiRoot,
      });
      const { url } = await t.app.listen();
      const reference = readJson(path.join(REFERENCE, "whatsapp-cloud/openapi-extract.json")) as { webhookExamples: Record<string, Json> };
      const docs = readJson(path.join(REFERENCE, "whatsapp-cloud/docs-examples.json")) as Record<string, { payload: Json }>;
      const samples = [...Object.values(reference.webhookExamples), ...Object.values(docs).map((d) => d.payload), ...fixtures("whatsapp-cloud")];
      const variants = pick(samples.flatMap((s) => mutations(s)), PER_CHANNEL, 17);
      const outcomes = await deliverTwice(variants, async (raw) => {
        const res = await fetch(`${url}/whatsapp/webhook`, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) }, body: raw });
        await res.arrayBuffer();
        return res.status;
      });
      await expectSurvived(t, url, outcomes, "whatsapp-cloud");
    } finally {
      await t?.dispose();
      t = undefined;
      await graph.stop();
    }
  });
});

beforeAll(() => {
  // The vendors' samples live beside the repository (shared/), never committed into it.
  expect(readdirSync(REFERENCE)).toEqual(expect.arrayContaining(["telegram", "teams", "whatsapp-cloud"]));
});
