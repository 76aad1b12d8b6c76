/** The hostile texts of the reliability issue (#17), shared by the cleaning tests and the channels × stores matrix. */

/** Each text as sent, and what must be stored of it (trimmed like any typed answer). */
export const HOSTILE_TEXTS: readonly { name: string; sent: string; stored: string; sanitized: boolean }[] = [
  { name: "U+0000", sent: "bad\u0000nul and\u0000\u0000more", stored: "badnul andmore", sanitized: true },
  { name: "a lone high surrogate", sent: "lone \ud800 high", stored: "lone \uFFFD high", sanitized: true },
  { name: "a lone low surrogate", sent: "\udc00 lone low at the start", stored: "\uFFFD lone low at the start", sanitized: true },
  { name: "a high surrogate at the very end", sent: "cut emoji \ud83d", stored: "cut emoji \uFFFD", sanitized: true },
  { name: "64 KB of text", sent: "Довгий відгук. ".repeat(4370).slice(0, 65_536), stored: "Довгий відгук. ".repeat(4370).slice(0, 65_536).trim(), sanitized: false },
  { name: "RTL and zero-width marks", sent: "\u202Eשירות מצוין\u202C \u200Bok\u200D\u200E\u2066x\u2069", stored: "\u202Eשירות מצוין\u202C \u200Bok\u200D\u200E\u2066x\u2069", sanitized: false },
  { name: "emoji ZWJ sequences", sent: "👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 ❤️‍🔥", stored: "👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 ❤️‍🔥", sanitized: false },
];
