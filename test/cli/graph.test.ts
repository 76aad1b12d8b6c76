/**
 * `botflow graph`: its output for every bundled scenario (scenarios/), the examples' (examples/)
 * and the graph fixtures (test/cli/fixtures/graph/*.yaml) against golden files in
 * test/cli/fixtures/graph/golden/, the README's diagram against the command's output, and the
 * command's exit codes. After an intended change, rewrite the golden files and review the diff:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/cli/graph.test.ts
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GRAPH_ENV, goldenOf, GRAPHED } from "./graph-goldens.ts";
import { ROOT, runCli } from "./run-cli.ts";

const UPDATE = process.env.UPDATE_GOLDEN === "1";
const PROBLEM_LINE = /^[^:]+:\d+:\d+: (error|warning): .+$/;

describe("botflow graph golden files", () => {
  it("covers the example scenarios and a fixture with rules, skip, invalid, timeout, on_error and goto_scenario", () => {
    expect(GRAPHED).toEqual(expect.arrayContaining(["scenarios/csat.yaml", "scenarios/csat-branching.yaml", "scenarios/support.yaml", "test/cli/fixtures/graph/branches.yaml"]));
    const goldens = GRAPHED.map((f) => goldenOf(f, "mermaid"));
    expect(new Set(goldens).size, "a fixture named like a bundled scenario would share its golden file").toBe(goldens.length);
  });

  for (const file of GRAPHED) {
    for (const format of ["mermaid", "dot"] as const) {
      const golden = goldenOf(file, format);
      it(`${file} --format ${format} matches ${golden}`, async () => {
        const r = await runCli(["graph", file, "--format", format], { env: { ...GRAPH_ENV } });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        if (UPDATE) {
          mkdirSync(path.dirname(path.join(ROOT, golden)), { recursive: true });
          writeFileSync(path.join(ROOT, golden), r.stdout);
        }
        expect(existsSync(path.join(ROOT, golden)), `run UPDATE_GOLDEN=1 npx vitest run test/cli/graph.test.ts to create ${golden}, then review it`).toBe(true);
        expect(r.stdout).toBe(readFileSync(path.join(ROOT, golden), "utf8"));
      });
    }
  }
});

describe("the README's diagram", () => {
  it("is what botflow graph scenarios/csat.yaml prints, so the picture stays true", async () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.indexOf("### See a scenario as a diagram");
    expect(section, 'README.md has a "### See a scenario as a diagram" section').toBeGreaterThan(readme.indexOf("## Writing a scenario"));
    const block = /```mermaid\n([\s\S]*?)```/.exec(readme.slice(section));
    expect(block, "a ```mermaid block in that section").not.toBeNull();
    const r = await runCli(["graph", "scenarios/csat.yaml"]);
    expect(r.code).toBe(0);
    expect(block?.[1], "paste the output of: npx botflow graph scenarios/csat.yaml").toBe(r.stdout);
  });
});

describe("botflow graph", () => {
  it("prints Mermaid by default and DOT with --format dot (or -f dot)", async () => {
    const mermaid = await runCli(["graph", "scenarios/csat.yaml"]);
    expect(mermaid.stdout.startsWith("flowchart TD\n")).toBe(true);
    const dot = await runCli(["graph", "scenarios/csat.yaml", "-f", "dot"]);
    expect(dot.stdout.startsWith('digraph "csat" {\n')).toBe(true);
    expect(dot.stdout.endsWith("}\n")).toBe(true);
    expect(dot.code).toBe(0);
  });

  it("shows another translation with --locale", async () => {
    const r = await runCli(["graph", "scenarios/csat.yaml", "--locale", "uk"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Будь ласка, оцініть");
    expect(r.stdout).toContain("skip “Пропустити”");
  });

  it("exits 2 on an unknown format, naming the formats, with the usage", async () => {
    const r = await runCli(["graph", "scenarios/csat.yaml", "--format", "svg"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: --format must be mermaid or dot; got "svg"\nusage: botflow graph FILE/);
  });

  it("exits 2 without a file, with two files, on an unknown option and on a bad locale", async () => {
    for (const args of [[], ["scenarios/csat.yaml", "scenarios/support.yaml"], ["scenarios/csat.yaml", "--png"], ["scenarios/csat.yaml", "--locale", "English"]]) {
      const r = await runCli(["graph", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("usage: botflow graph FILE");
    }
  });

  it("prints its usage on --help, exit 0", async () => {
    const r = await runCli(["graph", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: botflow graph FILE [--format mermaid|dot] [--locale xx]");
  });

  it("prints a broken file's problems as validate does, at their line and column, to stderr, and exits 1", async () => {
    const file = "test/cli/fixtures/broken-graph.yaml";
    const r = await runCli(["graph", file]);
    const validate = await runCli(["validate", file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    const problems = lines.filter((l) => PROBLEM_LINE.test(l));
    expect(problems).toEqual(validate.stdout.split("\n").filter((l) => PROBLEM_LINE.test(l)));
    expect(problems[0]).toMatch(/^test\/cli\/fixtures\/broken-graph\.yaml:12:11: error: .*no block "thank"/);
    expect(lines.at(-1)).toBe(`${file}: the scenario has errors; run "botflow validate ${file}" after fixing them`);
  });

  it("exits 1 on a YAML syntax error and on a missing file", async () => {
    const bad = await runCli(["graph", "test/cli/fixtures/bad-yaml.yaml"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^test\/cli\/fixtures\/bad-yaml\.yaml:[67]:\d+: error: YAML syntax/m);
    const missing = await runCli(["graph", "scenarios/nope.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("scenarios/nope.yaml: no such file; check the path\n");
  });

  it("prints a file with warnings only, the warnings going to stderr", async () => {
    const r = await runCli(["graph", "test/cli/fixtures/warning-only.yaml"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^test\/cli\/fixtures\/warning-only\.yaml:12:3: warning: block "orphan" is never reached/);
    expect(r.stdout.startsWith("flowchart TD\n")).toBe(true);
  });
});
