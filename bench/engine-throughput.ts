/**
 * Engine throughput: the CSAT scenario for N conversations (default 10,000; 3 inbound events
 * each) through the real Runtime with the MemoryStateStore, side by side with the same flow
 * hand-coded as a switch, in the same process. Prints inbound events per second of both, the
 * ratio engine time / hand-coded time (aim ≤ 3), and the heap each retains per 10k
 * conversations. Refuses to print figures when the two did not produce the same output.
 *
 * @example
 * npm run bench                       # the benchmarks run-all.ts lists
 * npx tsx bench/engine-throughput.ts --conversations=1000 --rounds=3  # this one, smaller
 */
import { availableParallelism, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { LoadedScenario } from "../engine/scenario.ts";
import {
  EVENTS_PER_CONVERSATION,
  createEngineFlow,
  createHandCodedFlow,
  loadCsat,
  playConversations,
  type CsatFlow,
  type FlowOutput,
} from "./csat-flows.ts";

/** The aim of issue 2: the engine within this factor of the hand-coded flow. */
export const AIM_RATIO = 3;

export interface ThroughputOptions {
  conversations: number;
  /** Measured rounds; each plays every conversation on both sides, taking turns. */
  rounds: number;
  /** Conversations played by each side before measuring, so both run JIT-compiled code. */
  warmup: number;
}

/** Conversations played by one side before the other side takes its turn, within a round. */
const CHUNK = 250;

interface RoundResult {
  engineMs: number;
  handMs: number;
  /** Process CPU time (user + system) spent in each side's turns: steadier than wall time on a busy machine. */
  engineCpuMs: number;
  handCpuMs: number;
  engine: FlowOutput;
  handCoded: FlowOutput;
}

export interface ThroughputReport {
  options: ThroughputOptions;
  engine: Summary;
  handCoded: Summary;
  /** engine time / hand-coded time, per round (wall clock). */
  ratio: Stats;
  /** The same ratio on process CPU time. */
  cpuRatio: Stats;
  /** 1-minute load average when the run ended: above the core count, expect a wide spread. */
  load: number;
}

interface Summary {
  eventsPerSec: Stats;
  /** Heap retained after the run per 10,000 conversations, in MB. */
  heapMbPer10k: number;
}

interface Stats {
  median: number;
  min: number;
  max: number;
}

/** `global.gc` without requiring `--expose-gc` on the command line (tsx owns the node flags). */
function exposeGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Plays both flows and checks they produced the same output; returns both outputs (recorded when asked). */
export async function runBoth(scenario: LoadedScenario, conversations: number, record = false): Promise<{ engine: FlowOutput; handCoded: FlowOutput }> {
  const engine = createEngineFlow(scenario, record);
  const handCoded = createHandCodedFlow(scenario, record);
  await playConversations(engine, conversations);
  await playConversations(handCoded, conversations);
  return { engine: engine.output, handCoded: handCoded.output };
}

/** Throws unless both outputs have the counts a full CSAT run must have. */
export function checkOutputs(engine: FlowOutput, handCoded: FlowOutput, conversations: number): void {
  const expected = { events: conversations * EVENTS_PER_CONVERSATION, messages: conversations * 3, closes: conversations * 2, surveys: conversations };
  for (const [name, out] of [["engine", engine], ["hand-coded", handCoded]] as const) {
    for (const k of Object.keys(expected) as (keyof typeof expected)[]) {
      if (out[k] !== expected[k]) {
        throw new Error(
          `${name} produced ${out[k]} ${k} for ${conversations} conversations, expected ${expected[k]}; ` +
            "the two implementations disagree, so no figure is printed (run the smoke test: npx vitest run test/bench)",
        );
      }
    }
  }
}

/**
 * One round: both sides play the same conversations in chunks, taking turns (the order flips
 * every chunk and every round), so load from other processes on this shared machine falls on
 * both sides alike instead of on whichever ran while it lasted.
 */
async function round(scenario: LoadedScenario, conversations: number, r: number, gc: () => void): Promise<RoundResult> {
  gc();
  const engine = createEngineFlow(scenario);
  const handCoded = createHandCodedFlow(scenario);
  const totals = new Map<CsatFlow, { ms: number; cpuMs: number }>([
    [engine, { ms: 0, cpuMs: 0 }],
    [handCoded, { ms: 0, cpuMs: 0 }],
  ]);
  const play = async (flow: CsatFlow, from: number, count: number): Promise<void> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await playConversations(flow, count, from);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const total = totals.get(flow) as { ms: number; cpuMs: number };
    total.ms += ms;
    total.cpuMs += (cpu.user + cpu.system) / 1000;
  };
  for (let from = 0, c = 0; from < conversations; from += CHUNK, c++) {
    const count = Math.min(CHUNK, conversations - from);
    const [first, second] = (r + c) % 2 === 0 ? [engine, handCoded] : [handCoded, engine];
    await play(first, from, count);
    await play(second, from, count);
  }
  const e = totals.get(engine) as { ms: number; cpuMs: number };
  const h = totals.get(handCoded) as { ms: number; cpuMs: number };
  return { engineMs: e.ms, handMs: h.ms, engineCpuMs: e.cpuMs, handCpuMs: h.cpuMs, engine: engine.output, handCoded: handCoded.output };
}

