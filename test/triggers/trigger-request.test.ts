import { describe, expect, it } from "vitest";
import { MAX_VARIABLES, parseTriggerRequest } from "../../triggers/trigger-request.ts";

const NOW = Date.parse("2026-12-02T12:00:00Z");
const base = { channel: "telegram", to: "42", scenario: "csat" };

describe("trigger request", () => {
  it("accepts the issue's example and keeps every field", () => {
    const r = parseTriggerRequest(
      { ...base, variables: { agent: "olena", team: "billing", ticket: "T-1234", name: "Taras", priority: 2, vip: true }, locale: "uk", key: "T-1234", delay: "24h", policy: { cooldown: "7d" } },
      NOW,
    );
    expect(r).toEqual({
      ok: true,
      request: {
        ...base,
        variables: { agent: "olena", team: "billing", ticket: "T-1234", name: "Taras", priority: 2, vip: "true" },
        locale: "uk",
        key: "T-1234",
        delayMs: 86_400_000,
        policy: { cooldownMs: 7 * 86_400_000 },
      },
    });
    expect(parseTriggerRequest({ ...base, to: 42, at: "2026-12-03T09:00:00+02:00" }, NOW)).toMatchObject({ ok: true, request: { to: "42", at: Date.parse("2026-12-03T07:00:00Z") } });
  });

  it.each([
    [null, "body"],
    [[1, 2], "body"],
    [{ ...base, channel: "" }, "channel"],
    [{ ...base, to: "" }, "to"],
    [{ ...base, to: { id: 1 } }, "to"],
    [{ ...base, to: "x".repeat(257) }, "to"],
    [{ ...base, scenario: "../etc/passwd" }, "scenario"],
    [{ ...base, variables: [] }, "variables"],
    [{ ...base, variables: { "bad name": "x" } }, "variables.bad name"],
    [{ ...base, variables: { agent: { nested: true } } }, "variables.agent"],
    [{ ...base, variables: { agent: null } }, "variables.agent"],
    [{ ...base, variables: { n: Number.NaN } }, "variables.n"],
    [{ ...base, variables: { long: "x".repeat(1001) } }, "variables.long"],
    [{ ...base, variables: Object.fromEntries(Array.from({ length: MAX_VARIABLES + 1 }, (_, i) => [`v${i}`, i])) }, "variables"],
    [{ ...base, locale: "not a locale" }, "locale"],
    [{ ...base, key: "" }, "key"],
    [{ ...base, key: "k".repeat(201) }, "key"],
    [{ ...base, delay: "tomorrow" }, "delay"],
    [{ ...base, delay: "400d" }, "delay"],
    [{ ...base, delay: "1h", at: "2026-12-03T09:00:00Z" }, "delay"],
    [{ ...base, at: "next tuesday" }, "at"],
    [{ ...base, at: "2028-01-01T00:00:00Z" }, "at"],
    [{ ...base, policy: { sample: 2 } }, "policy.sample"],
    [{ ...base, options: "template" }, "options"],
    [{ ...base, options: { template: "x".repeat(9000) } }, "options"],
    [{ ...base, recipient: "42" }, "recipient"],
  ])("refuses %j naming %s", (body, field) => {
    const r = parseTriggerRequest(body, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message.length).toBeGreaterThan(10);
    }
  });
});
