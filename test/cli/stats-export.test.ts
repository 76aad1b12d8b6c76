/**
 * `botflow stats` and `botflow export` through the CLI entry: in-process main() against
 * PGlite in a temporary data folder and against PostgreSQL (DATABASE_URL, own schema), and
 * once as a real child process.
 */
import { formatNps } from "../../cli/format-figures.ts";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { PgSurveyStore } from "../../stats/store/pg-survey-store.ts";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { DialogueRow } from "../../stats/store/survey-store.ts";
import { expectedFigures, generateSurveys, localDay } from "../stats/figures-dataset.ts";
import { PG_URL, surveyEvent } from "../stats/store-harness.ts";
import { ROOT } from "./run-cli.ts";

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function cli(argv: string[], env: Record<string, string | undefined>, cwd = ROOT, tty = false) {
  const stdout = new Sink();
  const stderr = Object.assign(new Sink(), { isTTY: tty });
  const code = await main(argv, { stdout, stderr, stdin: Readable.from([]), env, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** RFC 4180 parser for the test: quoted cells, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(cell), (cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") row.push(cell), rows.push(row), (row = []), (cell = ""), i++;
    else cell += ch;
  }
  if (cell !== "" || row.length > 0) row.push(cell), rows.push(row);
  return rows;
}

const plan = generateSurveys(400, 99);
const T = { scenarioId: "tricky" };
const tricky = [
  surveyEvent("dialogue_started", "x-formula", { ...T, dialogueStartedAt: Date.UTC(2026, 2, 31, 20) }),
  surveyEvent("completed", "x-formula", { ...T, dialogueStartedAt: Date.UTC(2026, 2, 31, 20), score: 1, comment: '=HYPERLINK("http://evil","click")' }),
  surveyEvent("completed", "x-lines", { ...T, dialogueStartedAt: Date.UTC(2026, 2, 31, 21), score: 5, comment: 'line one,\r\nline "two"\n@three' }),
  surveyEvent("completed", "x-minus", { ...T, dialogueStartedAt: Date.UTC(2026, 2, 31, 22), comment: "-1 for the wait", channel: "+telegram" }),
];
const events = [...plan.flatMap((p) => p.events), ...tricky];
/** The dialogues the tricky events add, for expected totals. */
const TRICKY_DIALOGUES = 3;

describe("botflow stats / export on the embedded store (PGlite in --data-dir)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "botflow-stats-"));
    const store = await PgliteSurveyStore.open({ dataDir: dir });
    await store.migrate();
    await store.apply(events);
    await store.close();
  }, 60_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("prints the figures as one JSON object with the documented keys and exact values", async () => {
    const r = await cli(["stats", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-15", "--tz", "America/New_York", "--json"], {});
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const f = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ["surveys", "average", "cdsat", "distribution", "responseRate", "surveyPercentage", "declined", "nps", "trend"]) expect(f).toHaveProperty(k);
    const exp = expectedFigures(plan.filter((p) => localDay(p.startedAt, "America/New_York") <= "2026-03-15" && localDay(p.startedAt, "America/New_York") >= "2026-03-01"));
    expect(f).toMatchObject({ surveys: exp.surveys, declined: exp.declined, distribution: exp.distribution, dialogues: exp.dialogues, scale: "mixed", average: null });
    expect(f.cdsat).toBeCloseTo(exp.cdsat!, 12);
    expect(f.nps).toBeCloseTo(exp.nps!, 12);
    expect(f.responseRate).toBeCloseTo(exp.responseRate!, 12);
    expect(f.trend).toMatchObject({ granularity: "day" });
    expect((f.trend as { points: unknown[] }).points).toHaveLength(15); // --to includes its day
  });

  it("prints a readable table, filtered, from the data folder given relative to the working directory", async () => {
    const r = await cli(["stats", "--data-dir", path.basename(dir), "--from", "2026-03-01", "--to", "2026-03-31", "--scenario", "csat"], {}, path.dirname(dir));
    expect(r.code).toBe(0);
    const exp = expectedFigures(plan.filter((p) => p.scenarioId === "csat"));
    expect(r.stdout).toContain("CSAT statistics 2026-03-01 .. 2026-03-31 (UTC); scenario csat, channel all, bot all");
    expect(r.stdout).toMatch(new RegExp(`^  surveys +${exp.surveys} +completed`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^  average +${exp.average!.toFixed(2)} +on the 1-5 scale`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^  CDSAT +${(exp.cdsat! * 100).toFixed(1)}%`, "m"));
    expect(r.stdout).toMatch(new RegExp(`^  CSAT score +${(exp.csat! * 100).toFixed(1)}% +ratings 4–5 of all ratings`, "m"));
    // NPS-style in signed points, one decimal: the dashboard card's text.
    expect(r.stdout).toMatch(new RegExp(`^  NPS-style +${formatNps(exp.nps).replace("+", "\\+")} +points`, "m"));
    expect(r.stdout).toContain("trend per day");
  });

  it("fails clearly (exit 2) on a bad zone, a bad date, a bad or too long period, and (exit 1) a missing data folder", async () => {
    const zone = await cli(["stats", "--data-dir", dir, "--tz", "Moon/Base"], {});
    expect(zone.code).toBe(2);
    expect(zone.stderr).toContain('--tz "Moon/Base" is not an IANA time zone such as UTC or Europe/Kyiv');
    const date = await cli(["stats", "--data-dir", dir, "--from", "yesterday"], {});
    expect(date.code).toBe(2);
    expect(date.stderr).toContain('--from "yesterday" must be a day (YYYY-MM-DD) or an ISO timestamp');
    for (const [args, message] of [
      [["--from", "2020-02-31"], '--from "2020-02-31" is not a calendar day'],
      [["--from=-000001-01-01T00:00:00Z"], '--from "-000001-01-01T00:00:00Z" must be a day (YYYY-MM-DD) or an ISO timestamp with an offset'],
      [["--from", "0100-01-01", "--to", "2100-12-31"], '--from "0100-01-01" is outside the years 1970–2999 the statistics cover'],
      [["--from", "2026-03-10", "--to", "2026-03-01"], '--to "2026-03-01" is not after --from "2026-03-10": the period is empty'],
      [["--from", "2010-01-01", "--to", "2026-03-01"], "is longer than the 3653 days (ten years) the figures cover: move --from or --to closer"],
      // Only --from: the store finds the period (to today) too long.
      [["--from", "2001-01-01"], "is longer than the 3653 days (ten years) the figures cover"],
    ] as const) {
      const bad = await cli(["stats", "--data-dir", dir, ...args], {});
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(message);
      expect(bad.stdout).toBe("");
    }
    const exportBad = await cli(["export", "--format", "csv", "--data-dir", dir, "--from", "2021-02-29"], {});
    expect(exportBad.code).toBe(2);
    expect(exportBad.stderr).toContain('--from "2021-02-29" is not a calendar day');
    const triggerBad = await cli(["export", "--format", "csv", "--data-dir", dir, "--trigger", "trg/1"], {});
    expect(triggerBad.code).toBe(2);
    expect(triggerBad.stderr).toContain('--trigger "trg/1" must be a trigger id: 1–200 characters of A-Z a-z 0-9 _ . @ + -');
    expect(triggerBad.stdout).toBe("");
    // An export covers any period length: the list is paged, not aggregated.
    expect((await cli(["export", "--format", "jsonl", "--data-dir", dir, "--from", "1990-01-01", "--scenario", "none"], {})).code).toBe(0);
    const long = await cli(["stats", "--data-dir", dir, "--from", "2016-01-01", "--to", "2025-12-31", "--json"], {});
    expect(long.code).toBe(0);
    expect(JSON.parse(long.stdout)).toMatchObject({ trend: { granularity: "month" } });
    const missing = await cli(["stats", "--data-dir", path.join(dir, "nope")], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("the folder does not exist");
    const format = await cli(["export", "--data-dir", dir], {});
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format is required: csv or jsonl");
  });

  it("exports CSV that parses back to the stored rows, with formulas defused", async () => {
    const r = await cli(["export", "--format", "csv", "--data-dir", dir], {});
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(""); // not a terminal: no progress
    const [header, ...rows] = parseCsv(r.stdout);
    expect(header).toEqual(["survey_id", "dialogue_started_at", "scenario_id", "scenario_version", "channel", "bot_id", "conversation_id", "offered", "accepted", "denied", "denied_reason", "completed", "csat", "scale", "client_comment", "completed_at", "trigger_id", "context"]);
    expect(rows).toHaveLength(plan.length + TRICKY_DIALOGUES);
    const byId = new Map(rows.map((row) => [row[0], row]));
    expect(byId.get("x-formula")?.[14]).toBe(`'=HYPERLINK("http://evil","click")`);
    expect(byId.get("x-lines")?.[14]).toBe('line one,\r\nline "two"\n@three');
    expect(byId.get("x-minus")?.[14]).toBe("'-1 for the wait");
    expect(byId.get("x-minus")?.[4]).toBe("'+telegram");
    const started = rows.map((row) => row[1]!);
    expect([...started].sort().reverse()).toEqual(started); // newest first
    const p = plan.find((x) => x.ratedScore !== null && x.commented)!;
    expect(byId.get(p.surveyId)).toMatchObject({ 12: String(p.ratedScore), 14: `comment ${p.surveyId.slice(1)}, "quoted"`, 11: "true" });
  });

  it("exports JSON lines to a file, filtered by period, through a .partial file", async () => {
    const out = path.join(dir, "export.jsonl");
    const r = await cli(["export", "--format", "jsonl", "--data-dir", dir, "--from", "2026-03-10", "--to", "2026-03-12", "--out", out], {});
    expect(r.code).toBe(0);
    const lines = (await readFile(out, "utf8")).trimEnd().split("\n").map((l) => JSON.parse(l) as DialogueRow & { dialogueStartedAt: string });
    expect(lines.map((l) => l.surveyId).sort()).toEqual(plan.filter((p) => ["2026-03-10", "2026-03-11", "2026-03-12"].includes(localDay(p.startedAt, "UTC"))).map((p) => p.surveyId).sort());
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it("runs as a real process: botflow stats --json", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, "bin/botflow.js"), "stats", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31", "--json"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "" },
    });
    const f = JSON.parse(stdout) as { surveys: number; dialogues: number };
    const exp = expectedFigures(plan);
    expect(f.surveys).toBe(exp.surveys + TRICKY_DIALOGUES); // the tricky ones are completed surveys on the 31st
  }, 60_000);
});

