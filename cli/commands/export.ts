/**
 * `botflow export`: streams the dialogue list (with its CSAT and client-comment columns) as
 * CSV or JSON lines. Pages of rows are read with keyset pagination and written with
 * backpressure, so memory stays flat however many dialogues there are. The CSV is the one
 * the HTTP export serves (app/dialogue-csv.ts). While a `botflow serve` holds the data folder,
 * the pages come through its statistics API (cli/stats-source.ts).
 */
import { once } from "node:events";
import { open, rename, unlink } from "node:fs/promises";
import { DIALOGUE_CSV_HEADER, dialogueCsvLine } from "../../app/dialogue-csv.ts";
import type { DialogueRow } from "../../stats/store/survey-store.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, resolveArg, type CliIo } from "../io.ts";
import { exportQuery } from "../../stats/query-params.ts";
import { isQueryError, QUERY_OPTIONS, QUERY_USAGE, queryParams, UsageProblem } from "./stats.ts";

export const summary = "Export the dialogue list with CSAT and client comments as CSV or JSON lines";

const USAGE = `usage: botflow export --format csv|jsonl [--out FILE] [--surveys-only] [--rating R] [--trigger ID] [--from DATE]
                      [--to DATE] [--scenario ID] [--channel NAME] [--bot ID] [--tz ZONE] [--data-dir DIR]

Writes one row per dialogue started in the period, newest first, to FILE (default stdout).
  --from DATE      first day (YYYY-MM-DD, or an ISO timestamp); default none: from the first dialogue
  --to DATE        last day, included (YYYY-MM-DD; an ISO timestamp is an exclusive end); default
                   none: up to the newest dialogue
${QUERY_USAGE}
  --format F       csv (RFC 4180; cells starting with = + - @ are prefixed with ' so
                   spreadsheets never run them) or jsonl (one JSON object per line)
  --out FILE       write here (through FILE.partial, renamed when complete)
  --surveys-only   only dialogues whose survey was completed
  --rating R       only dialogues rated R or within a range (1-2: the unhappy ones; 5)
  --trigger ID     only the dialogue this trigger API call started (its id)
Progress goes to stderr on a terminal.`;

const PAGE = 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function jsonLine(r: DialogueRow): string {
  return JSON.stringify({ ...r, dialogueStartedAt: iso(r.dialogueStartedAt), completedAt: r.completedAt === null ? null : iso(r.completedAt) });
}

interface Sink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/** stdout: respects backpressure by waiting for "drain". */
function streamSink(out: NodeJS.WritableStream): Sink {
  return {
    async write(text) {
      if (!out.write(text)) await once(out, "drain");
    },
    async close() {},
  };
}

/** A file: each write is awaited, so at most one page is ever buffered. */
async function fileSink(file: string): Promise<Sink> {
  const fh = await open(file, "w");
  return {
    async write(text) {
      await fh.write(text);
    },
    close: () => fh.close(),
  };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { ...QUERY_OPTIONS, format: { type: "string" }, out: { type: "string" }, "surveys-only": { type: "boolean" }, rating: { type: "string" }, trigger: { type: "string" } }, allowPositionals: false },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  if (v.format !== "csv" && v.format !== "jsonl") {
    printUsageError(io, USAGE, v.format === undefined ? "--format is required: csv or jsonl" : `--format "${v.format}" is not csv or jsonl`);
    return EXIT_USAGE;
  }
  let params: Record<string, string | undefined>;
  try {
    params = queryParams(v);
  } catch (err) {
    if (!(err instanceof UsageProblem)) throw err;
    printUsageError(io, USAGE, err.message);
    return EXIT_USAGE;
  }
  // Checked here, so a mistake names the option (--from) whether the store or a server answers.
  const listParams = { ...params, surveysOnly: v["surveys-only"] === true ? "1" : undefined, rating: v.rating, trigger: v.trigger };
  const query = exportQuery(listParams, { prefix: "--" });
  if (!query.ok) {
    printUsageError(io, USAGE, query.message);
    return EXIT_USAGE;
  }
  const format = v.format;
  const target = v.out === undefined ? undefined : resolveArg(io, v.out);
  const partial = target === undefined ? undefined : `${target}.partial`;
  const progress = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let count = 0;
  try {
    await (await import("../stats-source.ts")).withStatsSource(io, v, { command: "export" }, async (source) => {
      const next = (cursor?: string) => source.dialogues({ ...listParams, limit: String(source.pageSize), cursor });
      // The first page is read before anything is written: a refused token or a down store leaves no half output.
      let page = await next();
      const out = partial === undefined ? streamSink(io.stdout) : await fileSink(partial);
      try {
        if (format === "csv") await out.write(`${DIALOGUE_CSV_HEADER}\r\n`);
        for (;;) {
          let chunk = "";
          for (const r of page.rows) chunk += format === "csv" ? `${dialogueCsvLine(r)}\r\n` : `${jsonLine(r)}\n`;
          if (chunk) await out.write(chunk);
          count += page.rows.length;
          if (progress) io.stderr.write(`\rexported ${count.toLocaleString("en-US")} dialogues`);
          if (!page.nextCursor) break;
          page = await next(page.nextCursor);
        }
      } finally {
        await out.close();
      }
    });
    if (partial !== undefined && target !== undefined) await rename(partial, target);
  } catch (err) {
    if (partial !== undefined) await unlink(partial).catch(() => {});
    if (progress) io.stderr.write("\n");
    if (isQueryError(err)) {
      printUsageError(io, USAGE, err.message);
      return EXIT_USAGE;
    }
    println(io.stderr, `botflow export: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
  if (progress) io.stderr.write(`\rexported ${count.toLocaleString("en-US")} dialogues${target ? ` to ${target}` : ""}\n`);
  return EXIT_OK;
}
