/**
 * parseSurveyEvent on the start context and trigger id, as untrusted queue JSON brings them:
 * old events without them still parse; a context within the trigger API's bounds comes through;
 * a hostile one (too many keys, nested values, huge strings, odd names) is refused, naming the
 * key and never the value.
 */
import { describe, expect, it } from "vitest";
import { MalformedSurveyEventError, parseSurveyEvent } from "../../stats/queue/parse-survey-event.ts";

const base = {
  kind: "completed",
  surveyId: "telegram.42.1",
  scenarioId: "csat",
  scenarioVersion: "v1",
  channel: "telegram",
  botId: "",
  conversationId: "42",
  dialogueStartedAt: 1_000,
  at: 2_000,
  score: 4,
  comment: "",
};

/** As the worker gets a job: JSON text, parsed. */
const fromJson = (o: unknown) => parseSurveyEvent(JSON.parse(JSON.stringify(o)));

function refusal(o: unknown): string {
  try {
    fromJson(o);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedSurveyEventError);
    expect((err as MalformedSurveyEventError).code).toBe("SURVEY_EVENT_MALFORMED");
    return (err as MalformedSurveyEventError).problem;
  }
  throw new Error("the event was accepted");
}

describe("parseSurveyEvent: context and triggerId", () => {
  it("parses an event from before they existed, with neither", () => {
    const e = fromJson(base);
    expect(e).toEqual(base);
    expect(e).not.toHaveProperty("context");
    expect(e).not.toHaveProperty("triggerId");
  });

  it("keeps a context of scalars and a trigger id; drops an empty context", () => {
    const context = { agent: "olena", team: "billing", ticket: "T-1234", attempt: 2, vip: true, note: "x".repeat(1000) };
    expect(fromJson({ ...base, context, triggerId: "0b6c4a1e-3f1d-4c8e-9a57-2f0c9c1d7e11" })).toEqual({ ...base, context, triggerId: "0b6c4a1e-3f1d-4c8e-9a57-2f0c9c1d7e11" });
    const empty = fromJson({ ...base, context: {} });
    expect(empty).not.toHaveProperty("context");
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`v${i}`, i]));
    expect(fromJson({ ...base, context: fifty }).context).toEqual(fifty);
  });

  it("refuses too many keys, nested or huge values, and names that are no variable names", () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`v${i}`, i]));
    expect(refusal({ ...base, context: many })).toBe("context has 51 keys; at most 50 are allowed");
    expect(refusal({ ...base, context: { agent: { name: "olena", admin: true } } })).toBe(
      "context.agent must be a string of at most 1000 characters, a finite number or a boolean (got an object)",
    );
    expect(refusal({ ...base, context: { tags: ["a", "b"] } })).toMatch(/^context\.tags must be .* \(got an array\)$/);
    expect(refusal({ ...base, context: { agent: null } })).toMatch(/^context\.agent must be .* \(got null\)$/);
    const huge = refusal({ ...base, context: { note: "secret ".repeat(200_000) } });
    expect(huge).toMatch(/^context\.note must be a string of at most 1000 characters.*\(got a string of 1400000 characters\)$/);
    expect(huge).not.toContain("secret"); // the value may be personal data: never in the message
    expect(refusal({ ...base, context: { "bad name": "x" } })).toBe('context key "bad name" is not a variable name ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)');
    expect(refusal({ ...base, context: { ["k".repeat(65)]: "x" } })).toMatch(/^context key "k{64}" is not a variable name/);
    expect(refusal({ ...base, context: ["agent"] })).toBe("context must be an object of start variables");
    expect(refusal({ ...base, context: "agent=olena" })).toBe("context must be an object of start variables");
    expect(refusal({ ...base, context: null })).toBe("context must be an object of start variables");
  });

  it("refuses numbers JSON cannot carry and objects that are not plain, from an in-process producer", () => {
    expect(() => parseSurveyEvent({ ...base, context: { n: Number.POSITIVE_INFINITY } })).toThrow(/context\.n must be .* \(got Infinity\)/);
    expect(() => parseSurveyEvent({ ...base, context: new Map([["a", 1]]) })).toThrow(/context must be a plain object of start variables/);
  });

  it("keeps a __proto__ variable as an own key, never the prototype", () => {
    // JSON.parse makes "__proto__" an own key; a plain assignment would set the prototype instead.
    const e = parseSurveyEvent(JSON.parse(`{${JSON.stringify(base).slice(1, -1)},"context":{"__proto__":"olena","team":"billing"}}`));
    expect(Object.getPrototypeOf(e.context)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(e.context, "__proto__")?.value).toBe("olena");
    expect(Object.keys(e.context ?? {})).toEqual(["__proto__", "team"]);
    expect(refusal(JSON.parse(`{${JSON.stringify(base).slice(1, -1)},"context":{"__proto__":{"polluted":true}}}`))).toMatch(/^context\.__proto__ must be .* \(got an object\)$/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses a trigger id that is not a short printable id", () => {
    const problem = "triggerId must be 1–200 characters of [A-Za-z0-9_.@+-]";
    expect(refusal({ ...base, triggerId: "" })).toBe(problem);
    expect(refusal({ ...base, triggerId: "t".repeat(201) })).toBe(problem);
    expect(refusal({ ...base, triggerId: "a b" })).toBe(problem);
    expect(refusal({ ...base, triggerId: 42 })).toBe(problem);
  });

  it("cleans text jsonb cannot hold (U+0000, lone surrogates) in context values instead of refusing the event", () => {
    const e = fromJson({ ...base, context: { agent: "ol\u0000ena", team: "bad \ud800 team", n: 1 } });
    expect(e.context).toEqual({ agent: "olena", team: "bad \uFFFD team", n: 1 });
  });
});