/** Heap one side retains (its state store or Map) after playing `conversations`, in bytes, after full GCs. */
async function retainedHeap(make: () => CsatFlow, conversations: number, gc: () => void): Promise<number> {
  gc();
  const before = process.memoryUsage().heapUsed;
  const flow = make();
  await playConversations(flow, conversations);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (flow.output.events === 0) throw new Error("no events were played"); // keeps `flow` alive until measured
  return after - before;
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** Runs the benchmark and returns the figures; throws when the two sides disagree. */
export async function benchEngineThroughput(options: ThroughputOptions, log: (line: string) => void = () => {}): Promise<ThroughputReport> {
  const gc = exposeGc();
  const scenario = await loadCsat();
  const warm = await runBoth(scenario, options.warmup);
  checkOutputs(warm.engine, warm.handCoded, options.warmup);

  const rounds: RoundResult[] = [];
  for (let r = 0; r < options.rounds; r++) {
    const result = await round(scenario, options.conversations, r, gc);
    checkOutputs(result.engine, result.handCoded, options.conversations);
    rounds.push(result);
    log(`  round ${r + 1}/${options.rounds}: engine ${result.engineMs.toFixed(0)} ms, hand-coded ${result.handMs.toFixed(0)} ms`);
  }
  const events = options.conversations * EVENTS_PER_CONVERSATION;
  const per10k = 10_000 / options.conversations / 1048576;
  const engineHeap = await retainedHeap(() => createEngineFlow(scenario), options.conversations, gc);
  const handHeap = await retainedHeap(() => createHandCodedFlow(scenario), options.conversations, gc);
  return {
    options,
    engine: { eventsPerSec: stats(rounds.map((x) => (events * 1000) / x.engineMs)), heapMbPer10k: engineHeap * per10k },
    handCoded: { eventsPerSec: stats(rounds.map((x) => (events * 1000) / x.handMs)), heapMbPer10k: handHeap * per10k },
    ratio: stats(rounds.map((x) => x.engineMs / x.handMs)),
    cpuRatio: stats(rounds.map((x) => x.engineCpuMs / x.handCpuMs)),
    load: loadavg()[0] ?? 0,
  };
}

const fmtRate = (n: number) => `${Math.round(n).toLocaleString("en-US")} ev/s`;
const spread = (s: Stats) => `±${(((s.max - s.min) / 2 / s.median) * 100).toFixed(0)}%`;

/** The compact table `npm run bench` prints. */
export function formatReport(r: ThroughputReport): string[] {
  const { conversations, rounds } = r.options;
  const e = r.engine;
  const h = r.handCoded;
  return [
    `engine throughput: CSAT, ${conversations.toLocaleString("en-US")} conversations × ${EVENTS_PER_CONVERSATION} events, median of ${rounds} rounds, sides interleaved in chunks of ${CHUNK} (± = half the min–max range)`,
    `engine ${fmtRate(e.eventsPerSec.median)} ${spread(e.eventsPerSec)} | hand-coded ${fmtRate(h.eventsPerSec.median)} ${spread(h.eventsPerSec)} | ` +
      `ratio ${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}) (aim ≤ ${AIM_RATIO.toFixed(2)}) ${r.ratio.median <= AIM_RATIO ? "OK" : "MISSED"}`,
    `ratio on process CPU time ${r.cpuRatio.median.toFixed(2)} (${r.cpuRatio.min.toFixed(2)}–${r.cpuRatio.max.toFixed(2)}); load average ${r.load.toFixed(1)} on ${availableParallelism()} cores` +
      (r.load > availableParallelism() ? " (busy machine: wall-clock figures are noisy, the CPU-time ratio less so)" : ""),
    `heap retained per 10k conversations: engine ${e.heapMbPer10k.toFixed(1)} MB | hand-coded ${h.heapMbPer10k.toFixed(1)} MB (state kept after the run, after a full GC)`,
  ];
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}=${raw} is not a positive integer`);
  return n;
}

/** Entry point for run-all.ts and for running this file directly. */
export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const { values } = parseArgs({ args, options: { conversations: { type: "string" }, rounds: { type: "string" } }, strict: false });
  const conversations = positiveInt("conversations", values.conversations as string | undefined, 10_000);
  const rounds = positiveInt("rounds", values.rounds as string | undefined, 9);
  const options: ThroughputOptions = { conversations, rounds, warmup: Math.min(conversations, 3_000) };
  const report = await benchEngineThroughput(options, (line) => console.log(line));
  for (const line of formatReport(report)) console.log(line);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
