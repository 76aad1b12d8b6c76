/**
 * `botflow test [FILES|DIRS...] [--reporter text|junit] [--out FILE]`: runs the YAML test cases
 * of `*.test.yaml` files (cli/scenario-test/test-file.ts has the format) against their
 * scenarios, each case in a fresh conversation, through the case's channel renderer when it
 * names one, and reports each case ✓ or ✗ with the test file's line:col and a diff.
 *
 * Exit codes: 0 every case passed, 1 a case failed, 2 usage error or a test file that cannot be
 * read or is malformed (then no case runs).
 */
import { stat, readFile, writeFile } from "node:fs/promises";
import { MAX_SCENARIO_BYTES } from "../../engine/yaml-source.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, resolveArg, type CliIo } from "../io.ts";
import { CaseKits } from "../scenario-test/case-kit.ts";
import { findTestFiles } from "../scenario-test/find-test-files.ts";
import type { HttpMocks } from "../scenario-test/http-mocks.ts";
import { formatJunitReport } from "../scenario-test/junit-report.ts";
import { runCase } from "../scenario-test/run-case.ts";
import { ScenarioSource } from "../scenario-test/scenario-source.ts";
import { parseTestFile, type TestCase } from "../scenario-test/test-file.ts";
import { formatTextReport, type FileResult } from "../scenario-test/text-report.ts";

export const summary = "Run YAML test cases (*.test.yaml) against scenarios, per channel; report like a test runner";

const USAGE = `usage: botflow test [FILE|DIR...] [--reporter text|junit] [--out FILE]

Runs every case of each test file; a folder (default: the current one) means its *.test.yaml
files, subfolders included. A test file is a list of cases:

  - name: rating and comment
    scenario: csat             # an id (beside the test file, or one folder up) or a path
    channel: whatsapp-cloud    # optional: telegram, teams, whatsapp-cloud, whatsapp, webchat
    locale: en                 # optional
    variables: { agent: Olena }  # optional: the start variables, as a trigger passes them
    steps:
      - expect: { list: ["1", "2", "3", "4", "5", "Skip"] }
      - tap: "4"               # a button (or list row) by its label as the channel shows it
      - user: Fast and friendly   # typed text
      - wait: 25h              # simulated time passes; due timeouts fire
      - mock: { url: https://crm.example/orders/42, method: GET, status: 200, json: {...} }
      - expect: { bot: /thank you/i, buttons: [], vars: { quality_answer: 4 },
                  survey: { score: 4, comment: Fast and friendly }, ended: true }

  --reporter text|junit  text (default): each case ✓/✗, failures with file:line:col and a diff;
                         junit: JUnit XML for CI
  --out FILE             write the junit report to FILE (the text report still goes to stdout)

Exit 0 when every case passed, 1 when one failed, 2 on a usage error or a test file that
cannot be read or is malformed.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs({ args, options: { reporter: { type: "string" }, out: { type: "string" } }, allowPositionals: true }, io, USAGE);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const reporter = values.reporter ?? "text";
  if (reporter !== "text" && reporter !== "junit") {
    printUsageError(io, USAGE, `--reporter must be text or junit; got "${reporter}"`);
    return EXIT_USAGE;
  }
  if (values.out !== undefined && reporter !== "junit") {
    printUsageError(io, USAGE, "--out FILE is for the junit report: add --reporter junit");
    return EXIT_USAGE;
  }

  const found = await findTestFiles(positionals.length > 0 ? positionals : ["."], io.cwd);
  const suites: { file: string; cases: TestCase[] }[] = [];
  const problems = [...found.problems];
  for (const file of found.files) {
    const read = await readTestFile(file, io);
    if (typeof read === "string") {
      problems.push(read);
      continue;
    }
    const tests = parseTestFile(read.text);
    if (tests.ok) suites.push({ file, cases: tests.cases });
    else for (const p of tests.problems) problems.push(`${file}:${p.line}:${p.col}: error: ${p.message}`);
  }
  if (problems.length > 0) {
    for (const p of problems) println(io.stderr, p);
    println(io.stderr, 'no case was run: fix the problems above ("botflow test --help" shows the format)');
    return EXIT_USAGE;
  }

  // Invalid action settings (BOTFLOW_ACTIONS, BOTFLOW_HTTP_*) stop every case alike: a usage problem, printed by the loader.
  const kits = await CaseKits.open(io);
  if (!kits) return EXIT_USAGE;
  const source = new ScenarioSource(io, kits.kit(kits.mocks()));
  const deps = { source, kit: (mocks: HttpMocks) => kits.kit(mocks), mocks: () => kits.mocks() };
  const results: FileResult[] = [];
  for (const { file, cases } of suites) {
    const done: FileResult = { file, cases: [] };
    for (const c of cases) done.cases.push(await runCase(c, file, deps));
    results.push(done);
  }

  const text = formatTextReport(results);
  if (reporter === "junit") {
    const xml = formatJunitReport(results, new Date());
    if (values.out === undefined) {
      io.stdout.write(xml);
    } else {
      try {
        await writeFile(resolveArg(io, values.out), xml);
      } catch (err) {
        println(io.stderr, `${values.out}: cannot write the junit report (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        return EXIT_USAGE;
      }
      for (const line of text) println(io.stdout, line);
    }
  } else {
    for (const line of text) println(io.stdout, line);
  }
  return results.some((f) => f.cases.some((c) => c.failures.length > 0)) ? EXIT_FAILED : EXIT_OK;
}

/** The file's text, or why it cannot be read (bounded: a test file is no bigger than a scenario). */
async function readTestFile(file: string, io: CliIo): Promise<{ text: string } | string> {
  const full = resolveArg(io, file);
  try {
    const info = await stat(full);
    if (info.isDirectory()) return `${file}: is a folder`;
    if (info.size > MAX_SCENARIO_BYTES) return `${file}: ${info.size} bytes; a test file holds at most ${MAX_SCENARIO_BYTES} bytes (256 KiB): split it into several`;
    return { text: await readFile(full, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${file}: ${code === "ENOENT" ? "no such file; check the path" : `cannot read it (${code ?? String(err)})`}`;
  }
}
