/**
 * Plays dialogues through `botflow run --json` in-process and returns the parsed output.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, type CliResult } from "./run-cli.ts";

export interface RunMessage {
  text: string;
  buttons?: { label: string; value: string | number }[];
}

export interface RunDialogue {
  name?: string;
  messages: RunMessage[];
  variables: Record<string, string | number>;
  ended: boolean;
  events: { kind: string; score?: number; scale?: { min: number; max: number }; comment?: string; reason?: string }[];
  ignored: { turn: number; reason: string }[];
  error?: string;
}

const dir = mkdtempSync(path.join(tmpdir(), "botflow-run-"));
let n = 0;

/** Writes `dialogues` to a temporary DIALOGUES.json and returns its path. */
export function writeDialogues(dialogues: unknown): string {
  const file = path.join(dir, `dialogues-${++n}.json`);
  writeFileSync(file, typeof dialogues === "string" ? dialogues : JSON.stringify(dialogues));
  return file;
}

export function removeDialogues(): void {
  rmSync(dir, { recursive: true, force: true });
}

/** `botflow run scenarios/<scenario>.yaml --dialogues <tmp> --json [...extra]`. */
export async function runJson(scenario: string, dialogues: unknown, extra: string[] = []): Promise<CliResult & { dialogues: RunDialogue[] }> {
  const r = await runCli(["run", `scenarios/${scenario}.yaml`, "--dialogues", writeDialogues(dialogues), "--json", ...extra]);
  return { ...r, dialogues: r.stdout ? (JSON.parse(r.stdout) as RunDialogue[]) : [] };
}

/** Runs one dialogue and returns its result, failing when the run itself failed. */
export async function playOne(scenario: string, turns: unknown[], extra: string[] = []): Promise<RunDialogue> {
  const r = await runJson(scenario, [turns], extra);
  if (r.code !== 0 || r.dialogues.length !== 1) throw new Error(`botflow run exited ${r.code}: ${r.stderr}`);
  return r.dialogues[0] as RunDialogue;
}
