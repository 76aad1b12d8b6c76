/** Durations as scenarios write them: seconds as a number, or a number with a unit (`90s`, `10m`, `24h`, `7d`). */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses a schema `Duration` (seconds as a number, or `90s`, `10m`, `24h`) into milliseconds. */
export function durationMs(value: number | string): number {
  if (typeof value === "number") return value * 1000;
  const m = /^([0-9]+)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`invalid duration "${value}": use seconds or a string such as 90s, 10m, 24h`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