describe("botflow stats / export on PostgreSQL (DATABASE_URL)", () => {
  const schema = `test_${randomUUID().replaceAll("-", "")}`;
  let store: PgSurveyStore;
  const env = { DATABASE_URL: PG_URL, BOTFLOW_DB_SCHEMA: schema };
  beforeAll(async () => {
    store = new PgSurveyStore({ connectionString: PG_URL, schema });
    await store.migrate();
    await store.apply(events);
  });
  afterAll(async () => {
    await store.dropSchema();
    await store.close();
  });

  it("reads the figures from PostgreSQL", async () => {
    const r = await cli(["stats", "--from", "2026-03-01", "--to", "2026-03-30", "--channel", "teams", "--json"], env);
    expect(r.code).toBe(0);
    const exp = expectedFigures(plan.filter((p) => p.channel === "teams" && localDay(p.startedAt, "UTC") < "2026-03-31"));
    expect(JSON.parse(r.stdout)).toMatchObject({ surveys: exp.surveys, dialogues: exp.dialogues, distribution: exp.distribution, declined: exp.declined });
  });

  it("streams an export of several pages, newest first, with progress only on a terminal", async () => {
    const bulk = Array.from({ length: 2345 }, (_, i) => surveyEvent("dialogue_started", `bulk-${i}`, { scenarioId: "bulk", dialogueStartedAt: Date.UTC(2026, 1, 1) + (i % 500) * 60_000 }));
    await store.apply(bulk);
    const r = await cli(["export", "--format", "csv", "--scenario", "bulk"], env, ROOT, true);
    expect(r.code).toBe(0);
    const rows = parseCsv(r.stdout).slice(1);
    expect(rows).toHaveLength(2345);
    expect(new Set(rows.map((row) => row[0])).size).toBe(2345);
    const keys = rows.map((row) => `${row[1]} ${row[0]}`);
    expect(keys).toEqual([...keys].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    expect(r.stderr).toContain("\rexported 1,000 dialogues");
    expect(r.stderr).toContain("\rexported 2,345 dialogues\n");
    expect(r.stdout).not.toContain("exported");
  });

  it("exports only the dialogue a trigger started with --trigger", async () => {
    // Started, never completed: the --surveys-only export below does not see them.
    const at = Date.UTC(2026, 1, 20, 9);
    await store.apply([
      surveyEvent("dialogue_started", "trg-dialogue-a", { scenarioId: "triggered", dialogueStartedAt: at, triggerId: "trg-a", context: { agent: "olena", ticket: "T-1" } }),
      surveyEvent("dialogue_started", "trg-dialogue-b", { scenarioId: "triggered", dialogueStartedAt: at + 60_000, triggerId: "trg-b" }),
    ]);
    const r = await cli(["export", "--format", "jsonl", "--trigger", "trg-a"], env);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as DialogueRow);
    expect(rows.map((row) => [row.surveyId, row.triggerId, row.context])).toEqual([["trg-dialogue-a", "trg-a", { agent: "olena", ticket: "T-1" }]]);
    const csv = parseCsv((await cli(["export", "--format", "csv", "--trigger", "trg-b", "--scenario", "triggered"], env)).stdout);
    expect(csv.map((row) => [row[0], row[16], row[17]])).toEqual([
      ["survey_id", "trigger_id", "context"],
      ["trg-dialogue-b", "trg-b", ""],
    ]);
  });

  it("exports only the dialogues rated within --rating, and names the option when it is malformed", async () => {
    const r = await cli(["export", "--format", "jsonl", "--rating", "1-2", "--scenario", "csat"], env);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as DialogueRow);
    // The same as the whole export of the scenario with the rows rated 1 or 2 picked out here.
    const all = (await cli(["export", "--format", "jsonl", "--scenario", "csat"], env)).stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as DialogueRow);
    const expected = all.filter((row) => row.score !== null && row.score >= 1 && row.score <= 2);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(all.length / 2);
    expect(rows).toEqual(expected);
    const bad = await cli(["export", "--format", "csv", "--rating", "2-1"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--rating");
  });

  it("exports every dialogue in pages", async () => {
    const r = await cli(["export", "--format", "jsonl", "--surveys-only"], env);
    expect(r.code).toBe(0);
    const ids = r.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as DialogueRow).surveyId);
    expect(ids.filter((id) => !id.startsWith("bulk-")).sort()).toEqual([...plan.filter((p) => p.completed).map((p) => p.surveyId), "x-formula", "x-lines", "x-minus"].sort());
  });
});
