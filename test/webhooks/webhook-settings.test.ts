/** The webhook variables as app/config.ts reads them, the low-score rule and Retry-After. */
import { describe, expect, it } from "vitest";
import { loadConfig, loadWorkerConfig } from "../../app/config.ts";
import { parseRetryAfter } from "../../webhooks/deliver.ts";
import { DEFAULT_LOW_SCORE, isLowScore, parseLowScoreRule } from "../../webhooks/low-score.ts";

const SECRET = "0123456789abcdef0123";
const load = (env: Record<string, string>) => loadConfig({ PORT: "0", ...env }, { cwd: "/tmp" });

describe("webhook settings", () => {
  it("reads one URL, a list, and scenario-scoped entries, with the secret and the default rule", () => {
    expect(load({}).webhooks).toBeUndefined();
    const c = load({ BOTFLOW_WEBHOOK_URL: "https://a.example/hook?token=x, csat-emoji=http://b.example/h", BOTFLOW_WEBHOOK_SECRET: SECRET });
    expect(c.webhooks).toEqual({
      endpoints: [{ url: "https://a.example/hook?token=x" }, { url: "http://b.example/h", scenario: "csat-emoji" }],
      secret: SECRET,
      lowScore: { share: 0.25 },
    });
    expect(loadWorkerConfig({ BOTFLOW_WEBHOOK_URL: "https://a.example/h", BOTFLOW_WEBHOOK_SECRET: SECRET, BOTFLOW_WEBHOOK_LOW_SCORE: "2" }).webhooks?.lowScore).toEqual({ atMost: 2 });
  });

  it("refuses a URL without a secret, a short secret, a secret without a URL, bad URLs and rules, never echoing the secret", () => {
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "https://a.example/h" })).toThrow(/BOTFLOW_WEBHOOK_SECRET is not/);
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "https://a.example/h", BOTFLOW_WEBHOOK_SECRET: "short-secret" })).toThrow(/shorter than 16/);
    expect(() => load({ BOTFLOW_WEBHOOK_SECRET: SECRET })).toThrow(/BOTFLOW_WEBHOOK_URL is not/);
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "ftp://a.example/h", BOTFLOW_WEBHOOK_SECRET: SECRET })).toThrow(/entry 1 \(ftp:\/\/…\) is not an http\(s\) URL/);
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "not a url", BOTFLOW_WEBHOOK_SECRET: SECRET })).toThrow(/entry 1 is not a URL/);
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "bad id!=https://a.example", BOTFLOW_WEBHOOK_SECRET: SECRET })).toThrow(/is not a scenario id/);
    expect(() => load({ BOTFLOW_WEBHOOK_URL: "https://a.example", BOTFLOW_WEBHOOK_SECRET: SECRET, BOTFLOW_WEBHOOK_LOW_SCORE: "low" })).toThrow(/BOTFLOW_WEBHOOK_LOW_SCORE "low" is neither/);
    try {
      load({ BOTFLOW_WEBHOOK_URL: "ftp://x", BOTFLOW_WEBHOOK_SECRET: SECRET });
    } catch (err) {
      expect(String(err)).not.toContain(SECRET);
    }
  });

  it("low score by default is the lowest quarter of the scale: 1–2 on 1–5, 👎 = 0 on 0–100, not 3; a fixed bound ignores the scale", () => {
    const five = { min: 1, max: 5 };
    expect([1, 2, 3, 4, 5].filter((s) => isLowScore(s, five, DEFAULT_LOW_SCORE))).toEqual([1, 2]);
    expect([0, 100].filter((s) => isLowScore(s, { min: 0, max: 100 }, DEFAULT_LOW_SCORE))).toEqual([0]);
    expect([0, 1, 2, 3, 10].filter((s) => isLowScore(s, { min: 0, max: 10 }, DEFAULT_LOW_SCORE))).toEqual([0, 1, 2]);
    expect(isLowScore(1, null, DEFAULT_LOW_SCORE)).toBe(false);
    expect(isLowScore(null, five, DEFAULT_LOW_SCORE)).toBe(false);
    expect(isLowScore(3, null, parseLowScoreRule("3"))).toBe(true);
    expect(parseLowScoreRule("40%")).toEqual({ share: 0.4 });
    expect(() => parseLowScoreRule("140%")).toThrow(/more than 100%/);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(new Date(now + 5000).toUTCString(), now)).toBe(5000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});
