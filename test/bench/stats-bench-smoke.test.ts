/**
 * Keeps the statistics benches runnable and honest at a tiny size, on the machine's Redis and
 * PostgreSQL (each bench in its own schema and key prefix, removed after): stats-figures checks
 * that every rollup path (the filters, one dimension value, grouped by agent, team and tag) gives
 * the naive scan's figures before it prints a line, and stats-pipeline that every survey was
 * stored and its dimensions rolled up. No timing is asserted; the benchmarks are
 * `npx tsx bench/stats-figures.ts` and `npx tsx bench/stats-pipeline.ts`.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { main as figuresBench } from "../../bench/stats-figures.ts";
import { main as pipelineBench } from "../../bench/stats-pipeline.ts";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "../helpers/production-env.ts";

function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...parts: unknown[]) => void lines.push(parts.map(String).join(" ")));
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("statistics benches", () => {
  it("stats-figures: the rollups and the survey rows agree on every measured query", async () => {
    const lines = captureLog();
    await figuresBench(["--surveys=20000", "--rounds=1", `--database=${TEST_DATABASE_URL}`]);
    for (const name of ["all, UTC", "grouped by agent", "one agent", "grouped by team", "grouped by tag", "one team", "one tag"]) {
      expect(lines.find((l) => l.startsWith(name))).toMatch(/ yes \(/);
    }
    expect(lines.find((l) => l.startsWith("grouped by agent"))).toMatch(/yes \(1,000 groups/);
    expect(lines.find((l) => l.startsWith("survey_dim_rollup:"))).toMatch(/agent .* rows \(1,000 values\), tags .* rows \(200 values\), team .* rows \(50 values\)/);
  }, 120_000);

  it("stats-pipeline: stores every survey with its dimensions rolled up, beside the no-op worker", async () => {
    const lines = captureLog();
    await pipelineBench(["--events=500", "--rounds=1", "--concurrency=50", "--sides=noop,batched,noop-dims,dims"], { REDIS_URL: TEST_REDIS_URL, DATABASE_URL: TEST_DATABASE_URL });
    expect(lines[0]).toMatch(/1,000 events stored and checked, [1-9][\d,]* surveys with dimensions/);
    expect(lines.some((l) => l.includes("pipeline, dimensions on") && l.includes("aim ≥ 0.60"))).toBe(true);
    expect(lines.some((l) => l.includes("no-op worker, dimension jobs"))).toBe(true);
  }, 120_000);
});
