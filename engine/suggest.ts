/**
 * "Did you mean" for names a scenario gets slightly wrong: block ids, keys, block types,
 * action names, variables. Optimal-string-alignment distance, so a swapped pair of
 * letters (`thnaks`) counts as one edit.
 */

/** The known name closest to `name`, when it is a plausible typo of it. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  if (name.length === 0 || name.length > 100) return undefined;
  const limit = Math.max(1, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    if (k === name || Math.abs(k.length - name.length) > limit) continue;
    const d = editDistance(lower, k.toLowerCase(), limit);
    if (d < bestD) (bestD = d), (best = k);
  }
  return bestD <= limit && bestD < name.length ? best : undefined;
}

/** ` (did you mean "x"?)` for a near miss, else "". */
export function suggest(name: string, known: Iterable<string>): string {
  const best = closest(name, known);
  return best === undefined ? "" : ` (did you mean "${best}"?)`;
}

/**
 * Edit distance with insertions, deletions, substitutions and adjacent transpositions.
 * Stops early once every alignment costs more than `max` (and then returns more than `max`).
 */
export function editDistance(a: string, b: string, max = Infinity): number {
  let before = new Int32Array(b.length + 1); // row i-2
  let prev = Int32Array.from({ length: b.length + 1 }, (_, j) => j); // row i-1
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] as number) + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > max) return max + 1;
    [before, prev, cur] = [prev, cur, before];
  }
  return prev[b.length] as number;
}
