/**
 * Plays one test case: a fresh conversation through the real runtime (cli/local-conversation.ts,
 * the machinery of `botflow run`), on a simulated clock from the same fixed instant, each user,
 * tap and wait step one second after the one before. Every bot message is read through the
 * case's channel renderer (channel-view.ts), so `expect:` and `tap:` see what that channel shows.
 * The case stops at its first failing step: what follows depends on it.
 */
import { performance } from "node:perf_hooks";
import type { Pos } from "../../engine/yaml-source.ts";
import { LocalConversation, type ConversationEntry } from "../local-conversation.ts";
import { DIALOGUE_EPOCH } from "../play-dialogue.ts";
import type { ScenarioKit } from "../scenario-kit.ts";
import { SimClock } from "../sim-clock.ts";
import { seeIgnored, seeMessage, type SeenMessage, type Tappable, type TestChannel } from "./channel-view.ts";
import { compare, observeSurvey, type Mismatch } from "./compare.ts";
import type { HttpMocks } from "./http-mocks.ts";
import type { ScenarioSource } from "./scenario-source.ts";
import type { Step, TestCase } from "./test-file.ts";

/** One thing wrong with a case, at a place in the test file. */
export interface CaseFailure extends Pos {
  /** `step 3 (expect.bot)`, `scenario`. */
  where: string;
  message: string;
  diff: string[];
  note?: string;
  /** Lines a tool printed about it (the scenario's load errors as file:line:col). */
  details: string[];
}

export interface CaseResult extends Pos {
  name: string;
  /** Wall time the case took. */
  ms: number;
  /** Empty when it passed. */
  failures: CaseFailure[];
}

export interface CaseDeps {
  source: ScenarioSource;
  /** A fresh kit (actions, survey record) for the case, its HTTP requests answered by `mocks`. */
  kit(mocks: HttpMocks): ScenarioKit;
  /** The mock HTTP answers a case collects from its `mock:` steps. */
  mocks(): HttpMocks;
}

/** The gap between two steps on the simulated clock, as in `botflow run`. */
const STEP_GAP_MS = 1000;

/** Runs `c`, a case of `testFile` (the path as given on the command line). */
export async function runCase(c: TestCase, testFile: string, deps: CaseDeps): Promise<CaseResult> {
  const started = performance.now();
  const failures = await play(c, testFile, deps);
  return { name: c.name, line: c.at.line, col: c.at.col, ms: performance.now() - started, failures };
}

async function play(c: TestCase, testFile: string, deps: CaseDeps): Promise<CaseFailure[]> {
  const found = await deps.source.lookup(testFile, c.scenario, c.channel);
  if (!found.ok) return [{ ...c.at, where: "scenario", message: found.message, diff: [], details: found.details }];

  const mocks = deps.mocks();
  const kit = deps.kit(mocks);
  const clock = new SimClock(() => DIALOGUE_EPOCH);
  const channel = c.channel;
  let sent: SeenMessage[] = [];
  /** The last rendering of each question, by prompt id: what a tap is matched against. */
  const questions = new Map<string, SeenMessage>();
  const conversation = new LocalConversation({
    scenario: found.scenario,
    related: found.related,
    kit,
    clock,
    ...(c.locale ? { locale: c.locale } : {}),
    onEntry: (entry) => see(entry, channel, sent, questions),
  });

  // The dialogue starts at the first step that is not a mock, so mocks written first answer the start's requests.
  let started = false;
  const start = async (): Promise<CaseFailure[]> => {
    started = true;
    try {
      await conversation.start(c.variables);
    } catch (err) {
      return [{ ...c.at, where: "start", message: `the dialogue did not start: ${errorText(err)}`, diff: [], details: [] }];
    }
    const unmocked = mocks.unanswered();
    return unmocked.length > 0 ? [unmockedFailure(c.at, "start", unmocked)] : [];
  };

  for (const [j, step] of c.steps.entries()) {
    const where = `step ${j + 1} (${step.kind})`;
    if (step.kind === "mock") {
      mocks.add(step.mock);
      continue;
    }
    if (!started) {
      const failed = await start();
      if (failed.length > 0) return failed;
    }
    if (step.kind === "expect") {
      const open = conversation.openPrompt;
      const state = conversation.state;
      const survey = observeSurvey(kit.queue.events);
      const mismatches = compare(step.expect, {
        ...(channel ? { channel } : {}),
        sent,
        ...(open ? { open: questions.get(open.promptId) ?? { text: "", buttons: [], list: [] } } : {}),
        vars: state?.vars ?? {},
        ended: state?.ended ?? false,
        ...(survey ? { survey } : {}),
      });
      if (mismatches.length > 0) return mismatches.map((m) => expectFailure(j, step, m));
      continue;
    }
    clock.advance(STEP_GAP_MS);
    sent = [];
    try {
      const problem = await act(step, conversation, questions, channel);
      if (problem) return [{ ...step.at, where, message: problem, diff: [], details: [] }];
    } catch (err) {
      return [{ ...step.at, where, message: `the engine failed: ${errorText(err)}`, diff: [], details: [] }];
    }
    const missing = mocks.unanswered();
    if (missing.length > 0) return [unmockedFailure(step.at, where, missing)];
  }
  return started ? [] : start();
}

