/**
 * Telegram channel benchmark: the CSAT flow (`/start` → tap → comment) for N chats (default
 * 5,000) driven through grammY's `bot.handleUpdate` with no network (the Bot API mocked at the
 * HTTP client's `fetch`), three ways: botflow's TelegramChannel + Runtime, the same survey on
 * `@grammyjs/conversations`, and a hand-written grammY handler on `session()`. One chat at a
 * time and 100 chats in flight, for the 1-question survey and a 10-question variant. Prints
 * updates per second, CPU µs per update and heap per open dialogue, with the issue's ratios.
 * Refuses to print figures when the variants did not make the same Bot API calls.
 *
 * Every measurement runs in a child process of its own, one variant per process: botflow's
 * channel uses AsyncLocalStorage, which turns on Node's promise hooks for the whole process, so
 * measuring the others in the same process after it would slow them down too.
 *
 * @example
 * npx tsx bench/telegram-channel.ts                       # 5,000 chats (500 for the plugin), 3 rounds
 * npx tsx bench/telegram-channel.ts --chats=1000 --plugin-chats=200 --rounds=1
 */
import { execFile } from "node:child_process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { ChatDriver, createBotflowBot, createConversationsBot, createSessionBot, playChat, surveyScenario, type ApiCall, type SurveyBot } from "./telegram-flows.ts";

export type Variant = "botflow" | "conversations" | "session";
export const VARIANTS: readonly Variant[] = ["botflow", "conversations", "session"];
const DEPTHS = [1, 10] as const;
const IN_FLIGHT = [1, 100] as const;

export interface TelegramBenchOptions {
  chats: number;
  /** Chats for the conversations plugin, which waits on a timer at every pause (about 1 ms). */
  pluginChats: number;
  rounds: number;
}

interface Measure {
  updatesPerSec: number;
  cpuUsPerUpdate: number;
}

/** One child's figures: `measures["1x100"]` is the 1-question survey with 100 chats in flight. */
interface VariantResult {
  measures: Record<string, Measure>;
  heapPerDialogue: number;
}

export function makeBot(variant: Variant, steps: number, record = false): SurveyBot {
  if (variant === "botflow") return createBotflowBot(surveyScenario(steps), record);
  return variant === "session" ? createSessionBot(steps, record) : createConversationsBot(steps, record);
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

/** Throws unless every variant makes byte-identical Bot API calls for `chats` chats; returns how many. */
export async function checkSameCalls(steps: number, chats: number, variants: readonly Variant[] = VARIANTS): Promise<number> {
  const played: { variant: Variant; calls: ApiCall[] }[] = [];
  for (const variant of variants) {
    const bot = makeBot(variant, steps, true);
    await playAll(bot, chats, steps, 1);
    if (bot.surveys() !== chats) throw new Error(`${variant} finished ${bot.surveys()} surveys of ${chats}`);
    played.push({ variant, calls: bot.api.calls ?? [] });
  }
  const [first, ...others] = played;
  if (!first) return 0;
  for (const other of others) {
    const a = first.calls;
    const b = other.calls;
    const differ = a.findIndex((c, i) => c.method !== b[i]?.method || c.body !== b[i]?.body);
    if (differ >= 0 || a.length !== b.length) {
      const at = differ >= 0 ? differ : Math.min(a.length, b.length);
      throw new Error(`${first.variant} and ${other.variant} made different Bot API calls (first at #${at}: ${JSON.stringify(a[at])} vs ${JSON.stringify(b[at])})`);
    }
  }
  return first.calls.length;
}

async function measure(variant: Variant, steps: number, chats: number, inFlight: number): Promise<Measure> {
  const bot = makeBot(variant, steps);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const updates = await playAll(bot, chats, steps, inFlight);
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  if (bot.surveys() !== chats) throw new Error(`${variant} finished ${bot.surveys()} surveys of ${chats}`);
  return { updatesPerSec: updates / (ns / 1e9), cpuUsPerUpdate: (cpu.user + cpu.system) / updates };
}

/** Heap retained per chat with its survey open (after `/start`), in bytes. */
async function heapPerDialogue(variant: Variant, chats: number, gc: () => void): Promise<number> {
  const bot = makeBot(variant, 1);
  await playAll(bot, 50, 1, 1, 1e6); // load and compile the code paths first: that heap is not the dialogues'
  bot.api.lastKeyboard.clear();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let c = 1; c <= chats; c++) await bot.handleUpdate(new ChatDriver(c).start());
  // What the mock keeps for the driver's taps is the harness's, not the bot's.
  bot.api.lastKeyboard.clear();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (bot.api.count !== 50 * 6 + chats) throw new Error(`${variant}: not every chat was asked`);
  return (after - before) / chats;
}

/** The child's side: one round of every depth × concurrency for one variant, in a fresh process. */
async function runChild(variant: Variant, chats: number): Promise<VariantResult> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const measures: Record<string, Measure> = {};
  for (const steps of DEPTHS) {
    await playAll(makeBot(variant, steps), Math.min(500, chats), steps, 10, 1e6); // warm-up
    for (const inFlight of IN_FLIGHT) {
      gc();
      measures[`${steps}x${inFlight}`] = await measure(variant, steps, chats, inFlight);
    }
  }
  return { measures, heapPerDialogue: await heapPerDialogue(variant, chats, gc) };
}

