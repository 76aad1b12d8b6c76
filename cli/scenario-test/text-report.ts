/**
 * `botflow test`'s default report: each file, each case ✓ or ✗, under a failing case where it
 * failed (`file:line:col: step N (expect.key): what`, the form editors jump to) and the diff,
 * then one closing line `cases: N passed, N failed`.
 */
import type { CaseResult } from "./run-case.ts";

/** The cases of one test file, in file order. */
export interface FileResult {
  file: string;
  cases: CaseResult[];
}

/** The report's lines. */
export function formatTextReport(files: readonly FileResult[]): string[] {
  const lines: string[] = [];
  for (const { file, cases } of files) {
    lines.push(file);
    for (const c of cases) {
      lines.push(`  ${c.failures.length === 0 ? "✓" : "✗"} ${c.name}`);
      for (const f of c.failures) {
        lines.push(`    ${file}:${f.line}:${f.col}: ${f.where}: ${f.message}`);
        for (const d of f.details) lines.push(`      ${d}`);
        for (const d of f.diff) lines.push(`      ${d}`);
        if (f.note) lines.push(`      note: ${f.note}`);
      }
    }
    lines.push("");
  }
  lines.push(summaryLine(files));
  return lines;
}

/** `cases: 4 passed, 1 failed`: the closing line CI tools read. */
export function summaryLine(files: readonly FileResult[]): string {
  const all = files.flatMap((f) => f.cases);
  const failed = all.filter((c) => c.failures.length > 0).length;
  return `cases: ${all.length - failed} passed, ${failed} failed`;
}