/** Records what the user sees of an entry: messages go to `sent`, questions to `questions`. */
function see(entry: ConversationEntry, channel: TestChannel | undefined, sent: SeenMessage[], questions: Map<string, SeenMessage>): void {
  if (entry.kind === "bot") {
    const seen = seeMessage(entry.message, channel);
    sent.push(...seen);
    const promptId = entry.message.promptId;
    // The rendering that carries the question's options (WhatsApp Web: the numbered prompt itself).
    const question = seen.find((s) => s.buttons.length > 0 || s.list.length > 0) ?? seen[0];
    if (promptId !== undefined && question) questions.set(promptId, question);
  } else if (entry.kind === "ignored") {
    sent.push(...seeIgnored(entry.reason, channel));
  }
}

/** Runs a user, tap or wait step; returns why it could not be played, if it could not. */
async function act(step: Exclude<Step, { kind: "expect" | "mock" }>, conversation: LocalConversation, questions: Map<string, SeenMessage>, channel: TestChannel | undefined): Promise<string | undefined> {
  switch (step.kind) {
    case "user":
      await conversation.text(step.text);
      return undefined;
    case "wait":
      await conversation.wait(step.ms);
      return undefined;
    case "tap": {
      const open = conversation.openPrompt;
      const on = channel ? ` on ${channel}` : "";
      if (!open) return `tap ${JSON.stringify(step.label)}: no question is open${conversation.state?.ended ? " (the dialogue has ended)" : ""}`;
      const shown = questions.get(open.promptId);
      const tappable: Tappable[] = [...(shown?.buttons ?? []), ...(shown?.list ?? [])];
      const target = tappable.find((t) => t.label === step.label);
      if (!target) {
        if (tappable.length === 0) {
          const last = shown?.text.split("\n").at(-1) ?? "";
          return `tap ${JSON.stringify(step.label)}: the open question shows nothing to tap${on} (its text ends ${JSON.stringify(last)}); type the answer instead: user: …`;
        }
        return `tap ${JSON.stringify(step.label)}: the open question has no such button${on}; it shows ${tappable.map((t) => JSON.stringify(t.label)).join(", ")}`;
      }
      await conversation.tap(target.promptId, target.index);
      return undefined;
    }
  }
}

function expectFailure(j: number, step: Extract<Step, { kind: "expect" }>, m: Mismatch): CaseFailure {
  const at = step.keyAt[m.key] ?? step.at;
  return { line: at.line, col: at.col, where: `step ${j + 1} (expect.${m.key})`, message: m.message, diff: m.diff, ...(m.note ? { note: m.note } : {}), details: [] };
}

function unmockedFailure(at: Pos, where: string, requests: readonly string[]): CaseFailure {
  return {
    ...at,
    where,
    message: `http__request called ${requests.join(", ")} with no mock answering it; add a mock: {url, method, status, json} step before this one (a test never reaches the network)`,
    diff: [],
    details: [],
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
