/**
 * How `botflow chat` and `botflow run` show a conversation as text: bot messages with their
 * buttons numbered by position, actions run, and input the engine ignored.
 */
import { assertNever, type OutButton, type OutMessage, type VarValue } from "../engine/types.ts";
import type { SurveyEvent } from "../stats/events.ts";
import type { ConversationEntry } from "./local-conversation.ts";

const BOT = "bot: ";
const INDENT = " ".repeat(BOT.length);

/** The lines one entry prints as. */
export function formatEntry(entry: ConversationEntry): string[] {
  switch (entry.kind) {
    case "bot":
      return formatMessage(entry.message);
    case "action":
      return [`${INDENT}[${describeAction(entry)}]`];
    case "ignored":
      return [`${INDENT}(ignored: ${IGNORED[entry.reason]})`];
    case "timed_out":
      return [`${INDENT}(no answer in time: the question timed out)`];
    default:
      return assertNever(entry, "conversation entry");
  }
}

const IGNORED: Record<Extract<ConversationEntry, { kind: "ignored" }>["reason"], string> = {
  stale_prompt: "that keyboard is no longer active",
  no_dialogue: "no dialogue in progress",
  unknown_button: "no such button",
};

/** `bot: text` and, below it, the buttons as `[1] label` in the scenario's rows. */
export function formatMessage(message: OutMessage): string[] {
  const lines = message.text.split("\n").map((l, i) => (i === 0 ? BOT : INDENT) + l);
  const rows = message.rows ?? (message.buttons ? [message.buttons] : []);
  for (const row of rows) lines.push(INDENT + row.map(formatButton).join("  "));
  return lines;
}

function formatButton(b: OutButton): string {
  return `[${b.index + 1}] ${b.label}`;
}

/**
 * What an action did, without personal data: `statistic__set queued survey: score 4, comment given`.
 * Comment text is never shown here, only whether there was one.
 */
export function describeAction(entry: Extract<ConversationEntry, { kind: "action" }>): string {
  if (!entry.ok) return `${entry.name} failed: ${entry.error ?? "unknown error"}`;
  if (entry.events.length === 0) return `${entry.name} ran; nothing queued`;
  return `${entry.name} queued ${entry.events.map(describeEvent).join("; ")}`;
}

function describeEvent(e: SurveyEvent): string {
  const parts: string[] = [];
  if (e.score !== undefined) parts.push(`score ${e.score}`);
  else if (e.kind === "completed" || e.kind === "answered") parts.push("no score");
  if (e.comment !== undefined) parts.push(e.comment === "" ? "no comment" : "comment given");
  if (e.reason !== undefined) parts.push(e.reason);
  const kind = e.kind === "completed" ? "survey" : e.kind;
  return parts.length ? `${kind}: ${parts.join(", ")}` : kind;
}

/** `quality_answer=4, quality_comment="Fast"`, or `(none)`. */
export function formatVariables(vars: Readonly<Record<string, VarValue>>): string {
  const entries = Object.entries(vars);
  if (entries.length === 0) return "(none)";
  return entries.map(([k, v]) => `${k}=${typeof v === "number" ? v : JSON.stringify(v)}`).join(", ");
}
