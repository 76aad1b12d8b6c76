/**
 * `botflow run --data-dir DIR` followed by `botflow stats --data-dir DIR --json`: scripted
 * dialogues become statistics in the embedded store with no services at all.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

describe("botflow run --data-dir, then botflow stats", () => {
  let dir: string;
  let dialogues: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "botflow-run-stats-"));
    dialogues = path.join(dir, "dialogues.json");
    await writeFile(
      dialogues,
      JSON.stringify([
        [{ tap: "4" }, "Quick and kind"],
        [{ tap: "1" }, { tap: "No comment" }],
        ["5", { tap: "5", prompt: "previous" }, "Great"],
        [{ tap: "Skip" }],
      ]),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("records every survey once, at the time of the run, and the figures read them back", async () => {
    const data = path.join(dir, "data");
    const first = await runCli(["run", "scenarios/csat.yaml", "--dialogues", dialogues, "--json", "--data-dir", data]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^recorded \d+ survey events in /);
    const shown = JSON.parse(first.stdout) as { variables: Record<string, unknown> }[];
    expect(shown.map((d) => d.variables.quality_answer)).toEqual([4, 1, 5, undefined]);

    const stats = await runCli(["stats", "--data-dir", data, "--json"]);
    expect(stats.stderr).toBe("");
    expect(stats.code).toBe(0);
    const f = JSON.parse(stats.stdout) as Record<string, unknown>;
    // Three rated surveys (4, 1, 5); the double tap on dialogue 3 counted once; one declined.
    expect(f.surveys).toBe(3);
    expect(f.average).toBeCloseTo(10 / 3, 5);
    expect(f.distribution).toMatchObject({ "1": 1, "4": 1, "5": 1 });
    expect(f.declined).toBe(1);
    expect(f.cdsat).toBeCloseTo(1 / 3, 5);
    expect(f.responseRate).toBeCloseTo(3 / 4, 5);

    // A second run into the same folder adds its own surveys; it does not collapse into the first.
    const second = await runCli(["run", "scenarios/csat.yaml", "--dialogues", dialogues, "--data-dir", data]);
    expect(second.code).toBe(0);
    const again = JSON.parse((await runCli(["stats", "--data-dir", data, "--json"])).stdout) as Record<string, unknown>;
    expect(again.surveys).toBe(6);
    expect(again.declined).toBe(2);
  });
});
