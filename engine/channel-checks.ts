/**
 * What each channel will do with each question of a schema-valid scenario, from the limits and
 * the `planQuestion` every channel declares (engine/catalog.ts `ChannelLimits`): too many buttons,
 * labels and texts too long, and what a channel's own rendering could not send (Telegram's
 * callback_data budget, the size of a Teams card). A problem is an error for an enabled channel
 * (the scenario does not load) and a warning for one that is not (it loads; that channel would
 * refuse it). Problems of the same mistake for several channels are one line naming them all.
 *
 * @example
 * const plans = checkChannels(def, { enabled: [TELEGRAM_LIMITS], others: [TEAMS_LIMITS] }, report);
 * // plans[0]: { blockId: "ask_rating", channels: [{ channel: "telegram", form: "inline keyboard, 5 buttons in 1 row", enabled: true }, …] }
 */
import type { ChannelLimits, QuestionPlanProblem } from "./catalog.ts";
import { previewQuestion } from "./interpreter.ts";
import { quote } from "./schema-problems.ts";
import { isQuestion, type KeyboardBlock, type Scenario, type WaitBlock } from "./schema/scenario-schema.ts";
import type { PathSeg } from "./yaml-source.ts";

export interface ChannelSet {
  /** The enabled channels: their problems are errors. */
  enabled: readonly ChannelLimits[];
  /** The channels that are not enabled: the same checks, as warnings. */
  others: readonly ChannelLimits[];
}

/** One channel's rendering of one question. */
export interface ChannelPlan {
  channel: string;
  enabled: boolean;
  /** How it shows the question ("list, 7 rows"), as the channel says; "buttons" for a channel that says nothing. */
  form: string;
  /** Why the channel cannot send it: the first problem found, in short. */
  refused?: string;
}

/** What every channel makes of one question block, in the order the channels were given. */
export interface QuestionChannelPlans {
  blockId: string;
  channels: ChannelPlan[];
}

/** Records a problem at `path` (its key when `key` is set); the loader's, as scenario-checks.ts has it. */
type Report = (path: PathSeg[], message: string, severity?: "error" | "warning", key?: boolean) => void;

/** The preview's prompt id; a channel that measures ids (Telegram's callback_data) puts its longest in. */
const PREVIEW_PROMPT = "p1";

interface Finding {
  path: PathSeg[];
  key: boolean;
  /** What is wrong, shared by every channel it is wrong for: `block "ask": label "…" is 30 characters`. */
  subject: string;
  /** How to fix it: "shorten it". */
  fix: string;
  /** Per channel: what it allows ("24"), or its own words for a planQuestion problem. */
  channel: string;
  allows: string;
  /** "allows" (a length) or "shows at most" (a count). */
  verb: string;
  enabled: boolean;
  /** Whether `allows` is a whole sentence (a planQuestion problem) rather than a limit. */
  own: boolean;
}

/** Runs the channel checks on a schema-valid scenario; returns the plans of its question blocks. */
export function checkChannels(def: Pick<Scenario, "blocks" | "locale" | "defaults">, channels: ChannelSet, report: Report): QuestionChannelPlans[] {
  const all = [...channels.enabled.map((limits) => ({ limits, enabled: true })), ...channels.others.map((limits) => ({ limits, enabled: false }))];
  if (all.length === 0) return [];
  const locale = def.locale ?? "en";
  const findings: Finding[] = [];
  const refusals = new Map<string, string>(); // `${blockId}\u0000${channel}` → the first reason
  const refuse = (blockId: string | undefined, channel: string, reason: string): void => {
    const k = `${blockId}\u0000${channel}`;
    if (blockId !== undefined && !refusals.has(k)) refusals.set(k, reason);
  };

  for (const { path, where, text, blockId } of messageTexts(def)) {
    for (const [loc, t] of variants(text)) {
      const n = [...t].length;
      for (const { limits, enabled } of all) {
        if (n <= limits.maxTextLength) continue;
        findings.push({ path, key: false, subject: `${where}: text${loc ? ` (${loc})` : ""} is ${n} characters`, fix: "shorten or split it", channel: limits.channel, allows: String(limits.maxTextLength), verb: "allows", enabled, own: false });
        refuse(blockId, limits.channel, `text${loc ? ` (${loc})` : ""} is ${n} characters, at most ${limits.maxTextLength}`);
      }
    }
  }

  const plans: QuestionChannelPlans[] = [];
  for (const [id, block] of Object.entries(def.blocks)) {
    if (!isQuestion(block)) continue;
    const base: PathSeg[] = ["blocks", id];
    const labels = labelsOf(base, block);
    for (const { limits, enabled } of all) {
      if (labels.length > limits.maxButtons) {
        const at: PathSeg[] = block.type === "message_with_keyboard" ? [...base, "buttons"] : [...base, "skip"];
        findings.push({ path: at, key: true, subject: `block "${id}": ${labels.length} buttons${block.skip ? " (with the skip button)" : ""}`, fix: "remove some", channel: limits.channel, allows: String(limits.maxButtons), verb: "shows at most", enabled, own: false });
        refuse(id, limits.channel, `${labels.length} buttons, at most ${limits.maxButtons}`);
      }
      for (const { path, label } of labels) {
        for (const [loc, text] of variants(label)) {
          const n = [...text].length;
          if (n <= limits.maxLabelLength) continue;
          findings.push({ path, key: false, subject: `block "${id}": label ${quote(text)}${loc ? ` (${loc})` : ""} is ${n} characters`, fix: "shorten it", channel: limits.channel, allows: String(limits.maxLabelLength), verb: "allows", enabled, own: false });
          refuse(id, limits.channel, `label ${quote(text)} is ${n} characters, at most ${limits.maxLabelLength}`);
        }
      }
    }
    const question: QuestionChannelPlans = { blockId: id, channels: [] };
    for (const { limits, enabled } of all) {
      let form = "buttons";
      if (limits.planQuestion) {
        const seen = new Set<string>();
        for (const loc of localesOf(block, locale)) {
          const plan = limits.planQuestion(previewQuestion(block, loc, locale, PREVIEW_PROMPT));
          if (loc === locale) form = plan.form;
          for (const p of plan.problems ?? []) {
            if (seen.has(p.message)) continue;
            seen.add(p.message);
            findings.push({ path: pathOf(base, block, p), key: p.at === "buttons", subject: `block "${id}"${loc !== locale ? ` (${loc})` : ""}`, fix: "", channel: limits.channel, allows: p.message, verb: "", enabled, own: true });
            refuse(id, limits.channel, p.message);
          }
        }
      }
      const refused = refusals.get(`${id}\u0000${limits.channel}`);
      question.channels.push({ channel: limits.channel, enabled, form, ...(refused !== undefined ? { refused } : {}) });
    }
    plans.push(question);
  }
  reportFindings(findings, report);
  return plans;
}

