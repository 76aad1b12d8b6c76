/**
 * A line diff for test failures: the longest common subsequence of expected and actual lines,
 * printed as `  same`, `- expected only`, `+ actual only`. Lists in `botflow test` are short
 * (a keyboard, a few messages), so the quadratic table is nothing.
 *
 * @example
 * diffLines(['"1"', '"Skip"'], ['"1"', '"Skip it"']); // ['  "1"', '- "Skip"', '+ "Skip it"']
 */

/** `equal(e, a)` says whether expected line `e` is met by actual line `a` (a regex may match); identity by default. */
export function diffLines<E, A>(
  expected: readonly E[],
  actual: readonly A[],
  show: { expected: (e: E) => string; actual: (a: A) => string },
  equal: (e: E, a: A) => boolean,
): string[] {
  const n = expected.length;
  const m = actual.length;
  // lcs[i * (m + 1) + j]: the longest common subsequence of expected[i..] and actual[j..].
  const lcs = new Array<number>((n + 1) * (m + 1)).fill(0);
  const at = (i: number, j: number): number => lcs[i * (m + 1) + j] as number;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = equal(expected[i] as E, actual[j] as A) ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const e = expected[i] as E;
    const a = actual[j] as A;
    if (equal(e, a)) {
      out.push(`  ${show.actual(a)}`);
      i++;
      j++;
    } else if (at(i + 1, j) >= at(i, j + 1)) {
      // On a tie the expected line goes first: "- was" reads above "+ is".
      out.push(`- ${show.expected(e)}`);
      i++;
    } else {
      out.push(`+ ${show.actual(a)}`);
      j++;
    }
  }
  for (; i < n; i++) out.push(`- ${show.expected(expected[i] as E)}`);
  for (; j < m; j++) out.push(`+ ${show.actual(actual[j] as A)}`);
  return out;
}
