/**
 * Telegram channel benchmark: the CSAT flow (`/start` → tap → comment) for N chats (default
 * 5,000) driven through grammY's `bot.handleUpdate` with no network (the Bot API mocked at the
 * HTTP client's `fetch`), botflow's TelegramChannel + Runtime side by side with a hand-written
 * grammY handler on `session()`. One chat at a time and 100 chats in flight, for the 1-question
 * survey and a 10-question variant. Prints updates per second, CPU µs per update and heap per
 * open dialogue. Refuses to print figures when the two did not make the same Bot API calls.
 * (`@grammyjs/conversations`, the third way the issue names, is not installed here.)
 *
 * @example
 * npx tsx bench/telegram-channel.ts                       # 5,000 chats, 5 rounds
 * npx tsx bench/telegram-channel.ts --chats=1000 --rounds=3
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { LoadedScenario } from "../engine/scenario.ts";
import { createBotflowBot, createSessionBot, playChat, surveyScenario, type SurveyBot } from "./telegram-flows.ts";

export interface TelegramBenchOptions {
  chats: number;
  rounds: number;
  warmup: number;
}

interface Measure {
  updatesPerSec: number;
  cpuUsPerUpdate: number;
}

export interface TelegramBenchRow {
  steps: number;
  inFlight: number;
  botflow: Measure;
  session: Measure;
}

type Variant = "botflow" | "session";

function make(variant: Variant, scenario: LoadedScenario, steps: number, record = false): SurveyBot {
  return variant === "botflow" ? createBotflowBot(scenario, record) : createSessionBot(steps, record);
}

/** Plays `chats` surveys with `inFlight` chats at a time (each chat's updates one after another). */
export async function playAll(bot: SurveyBot, chats: number, steps: number, inFlight: number, base = 1): Promise<number> {
  let next = 0;
  let updates = 0;
  const worker = async () => {
    while (next < chats) {
      const played = await playChat(bot, base + next++, steps);
      updates += played; // not `updates += await …`: that reads `updates` before the await and loses the others' counts
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, chats) }, worker));
  return updates;
}

/** Throws unless both variants make byte-identical Bot API calls for `chats` chats. */
export async function checkSameCalls(steps: number, chats: number): Promise<number> {
  const scenario = surveyScenario(steps);
  const a = make("botflow", scenario, steps, true);
  const b = make("session", scenario, steps, true);
  await playAll(a, chats, steps, 1);
  await playAll(b, chats, steps, 1);
  const ca = a.api.calls ?? [];
  const cb = b.api.calls ?? [];
  const differ = ca.findIndex((c, i) => c.method !== cb[i]?.method || c.body !== cb[i]?.body);
  if (differ >= 0 || ca.length !== cb.length) {
    throw new Error(`the variants made different Bot API calls (first at #${differ}: ${JSON.stringify(ca[differ])} vs ${JSON.stringify(cb[differ])})`);
  }
  if (a.surveys() !== chats || b.surveys() !== chats) throw new Error(`surveys finished: botflow ${a.surveys()}, session ${b.surveys()}, expected ${chats}`);
  return ca.length;
}

async function measure(variant: Variant, scenario: LoadedScenario, steps: number, chats: number, inFlight: number): Promise<Measure> {
  const bot = make(variant, scenario, steps);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const updates = await playAll(bot, chats, steps, inFlight);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  return { updatesPerSec: updates / (ns / 1e9), cpuUsPerUpdate: (cpu.user + cpu.system) / updates };
}

/** Heap retained per chat with its survey open (after `/start`), in bytes. */
async function heapPerDialogue(variant: Variant, scenario: LoadedScenario, steps: number, chats: number, gc: () => void): Promise<number> {
  gc();
  const before = process.memoryUsage().heapUsed;
  const bot = make(variant, scenario, steps);
  const { ChatDriver } = await import("./telegram-flows.ts");
  for (let c = 1; c <= chats; c++) await bot.handleUpdate(new ChatDriver(c).start());
  // What the mock keeps for the driver's taps is the harness's, not the bot's.
  bot.api.lastKeyboard.clear();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (bot.api.count !== chats) throw new Error("not every chat was asked");
  return (after - before) / chats;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export async function runTelegramBench(o: TelegramBenchOptions): Promise<{ rows: TelegramBenchRow[]; heap: Record<Variant, number> }> {
  const gc = (() => {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  })();
  const rows: TelegramBenchRow[] = [];
  for (const steps of [1, 10]) {
    await checkSameCalls(steps, 20);
    const scenario = surveyScenario(steps);
    for (const v of ["botflow", "session"] as const) await playAll(make(v, scenario, steps), o.warmup, steps, 10);
    for (const inFlight of [1, 100]) {
      const got: Record<Variant, Measure[]> = { botflow: [], session: [] };
      for (let r = 0; r < o.rounds; r++) {
        const order: Variant[] = r % 2 === 0 ? ["botflow", "session"] : ["session", "botflow"];
        for (const v of order) {
          gc();
          got[v].push(await measure(v, scenario, steps, o.chats, inFlight));
        }
      }
      const pick = (v: Variant): Measure => ({
        updatesPerSec: median(got[v].map((m) => m.updatesPerSec)),
        cpuUsPerUpdate: median(got[v].map((m) => m.cpuUsPerUpdate)),
      });
      rows.push({ steps, inFlight, botflow: pick("botflow"), session: pick("session") });
    }
  }
  const scenario = surveyScenario(1);
  const heap = { botflow: await heapPerDialogue("botflow", scenario, 1, o.chats, gc), session: await heapPerDialogue("session", scenario, 1, o.chats, gc) };
  return { rows, heap };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { chats: { type: "string", default: "5000" }, rounds: { type: "string", default: "5" } }, strict: false });
  const chats = Number(values.chats);
  const rounds = Number(values.rounds);
  const { rows, heap } = await runTelegramBench({ chats, rounds, warmup: Math.min(1000, chats) });
  console.log(`Telegram CSAT through bot.handleUpdate, Bot API mocked at fetch: ${chats} chats, median of ${rounds} rounds`);
  console.log("questions  in flight  botflow upd/s  session upd/s  botflow/session  botflow CPU µs/upd  session CPU µs/upd");
  for (const r of rows) {
    console.log(
      [
        String(r.steps).padStart(9),
        String(r.inFlight).padStart(10),
        r.botflow.updatesPerSec.toFixed(0).padStart(14),
        r.session.updatesPerSec.toFixed(0).padStart(14),
        (r.botflow.updatesPerSec / r.session.updatesPerSec).toFixed(2).padStart(16),
        r.botflow.cpuUsPerUpdate.toFixed(1).padStart(19),
        r.session.cpuUsPerUpdate.toFixed(1).padStart(19),
      ].join(""),
    );
  }
  console.log(`heap per open dialogue: botflow ${heap.botflow.toFixed(0)} B, session ${heap.session.toFixed(0)} B`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
