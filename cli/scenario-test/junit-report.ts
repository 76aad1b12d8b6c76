/**
 * `botflow test --reporter junit`: the results as JUnit XML, the format CI servers (GitLab,
 * Jenkins, GitHub test reporters) show as a test tab. One `<testsuite>` per test file, one
 * `<testcase>` per case; a failing case has one `<failure>` per failed expectation, its message
 * the one-line summary and its text the location and diff of the text report.
 */
import type { FileResult } from "./text-report.ts";

/** The XML document, with its declaration and a final newline. */
export function formatJunitReport(files: readonly FileResult[], timestamp: Date): string {
  const all = files.flatMap((f) => f.cases);
  const failed = (cases: FileResult["cases"]): number => cases.filter((c) => c.failures.length > 0).length;
  const seconds = (cases: FileResult["cases"]): string => (cases.reduce((s, c) => s + c.ms, 0) / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="botflow test" tests="${all.length}" failures="${failed(all)}" errors="0" time="${seconds(all)}">`);
  for (const { file, cases } of files) {
    out.push(
      `  <testsuite name="${attr(file)}" tests="${cases.length}" failures="${failed(cases)}" errors="0" skipped="0" time="${seconds(cases)}" timestamp="${timestamp.toISOString().slice(0, 19)}" file="${attr(file)}">`,
    );
    for (const c of cases) {
      const open = `    <testcase classname="${attr(file)}" name="${attr(c.name)}" file="${attr(file)}" line="${c.line}" time="${(c.ms / 1000).toFixed(3)}"`;
      if (c.failures.length === 0) {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      for (const f of c.failures) {
        const body = [`${file}:${f.line}:${f.col}: ${f.where}: ${f.message}`, ...f.details, ...f.diff, ...(f.note ? [`note: ${f.note}`] : [])].join("\n");
        out.push(`      <failure message="${attr(`${f.where}: ${f.message}`)}" type="${attr(failureType(f.where))}">${text(body)}</failure>`);
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return `${out.join("\n")}\n`;
}

/** `step 3 (expect.bot)` → `expect.bot`; `scenario` stays. */
function failureType(where: string): string {
  return /\(([^)]+)\)$/.exec(where)?.[1] ?? where;
}

// XML 1.0 allows tab, LF and CR among the controls, and no lone surrogates or U+FFFE/U+FFFF.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function text(s: string): string {
  return s.replace(NOT_XML, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function attr(s: string): string {
  // Line breaks in an attribute would be normalised to spaces by a parser: keep them as references.
  return text(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}
