/**
 * The tables `botflow stats` prints: the figures of a period (headline figures, distribution,
 * trend) and the figures grouped by a dimension. Percentages carry one decimal; NPS-style is
 * printed in points, signed, exactly as the dashboard's card shows it (`formatNps`).
 */
import type { Figures, GroupedFigures, Interval, TrendPoint } from "../stats/figures.ts";
import { println } from "./io.ts";

/** NPS-style in points from −100 to +100, signed, one decimal: "+60.0", "-100.0", "0.0"; "–" when null. The dashboard's card shows the same text. */
export function formatNps(x: number | null): string {
  if (x === null) return "–";
  const points = (x * 100).toFixed(1);
  return x > 0 && points !== "0.0" ? `+${points}` : points === "-0.0" ? "0.0" : points;
}

const pct = (x: number | null) => (x === null ? "–" : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 2) => (x === null ? "–" : x.toFixed(digits));
const int = (x: number) => x.toLocaleString("en-US");
const interval = (i: Interval | null, f: (x: number) => string) => (i === null ? "" : `${f(i.low)}–${f(i.high)}`);
const pctInterval = (i: Interval | null) => interval(i, (n) => `${(n * 100).toFixed(0)}%`);

/** The filter line of a table: scenario, channel, bot and the dimension values. */
function filterLine(f: Figures["filter"]): string {
  const parts = [`scenario ${f.scenarioId ?? "all"}`, `channel ${f.channel ?? "all"}`, `bot ${f.botId === undefined ? "all" : f.botId || '""'}`];
  for (const [name, value] of Object.entries(f.dimensions ?? {})) parts.push(`${name} ${value}`);
  return parts.join(", ");
}

/** What a satisfied rating is on the figures' scale, for the CSAT score's note. */
function satisfiedNote(scale: string | null): string {
  if (scale === "1-5") return "ratings 4–5 of all ratings";
  if (scale === null) return "no ratings";
  return "ratings in the top quarter of their scale (4–5 on 1–5)";
}

export function printGroupsTable(out: NodeJS.WritableStream, g: GroupedFigures): void {
  const firstDay = new Date(Date.parse(g.from)).toLocaleDateString("en-CA", { timeZone: g.timeZone });
  const last = new Date(Date.parse(g.to) - 1).toLocaleDateString("en-CA", { timeZone: g.timeZone });
  println(out, `CSAT statistics by ${g.groupBy}, ${firstDay} .. ${last} (${g.timeZone}); ${filterLine(g.filter)}`);
  println(out);
  const width = Math.max(g.groupBy.length, ...g.groups.map((x) => x.value.length), 5);
  println(
    out,
    `  ${g.groupBy.padEnd(width)}  ${"surveys".padStart(8)}  ${"CSAT".padStart(6)}  ${"95% interval".padStart(13)}  ${"average".padStart(7)}  ${"95% interval".padStart(12)}  ${"CDSAT".padStart(6)}  ${"95% interval".padStart(13)}  ${"response".padStart(8)}`,
  );
  for (const x of g.groups) {
    println(
      out,
      `  ${x.value.padEnd(width)}  ${int(x.surveys).padStart(8)}  ${pct(x.csat).padStart(6)}  ${pctInterval(x.csatInterval).padStart(13)}  ${num(x.average).padStart(7)}  ${interval(x.averageInterval, (n) => n.toFixed(2)).padStart(12)}  ${pct(x.cdsat).padStart(6)}  ${pctInterval(x.cdsatInterval).padStart(13)}  ${pct(x.responseRate).padStart(8)}`,
    );
  }
  if (g.groups.length === 0) println(out, `  no surveys with a ${g.groupBy} in this period`);
  if (g.truncated > 0) println(out, `  … and ${int(g.truncated)} more (raise --limit)`);
}

/** The period's last local day: the day before `to` in the query's zone. */
function lastDay(f: Figures): string {
  return new Date(Date.parse(f.to) - 1).toLocaleDateString("en-CA", { timeZone: f.timeZone });
}

const TREND_TITLE = { day: "day", week: "week (starting Monday)", month: "month" } as const;

