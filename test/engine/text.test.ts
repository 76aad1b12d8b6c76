import { describe, expect, it } from "vitest";
import { localize, normalizeAnswer, substitute } from "../../engine/text.ts";

describe("localize", () => {
  const text = { en: "Hello", uk: "Привіт", "pt-BR": "Olá" };

  it("picks the exact locale, then the language, then the default", () => {
    expect(localize(text, "uk", "en")).toBe("Привіт");
    expect(localize(text, "uk-UA", "en")).toBe("Привіт");
    expect(localize(text, "pt-BR", "en")).toBe("Olá");
    expect(localize(text, "pt-PT", "en")).toBe("Hello");
    expect(localize(text, "fr", "en")).toBe("Hello");
  });

  it("understands regions written with an underscore (pt_BR, uk_UA)", () => {
    expect(localize(text, "uk_UA", "en")).toBe("Привіт");
    expect(localize({ en: "Hello", pt: "Olá" }, "pt_BR", "en")).toBe("Olá");
  });

  it("falls back to any translation when the default is missing", () => {
    expect(localize({ uk: "Привіт" }, "fr", "en")).toBe("Привіт");
  });

  it("passes strings through and prints numbers", () => {
    expect(localize("plain", "uk", "en")).toBe("plain");
    expect(localize(5, "uk", "en")).toBe("5");
  });

  it("never returns an Object.prototype member for a hostile locale", () => {
    for (const locale of ["constructor", "__proto__", "toString", "hasOwnProperty", "constructor-x"]) {
      expect(localize(text, locale, "en")).toBe("Hello");
    }
    expect(localize({ uk: "Привіт" }, "toString", "valueOf")).toBe("Привіт");
  });
});

describe("substitute", () => {
  it("replaces {{name}} with saved values, allowing spaces inside the braces", () => {
    expect(substitute("{{a}}/{{ b }}/{{a}}", { a: "x", b: 2 })).toBe("x/2/x");
  });

  it("prints unknown and inherited names as nothing", () => {
    expect(substitute("[{{nope}}][{{constructor}}][{{__proto__}}][{{toString}}][{{valueOf}}]", {})).toBe("[][][][][]");
  });

  it("leaves anything that is not a plain name alone and evaluates nothing", () => {
    const t = "{{a.b}} {{a[0]}} {{ a + 1 }} {{1+1}} ${a} {{}} {a}";
    expect(substitute(t, { a: "x" })).toBe(t);
  });

  it("substitutes once: values that look like placeholders stay as typed", () => {
    expect(substitute("{{a}} {{{a}}}", { a: "{{b}}", b: "no" })).toBe("{{b}} {{{b}}}");
  });

  it("is fine with a value that looks like a replacement pattern", () => {
    expect(substitute("say {{a}}", { a: "$& $1 $$" })).toBe("say $& $1 $$");
  });
});

describe("normalizeAnswer", () => {
  it("trims, lowercases and drops emoji variation selectors", () => {
    expect(normalizeAnswer("  YES ")).toBe("yes");
    expect(normalizeAnswer("👍\uFE0F")).toBe("👍");
    expect(normalizeAnswer("❤\uFE0E")).toBe("❤");
    expect(normalizeAnswer("Привіт")).toBe("привіт");
  });
});