/**
 * One problem per mistake and severity: a label too long for two channels that are not enabled
 * is one warning naming both. With one enabled channel the message is the loader's usual one.
 */
function reportFindings(findings: readonly Finding[], report: Report): void {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = `${f.path.join("\u0000")}\u0001${f.subject}\u0001${f.own ? f.allows : f.fix}\u0001${f.enabled}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  for (const group of groups.values()) {
    const first = group[0] as Finding;
    const names = group.map((f) => f.channel);
    const them = names.length === 1 ? (names[0] as string) : "them";
    if (first.own) {
      const message = `${first.subject}: ${names.join(" and ")}: ${first.allows}${first.enabled ? "" : ` (before enabling ${them})`}`;
      report(first.path, message, first.enabled ? "error" : "warning", first.key);
      continue;
    }
    const allows = group.map((f, i) => (i === 0 ? `${f.channel} ${f.verb} ${f.allows}` : `${f.channel} ${f.allows}`));
    const list = allows.length === 1 ? (allows[0] as string) : `${allows.slice(0, -1).join(", ")} and ${allows.at(-1) as string}`;
    const fix = first.enabled ? first.fix : `${first.fix} before enabling ${them}`;
    report(first.path, `${first.subject}; ${list}: ${fix}`, first.enabled ? "error" : "warning", first.key);
  }
}

function pathOf(base: PathSeg[], block: KeyboardBlock | WaitBlock, p: QuestionPlanProblem): PathSeg[] {
  if (p.at === "text") return [...base, "text"];
  if (p.at === "buttons") return block.type === "message_with_keyboard" ? [...base, "buttons"] : [...base, "skip"];
  const keyboard = block.type === "message_with_keyboard" ? block.buttons.length : 0;
  if (p.at < keyboard) return [...base, "buttons", p.at, "label"];
  return block.skip ? [...base, "skip", "label"] : base;
}

/** The labels of a question's buttons, the skip button last, each where it stands. */
function labelsOf(base: PathSeg[], block: KeyboardBlock | WaitBlock): { path: PathSeg[]; label: unknown }[] {
  const labels: { path: PathSeg[]; label: unknown }[] = [];
  if (block.type === "message_with_keyboard") block.buttons.forEach((b, i) => labels.push({ path: [...base, "buttons", i, "label"], label: b.label }));
  if (block.skip) labels.push({ path: [...base, "skip", "label"], label: block.skip.label });
  return labels;
}

/** The default locale, then every other locale a text or label of the question is written in. */
function localesOf(block: KeyboardBlock | WaitBlock, locale: string): string[] {
  const out = new Set<string>([locale]);
  const add = (text: unknown): void => {
    if (text !== null && typeof text === "object") for (const k of Object.keys(text)) out.add(k);
  };
  add(block.text);
  add(block.skip?.label);
  if (block.type === "message_with_keyboard") for (const b of block.buttons) add(b.label);
  return [...out];
}

/** Every text sent as a message: block texts, re-prompt texts, the scenario's default re-prompt text. */
function messageTexts(def: Pick<Scenario, "blocks" | "defaults">): { path: PathSeg[]; where: string; text: unknown; blockId?: string }[] {
  const out: { path: PathSeg[]; where: string; text: unknown; blockId?: string }[] = [];
  const invalidText = def.defaults?.invalid?.text;
  if (invalidText !== undefined) out.push({ path: ["defaults", "invalid", "text"], where: "defaults.invalid.text", text: invalidText });
  for (const [id, block] of Object.entries(def.blocks)) {
    const base: PathSeg[] = ["blocks", id];
    if ("text" in block && block.text !== undefined) out.push({ path: [...base, "text"], where: `block "${id}"`, text: block.text, blockId: id });
    if (isQuestion(block) && block.invalid?.text !== undefined) out.push({ path: [...base, "invalid", "text"], where: `block "${id}" invalid.text`, text: block.invalid.text });
  }
  return out;
}

/** A text and its translations: `[locale or null, text]`. */
export function variants(text: unknown): [string | null, string][] {
  if (typeof text === "string") return [[null, text]];
  if (typeof text === "number") return [[null, String(text)]];
  if (text !== null && typeof text === "object") return Object.entries(text as Record<string, string>);
  return [];
}