export function printFiguresTable(out: NodeJS.WritableStream, f: Figures): void {
  const firstDay = new Date(Date.parse(f.from)).toLocaleDateString("en-CA", { timeZone: f.timeZone });
  println(out, `CSAT statistics ${firstDay} .. ${lastDay(f)} (${f.timeZone}); ${filterLine(f.filter)}`);
  println(out);
  const rows: [string, string, string][] = [
    ["surveys", int(f.surveys), `completed; ${int(f.rated)} rated, ${int(f.commented)} with a comment`],
    ["CSAT score", pct(f.csat), satisfiedNote(f.scale)],
  ];
  if (f.csatInterval) rows.push(["  95% interval", pctInterval(f.csatInterval), "of the CSAT score"]);
  rows.push(["average", num(f.average), f.scale === null ? "no ratings" : f.scale === "mixed" ? "mixed scales: see below" : `on the ${f.scale || "unknown"} scale`]);
  if (f.averageInterval) rows.push(["  95% interval", interval(f.averageInterval, (n) => n.toFixed(2)), `of the average, ${int(f.rated)} ratings`]);
  rows.push(
    ["CDSAT", pct(f.cdsat), "ratings 1–2 on the 1–5 scale"],
    ["NPS-style", formatNps(f.nps), "points: % of 4–5 − % of 1–2, on the 1–5 scale"],
    ["response rate", pct(f.responseRate), `answered ${int(f.answered)} / offered ${int(f.offered)}`],
    ["survey percentage", pct(f.surveyPercentage), `surveys / dialogues ${int(f.dialogues)}`],
    ["declined", int(f.declined), "skipped, timed out or refused the rating"],
  );
  if (f.previous) {
    const p = f.previous;
    const arrow = (d: number | null, f2: (x: number) => string) => (d === null ? "–" : `${d > 0 ? "▲ +" : d < 0 ? "▼ " : "= "}${f2(d)}`);
    rows.push(["previous period", `${p.from.slice(0, 10)} .. ${new Date(Date.parse(p.to) - 1).toISOString().slice(0, 10)}`, "the same length just before"]);
    rows.push(["  surveys", arrow(p.change.surveys, (d) => int(d)), `from ${int(p.surveys)}`]);
    rows.push(["  CSAT score", arrow(p.change.csat, (d) => `${(d * 100).toFixed(1)} pt`), `from ${pct(p.csat)}`]);
    rows.push(["  average", arrow(p.change.average, (d) => d.toFixed(2)), `from ${num(p.average)}`]);
    rows.push(["  CDSAT", arrow(p.change.cdsat, (d) => `${(d * 100).toFixed(1)} pt`), `from ${pct(p.cdsat)}`]);
    rows.push(["  response rate", arrow(p.change.responseRate, (d) => `${(d * 100).toFixed(1)} pt`), `from ${pct(p.responseRate)}`]);
  }
  for (const [name, value, note] of rows) println(out, `  ${name.padEnd(18)} ${value.padStart(10)}   ${note}`);
  if (f.rated > 0) {
    println(out);
    println(out, "distribution");
    const max = Math.max(...Object.values(f.distribution));
    for (const [value, n] of Object.entries(f.distribution)) {
      const bar = "#".repeat(Math.max(1, Math.round((n / max) * 30)));
      println(out, `  ${value.padStart(5)}  ${String(n).padStart(8)}  ${pct(n / f.rated).padStart(6)}  ${bar}`);
    }
    if (f.scales.length > 1) for (const s of f.scales) println(out, `  scale ${s.scale || "unknown"}: ${int(s.rated)} ratings, average ${num(s.average)}`);
  }
  const points: TrendPoint[] = f.trend.points;
  println(out);
  println(out, `trend per ${TREND_TITLE[f.trend.granularity]}`);
  println(out, `  ${"date".padEnd(10)}  ${"dialogues".padStart(9)}  ${"surveys".padStart(7)}  ${"CSAT".padStart(6)}  ${"average".padStart(7)}  ${"CDSAT".padStart(6)}  ${"response".padStart(8)}`);
  for (const p of points) {
    println(
      out,
      `  ${p.date}  ${String(p.dialogues).padStart(9)}  ${String(p.surveys).padStart(7)}  ${pct(p.csat).padStart(6)}  ${num(p.average).padStart(7)}  ${pct(p.cdsat).padStart(6)}  ${pct(p.responseRate).padStart(8)}`,
    );
  }
  if (f.notes.length > 0) {
    println(out);
    for (const n of f.notes) println(out, `note: ${n}`);
  }
}
