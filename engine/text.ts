import type { Localized } from "./schema/scenario-schema.ts";
import type { VarValue } from "./types.ts";

/** Picks the translation for `locale`: exact, then its language (uk-UA → uk), then the default, then any. */
export function localize(text: Localized | number, locale: string, fallback: string): string {
  if (typeof text === "string") return text;
  if (typeof text === "number") return String(text);
  const exact = text[locale];
  if (exact !== undefined) return exact;
  const dash = locale.indexOf("-");
  if (dash > 0) {
    const lang = text[locale.slice(0, dash)];
    if (lang !== undefined) return lang;
  }
  const def = text[fallback];
  if (def !== undefined) return def;
  for (const key in text) return text[key] as string;
  return "";
}

const VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Replaces `{{name}}` with saved variables; unknown names become empty. Never evaluates code. */
export function substitute(text: string, vars: Readonly<Record<string, VarValue>>): string {
  if (!text.includes("{{")) return text;
  return text.replace(VAR, (_, name: string) => {
    const v = vars[name];
    return v === undefined ? "" : String(v);
  });
}

/** Normalises typed answers and labels for comparison: trims, lowercases, drops emoji variation selectors. */
export function normalizeAnswer(text: string): string {
  return text.trim().replace(/[\uFE0E\uFE0F]/g, "").toLowerCase();
}
