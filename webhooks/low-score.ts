/**
 * When a rating is a low score (the `survey.low_score` webhook). The default is the lowest
 * quarter of the keyboard's scale, `score <= min + (max - min) * 25%`: 1 and 2 on 1–5, 0–25 on
 * the emoji scale 0–100 (👎 = 0, not 👍 = 100), 0–2 on 0–10. A share needs the scale; a number
 * (`BOTFLOW_WEBHOOK_LOW_SCORE=2`) is a fixed bound whatever the scale.
 *
 * @example
 * isLowScore(2, { min: 1, max: 5 }, DEFAULT_LOW_SCORE); // true
 */

/** `share`: the lowest share (0–1) of the scale; `atMost`: a fixed highest low score. */
export type LowScoreRule = { share: number } | { atMost: number };

export const DEFAULT_LOW_SCORE: LowScoreRule = { share: 0.25 };

/** Whether `score` on `scale` is low by `rule`; false when the rule needs a scale and there is none. */
export function isLowScore(score: number | null, scale: { min: number; max: number } | null, rule: LowScoreRule): boolean {
  if (score === null) return false;
  if ("atMost" in rule) return score <= rule.atMost;
  if (scale === null) return false;
  return score <= scale.min + (scale.max - scale.min) * rule.share;
}

/** Parses `25%` (a share of the scale) or `2` (a fixed bound); throws a message naming the forms. */
export function parseLowScoreRule(raw: string): LowScoreRule {
  const share = /^([0-9]+(?:\.[0-9]+)?)\s*%$/.exec(raw.trim());
  if (share) {
    const pct = Number(share[1]);
    if (pct > 100) throw new Error(`"${raw}" is more than 100%`);
    return { share: pct / 100 };
  }
  if (/^-?[0-9]+(?:\.[0-9]+)?$/.test(raw.trim())) return { atMost: Number(raw.trim()) };
  throw new Error(`"${raw}" is neither a share of the scale such as 25% nor a score such as 2`);
}

/** The rule as configured, for messages. */
export function describeLowScoreRule(rule: LowScoreRule): string {
  return "atMost" in rule ? `score <= ${rule.atMost}` : `the lowest ${Math.round(rule.share * 1000) / 10}% of the scale`;
}
