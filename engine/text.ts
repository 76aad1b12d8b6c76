import type { Localized } from "./schema/scenario-schema.ts";
import type { VarValue } from "./types.ts";

/** Picks the translation for `locale`: exact, then its language (uk-UA or uk_UA → uk), then the default, then any. */
export function localize(text: Localized | number, locale: string, fallback: string): string {
  if (typeof text === "string") return text;
  if (typeof text === "number") return String(text);
  // Own keys only: the locale comes from the channel, and "constructor" must not find Object's.
  if (Object.hasOwn(text, locale)) return text[locale] as string;
  // Channels write regions with "-" (en-US, Teams) or "_" (pt_BR, WhatsApp and Facebook).
  let dash = locale.indexOf("-");
  if (dash < 0) dash = locale.indexOf("_");
  if (dash > 0) {
    const lang = locale.slice(0, dash);
    if (Object.hasOwn(text, lang)) return text[lang] as string;
  }
  if (Object.hasOwn(text, fallback)) return text[fallback] as string;
  for (const key in text) return text[key] as string;
  return "";
}

const VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Replaces `{{name}}` with saved variables; unknown names become empty. Never evaluates code. */
export function substitute(text: string, vars: Readonly<Record<string, VarValue>>): string {
  if (!text.includes("{{")) return text;
  return text.replace(VAR, (_, name: string) => {
    // Own keys only, so {{constructor}} or {{__proto__}} print nothing rather than Object's members.
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    return v === undefined ? "" : String(v);
  });
}

/** Normalises typed answers and labels for comparison: trims, lowercases, drops emoji variation selectors. */
export function normalizeAnswer(text: string): string {
  return text.trim().replace(/[\uFE0E\uFE0F]/g, "").toLowerCase();
}

/**
 * What PostgreSQL text and JSON (and any UTF-8 store) cannot hold: U+0000, and a UTF-16
 * surrogate that is not half of a pair (valid in a JSON string as "\ud800", not in UTF-8).
 */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");

/**
 * Text as botflow keeps it: U+0000 removed, each lone surrogate replaced by U+FFFD, everything
 * else (emoji, RTL and zero-width marks, any length) untouched. Applied where text enters —
 * every channel's inbound text, scenario strings, variables — so what is stored is always valid
 * UTF-8 and valid JSON; the statistics store applies it again. Returns the same string when
 * nothing had to change (the common case costs one regex test).
 *
 * @example
 * cleanText("bad\u0000nul \ud800!"); // "badnul \uFFFD!"
 */
export function cleanText(text: string): string {
  if (!UNSTORABLE.test(text)) return text;
  return text.replace(UNSTORABLE_ALL, (c) => (c === "\u0000" ? "" : "\uFFFD"));
}

/** Whether {@link cleanText} would change `text`. */
export function needsCleaning(text: string): boolean {
  return UNSTORABLE.test(text);
}
