/**
 * Golden transcripts: every example scenario in scenarios/ has test/golden/<name>.dialogues.json
 * (the paths a user can take) and test/golden/<name>.expected.json (the exact `botflow run --json`
 * output). After an intended change, rewrite the expected files and review the diff:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./run-cli.ts";

const UPDATE = process.env.UPDATE_GOLDEN === "1";
const scenarios = readdirSync(path.join(ROOT, "scenarios"))
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.slice(0, -".yaml".length))
  .sort();

describe("golden transcripts of the example scenarios", () => {
  it("has at least the three example scenarios", () => {
    expect(scenarios).toEqual(expect.arrayContaining(["csat", "csat-branching", "csat-emoji"]));
  });

  for (const name of scenarios) {
    it(`${name}: botflow run --json matches test/golden/${name}.expected.json`, async () => {
      const dialogues = `test/golden/${name}.dialogues.json`;
      const expectedFile = path.join(ROOT, `test/golden/${name}.expected.json`);
      expect(existsSync(path.join(ROOT, dialogues)), `add ${dialogues} with the paths a user can take through ${name}`).toBe(true);
      const r = await runCli(["run", `scenarios/${name}.yaml`, "--dialogues", dialogues, "--json"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      if (UPDATE) writeFileSync(expectedFile, r.stdout);
      expect(existsSync(expectedFile), `run UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts to create ${expectedFile}`).toBe(true);
      expect(r.stdout).toBe(readFileSync(expectedFile, "utf8"));
    });
  }
});
