/**
 * The 95 % confidence intervals the figures show beside a share or an average, so a team lead
 * does not rank agents on three answers.
 */

/** A 95 % confidence interval. */
export interface Interval {
  low: number;
  high: number;
}

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

/** The Wilson score interval of `k` successes in `n` trials (95 %); null when n is 0. */
export function wilsonInterval(k: number, n: number): Interval | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = Z95 * Z95;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