const run = promisify(execFile);

async function spawnChild(variant: Variant, chats: number): Promise<VariantResult> {
  // process.execArgv carries tsx's loader, so the child runs this same file the same way.
  const { stdout } = await run(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--child=${variant}`, `--chats=${chats}`], { maxBuffer: 1 << 20 });
  const line = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(line) as VariantResult;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export interface TelegramBenchResult {
  calls: Record<number, number>;
  measures: Record<Variant, Record<string, Measure>>;
  heap: Record<Variant, number>;
}

export async function runTelegramBench(o: TelegramBenchOptions): Promise<TelegramBenchResult> {
  const calls: Record<number, number> = {};
  for (const steps of DEPTHS) calls[steps] = await checkSameCalls(steps, 20);
  const got: Record<Variant, VariantResult[]> = { botflow: [], conversations: [], session: [] };
  for (let r = 0; r < o.rounds; r++) {
    // Variants take turns in a rotating order, so a burst of load elsewhere does not hit one only.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length] as Variant);
    for (const v of order) got[v].push(await spawnChild(v, v === "conversations" ? o.pluginChats : o.chats));
  }
  const measures = {} as Record<Variant, Record<string, Measure>>;
  const heap = {} as Record<Variant, number>;
  for (const v of VARIANTS) {
    measures[v] = {};
    for (const key of Object.keys(got[v][0]?.measures ?? {})) {
      const ms = got[v].map((g) => g.measures[key] as Measure);
      measures[v][key] = { updatesPerSec: median(ms.map((m) => m.updatesPerSec)), cpuUsPerUpdate: median(ms.map((m) => m.cpuUsPerUpdate)) };
    }
    heap[v] = median(got[v].map((g) => g.heapPerDialogue));
  }
  return { calls, measures, heap };
}

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { chats: { type: "string", default: "5000" }, "plugin-chats": { type: "string", default: "500" }, rounds: { type: "string", default: "3" }, child: { type: "string" } },
    strict: false,
  });
  const chats = Number(values.chats);
  if (typeof values.child === "string") {
    if (!VARIANTS.includes(values.child as Variant)) throw new Error(`--child=${values.child}: expected one of ${VARIANTS.join(", ")}`);
    console.log(JSON.stringify(await runChild(values.child as Variant, chats)));
    return;
  }
  const pluginChats = Math.min(chats, Number(values["plugin-chats"]));
  const rounds = Number(values.rounds);
  const { calls, measures: m, heap } = await runTelegramBench({ chats, pluginChats, rounds });
  console.log(`Telegram CSAT through bot.handleUpdate, Bot API mocked at fetch, each variant in its own process`);
  console.log(`${chats} chats (conversations plugin: ${pluginChats}), median of ${rounds} rounds; Bot API calls identical (${calls[1]} for 20 chats × 1 question, ${calls[10]} × 10)`);
  const head = ["questions", "in flight", "botflow upd/s", "conv. upd/s", "session upd/s", "bf/conv", "bf/session", "bf CPU µs", "conv. CPU µs", "session CPU µs"];
  console.log(head.map((h) => h.padStart(16)).join(""));
  for (const steps of DEPTHS) {
    for (const inFlight of IN_FLIGHT) {
      const k = `${steps}x${inFlight}`;
      const [b, c, s] = VARIANTS.map((v) => m[v][k] as Measure) as [Measure, Measure, Measure];
      const cells = [String(steps), String(inFlight), n0(b.updatesPerSec), n0(c.updatesPerSec), n0(s.updatesPerSec)];
      cells.push((b.updatesPerSec / c.updatesPerSec).toFixed(1) + "×", (b.updatesPerSec / s.updatesPerSec).toFixed(2) + "×");
      cells.push(b.cpuUsPerUpdate.toFixed(1), c.cpuUsPerUpdate.toFixed(1), s.cpuUsPerUpdate.toFixed(1));
      console.log(cells.map((x) => x.padStart(16)).join(""));
    }
  }
  const depth = (v: Variant, f: number) => ((m[v][`10x${f}`] as Measure).cpuUsPerUpdate / (m[v][`1x${f}`] as Measure).cpuUsPerUpdate).toFixed(2);
  console.log(`CPU per update, 10 questions / 1 question (one at a time; 100 in flight): ${VARIANTS.map((v) => `${v} ${depth(v, 1)}; ${depth(v, 100)}`).join(", ")}`);
  console.log(`heap per open dialogue (after /start): ${VARIANTS.map((v) => `${v} ${n0(heap[v])} B`).join(", ")}`);
  const ratio = (k: string, a: Variant, b: Variant) => (m[a][k] as Measure).updatesPerSec / (m[b][k] as Measure).updatesPerSec;
  console.log(
    `aims: botflow ≥ 10× plugin one at a time: ${ratio("1x1", "botflow", "conversations").toFixed(1)}× | ≥ 3× with 100 in flight: ${ratio("1x100", "botflow", "conversations").toFixed(1)}× | ` +
      `within 1.2× of hand-written (ratio ≥ 0.83): ${Math.min(...["1x1", "1x100", "10x1", "10x100"].map((k) => ratio(k, "botflow", "session"))).toFixed(2)}× at worst | heap < 1 KB: ${n0(heap.botflow)} B`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
