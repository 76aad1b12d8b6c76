import { describe, expect, it } from "vitest";
import { afterQuietHours, isSampled, parseDuration, parseSurveyRules } from "../../engine/survey-rules.ts";

const rules = (v: unknown) => {
  const r = parseSurveyRules(v, "policy");
  if (!r.ok) throw new Error(`${r.field}: ${r.message}`);
  return r.rules;
};

describe("survey rules", () => {
  it("reads YAML-style rules and names the field of a bad one", () => {
    expect(rules({ cooldown: "7d", sample: 0.3, seed: "q4", expire_after: "48h", quiet_hours: { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" } })).toEqual({
      cooldownMs: 7 * 86_400_000,
      sample: 0.3,
      seed: "q4",
      expireAfterMs: 48 * 3_600_000,
      quietHours: { from: 21 * 60, to: 8 * 60, timeZone: "Europe/Kyiv" },
    });
    expect(parseSurveyRules({ cooldown: "a week" }, "policy")).toMatchObject({ ok: false, field: "policy.cooldown" });
    expect(parseSurveyRules({ sample: 1.5 }, "policy")).toMatchObject({ ok: false, field: "policy.sample" });
    expect(parseSurveyRules({ quiet_hours: { from: "25:00", to: "08:00" } }, "policy")).toMatchObject({ ok: false, field: "policy.quiet_hours.from" });
    expect(parseSurveyRules({ quiet_hours: { from: "21:00", to: "08:00", timezone: "Mars/Olympus" } }, "policy")).toMatchObject({ ok: false, field: "policy.quiet_hours.timezone" });
    expect(parseSurveyRules({ cooldwn: "7d" }, "policy")).toMatchObject({ ok: false, field: "policy.cooldwn" });
    expect(parseDuration(90)).toBe(90_000);
    expect(parseDuration(-1)).toBeUndefined();
  });

  it("reads 0 and null as a rule turned off", () => {
    const merged = rules({ cooldown: 0, quiet_hours: null });
    expect(merged.cooldownMs).toBe(0);
    expect(merged.quietHours).toBeNull();
    expect(afterQuietHours(Date.parse("2026-12-02T23:00:00Z"), merged)).toBe(Date.parse("2026-12-02T23:00:00Z"));
  });

  it("samples by a seeded hash: the same key always gets the same answer, about the rate", () => {
    const r = rules({ sample: 0.3, seed: "s1" });
    const keys = Array.from({ length: 4000 }, (_, i) => `T-${i}`);
    const picked = keys.filter((k) => isSampled(r, k));
    expect(picked.length / keys.length).toBeGreaterThan(0.27);
    expect(picked.length / keys.length).toBeLessThan(0.33);
    expect(keys.filter((k) => isSampled(r, k))).toEqual(picked);
    // Another seed picks another sample.
    const other = keys.filter((k) => isSampled(rules({ sample: 0.3, seed: "s2" }), k));
    expect(other).not.toEqual(picked);
    expect(isSampled(rules({ sample: 0 }), "T-1")).toBe(false);
    expect(isSampled(rules({}), "T-1")).toBe(true);
  });

  it("delays a send inside quiet hours to their end in the zone, across midnight, and leaves others alone", () => {
    const r = rules({ quiet_hours: { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" } });
    // 22:30 in Kyiv (UTC+2 in December) → 08:00 the next morning there.
    expect(new Date(afterQuietHours(Date.parse("2026-12-02T20:30:15Z"), r)).toISOString()).toBe("2026-12-03T06:00:00.000Z");
    // 03:00 in Kyiv → 08:00 the same morning.
    expect(new Date(afterQuietHours(Date.parse("2026-12-03T01:00:00Z"), r)).toISOString()).toBe("2026-12-03T06:00:00.000Z");
    // 12:00 in Kyiv: sent as asked.
    expect(afterQuietHours(Date.parse("2026-12-03T10:00:00Z"), r)).toBe(Date.parse("2026-12-03T10:00:00Z"));
    // The recipient's own zone wins over the rule's.
    const inNewYork = rules({ quiet_hours: { from: "21:00", to: "08:00", timezone: "Europe/Kyiv" }, timezone: "America/New_York" });
    expect(afterQuietHours(Date.parse("2026-12-03T10:00:00Z"), inNewYork)).toBe(Date.parse("2026-12-03T13:00:00Z"));
    // Quiet hours within a day (13:00–14:00 UTC).
    const lunch = rules({ quiet_hours: { from: "13:00", to: "14:00" } });
    expect(new Date(afterQuietHours(Date.parse("2026-12-03T13:20:00Z"), lunch)).toISOString()).toBe("2026-12-03T14:00:00.000Z");
  });

  it("ends quiet hours at the local time across a daylight-saving change", () => {
    // Berlin moves from UTC+1 to UTC+2 on 2027-03-28 at 02:00 local. Quiet 00:00–09:00.
    const r = rules({ quiet_hours: { from: "00:00", to: "09:00", timezone: "Europe/Berlin" } });
    // 00:30 CET on the night of the change → 09:00 CEST = 07:00 UTC (not 08:00, which nine hours of wall clock would give).
    expect(new Date(afterQuietHours(Date.parse("2027-03-27T23:30:00Z"), r)).toISOString()).toBe("2027-03-28T07:00:00.000Z");
    // And the autumn change back: 00:30 CEST on 2027-10-31 → 09:00 CET = 08:00 UTC.
    expect(new Date(afterQuietHours(Date.parse("2027-10-30T22:30:00Z"), r)).toISOString()).toBe("2027-10-31T08:00:00.000Z");
  });
});
