/**
 * `botflow run FILE --dialogues DIALOGUES.json [--json] [--locale xx]`: plays scripted
 * dialogues against a scenario with no messenger, each in a fresh conversation through the
 * real runtime, and prints what the bot said, the saved variables and whether it ended.
 * The DIALOGUES.json format is described in cli/dialogues.ts.
 *
 * Exit codes: 0 every dialogue ran, 1 the scenario or the dialogues file is invalid or a
 * dialogue could not be played (e.g. a tap that matches no button), 2 usage error.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { lockDataDir } from "../../app/data-dir-lock.ts";
import { InProcessSurveyQueue } from "../../stats/queue/in-process-survey-queue.ts";
import { openSurveyStore } from "../../stats/store/open-survey-store.ts";
import { parseCommandArgs, printUsageError, scenarioArgs } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { parseDialogues, type Turn } from "../dialogues.ts";
import { println, resolveArg, type CliIo } from "../io.ts";
import { loadScenarioForCli } from "../load-scenario.ts";
import { playDialogue, type DialogueResult, type TranscriptItem } from "../play-dialogue.ts";
import { plural } from "../plural.ts";
import { createScenarioKit, loadCliActions } from "../scenario-kit.ts";
import { formatEntry, formatVariables } from "../transcript.ts";

export const summary = "Play scripted dialogues (DIALOGUES.json) against a scenario; print a transcript or JSON";

const USAGE = `usage: botflow run FILE --dialogues DIALOGUES.json [--json] [--locale xx] [--data-dir DIR]

Plays each dialogue in DIALOGUES.json ("-" reads it from stdin) in a fresh conversation,
after the start block ran.
DIALOGUES.json is an array of dialogues; a dialogue is an array of turns:
  "4"                               typed text (a digit or a label counts as that button)
  {"tap": "Skip"}                   tap a button of the open question, by label, else by value
  {"tap": 4, "prompt": "previous"}  tap an earlier (stale) keyboard: "previous" or its number N
  {"wait": "24h"}                   let time pass; due no-answer timeouts fire
or {"name": "...", "locale": "uk", "variables": {"agent": "Olena"}, "turns": [...]}
(variables: the start variables the dialogue begins with, as a trigger's).

  --json         print one JSON document: per dialogue {messages, variables, ended, events, ignored[, error]}
  --locale xx    the user's locale (picks the scenario's translation); a dialogue's own locale wins
  --data-dir DIR also record the surveys in the embedded statistics store in DIR, at the time
                 of the run, so "botflow stats --data-dir DIR" shows them

Exit 0 when every dialogue ran, 1 when the scenario or DIALOGUES.json is invalid or a turn
could not be played, 2 on a usage error.`;


export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    {
      args,
      options: {
        dialogues: { type: "string", short: "d" },
        json: { type: "boolean" },
        locale: { type: "string" },
        "data-dir": { type: "string" },
      },
      allowPositionals: true,
    },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const picked = scenarioArgs(positionals, values.locale, io, USAGE);
  if (typeof picked === "number") return picked;
  if (values.dialogues === undefined) {
    printUsageError(io, USAGE, "--dialogues DIALOGUES.json is required");
    return EXIT_USAGE;
  }

  const { file } = picked;
  const dialoguesFile = values.dialogues;
  const dialoguesName = dialoguesFile === "-" ? "stdin" : dialoguesFile;
  const actions = await loadCliActions(io);
  if (!actions) return EXIT_FAILED;
  const kit = createScenarioKit({ actions });
  const loaded = await loadScenarioForCli(file, io, kit);
  if (!loaded) return EXIT_FAILED;
  const { scenario, related } = loaded;

  let raw: unknown;
  try {
    raw = JSON.parse(dialoguesFile === "-" ? await readAll(io.stdin) : await readFile(resolveArg(io, dialoguesFile), "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file; check the path" : err instanceof SyntaxError ? `not valid JSON (${err.message})` : `cannot read it (${code ?? String(err)})`;
    println(io.stderr, `${dialoguesName}: ${why}`);
    return EXIT_FAILED;
  }
  const script = parseDialogues(raw, dialoguesName);
  if (!script.ok) {
    for (const e of script.errors) println(io.stderr, e);
    return EXIT_FAILED;
  }

  const results: DialogueResult[] = [];
  const dataDir = values["data-dir"];
  if (dataDir === undefined) {
    for (const [i, dialogue] of script.dialogues.entries()) results.push(await playDialogue(scenario, dialogue, i + 1, values.locale, undefined, related, actions));
  } else {
    const dir = resolveArg(io, dataDir);
    try {
      const written = await withEmbeddedQueue(dir, async (queue) => {
        const stats = { queue, runId: randomUUID().slice(0, 8), epoch: Date.now() };
        for (const [i, dialogue] of script.dialogues.entries()) results.push(await playDialogue(scenario, dialogue, i + 1, values.locale, stats, related, actions));
        return results.reduce((n, r) => n + r.events.length, 0);
      });
      println(io.stderr, `recorded ${plural(written, "survey event")} in ${dataDir}`);
    } catch (err) {
      println(io.stderr, `cannot record statistics in ${dataDir}: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT_FAILED;
    }
  }

  const failed = results.filter((r) => r.error !== undefined);
  for (const r of failed) println(io.stderr, `${dialoguesName}: ${r.error}`);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(results.map(({ transcript: _t, ...shown }) => shown), null, 2)}\n`);
  } else {
    results.forEach((r, i) => printTranscript(io, r, i + 1));
    println(io.stdout, `${plural(results.length, "dialogue")}: ${results.length - failed.length} ran, ${failed.length} failed`);
  }
  return failed.length === 0 ? EXIT_OK : EXIT_FAILED;
}

/** Opens the embedded store in `dir` (locked, as `botflow serve` does: PGlite allows one process) behind the in-process queue. */
async function withEmbeddedQueue<T>(dir: string, fn: (queue: InProcessSurveyQueue) => Promise<T>): Promise<T> {
  const unlock = await lockDataDir(dir, { command: "run" });
  try {
    const store = await openSurveyStore({ dataDir: dir });
    const queue = new InProcessSurveyQueue(store);
    try {
      return await fn(queue);
    } finally {
      await queue.close();
      await store.close();
    }
  } finally {
    await unlock();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function printTranscript(io: CliIo, r: DialogueResult, n: number): void {
  println(io.stdout, `── dialogue ${n}${r.name ? `: ${r.name}` : ""} ──`);
  for (const item of r.transcript) for (const line of formatItem(item)) println(io.stdout, line);
  println(io.stdout, `${r.ended ? "ended" : "not ended"}; variables: ${formatVariables(r.variables)}`);
  println(io.stdout);
}

function formatItem(item: TranscriptItem): string[] {
  if (item.kind === "user") return [formatTurn(item.turn)];
  if (item.kind === "error") return [`error: ${item.message}`];
  return formatEntry(item);
}

function formatTurn(turn: Turn): string {
  switch (turn.type) {
    case "text":
      return `you: ${turn.text}`;
    case "tap": {
      const on = turn.prompt === "current" ? "" : turn.prompt === "previous" ? " on the previous keyboard" : ` on question ${turn.prompt}`;
      return `you: [tap ${JSON.stringify(turn.tap)}${on}]`;
    }
    case "wait":
      return `… ${turn.after} pass …`;
  }
}
