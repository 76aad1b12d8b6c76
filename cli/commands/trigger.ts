/**
 * `botflow trigger`: asks a running botflow (its trigger API, POST /api/dialogues) to survey
 * someone, or many people from a JSON-lines file, with a progress bar on a terminal.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { retry } from "../../channels/retry.ts";
import { parseCommandArgs, printUsageError } from "../args.ts";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "../command.ts";
import { println, resolveArg, type CliIo } from "../io.ts";

export const summary = "Start a survey for someone on a channel through a running botflow's trigger API (one, or many from JSON lines)";

const USAGE = `usage: botflow trigger --channel NAME --to ID --scenario ID [--var NAME=VALUE ...] [--key KEY] [--delay 24h | --at ISO]
       botflow trigger --file triggers.jsonl [--concurrency 8]

Asks the botflow at --url to send the scenario's first question to --to on --channel.
  --channel NAME     telegram, teams, whatsapp-cloud, whatsapp or webchat
  --to ID            chat id, wa_id, <number>@c.us, Teams conversation id or web chat visitor id
  --scenario ID      the scenario to run (csat)
  --var NAME=VALUE   a variable the dialogue starts with (agent=olena); repeat for more
  --locale CODE      the recipient's language (en, uk, pt-BR)
  --key KEY          idempotency key (the ticket id): the same key never starts two dialogues
  --delay DURATION   send later: 90s, 30m, 24h, 7d
  --at TIME          send at an ISO time with offset (2026-12-03T09:00:00+02:00)
  --policy JSON      survey rules for this call: {"cooldown":"7d","sample":0.3,"expire_after":"48h",
                     "quiet_hours":{"from":"21:00","to":"08:00","timezone":"Europe/Kyiv"}}
  --options JSON     channel options, e.g. a WhatsApp template {"template":{"name":"csat","language":"en"}}
  --file FILE        one JSON trigger per line (the POST /api/dialogues body); - reads stdin
  --concurrency N    calls in flight for --file (default 8)
  --url URL          the botflow web process (BOTFLOW_URL, default http://127.0.0.1:3000)
  --json             print each answer as one JSON line
The token comes from BOTFLOW_TOKEN. Exit code 1 when any trigger was refused.`;

const OPTIONS = {
  channel: { type: "string" },
  to: { type: "string" },
  scenario: { type: "string" },
  var: { type: "string", multiple: true },
  locale: { type: "string" },
  key: { type: "string" },
  delay: { type: "string" },
  at: { type: "string" },
  policy: { type: "string" },
  options: { type: "string" },
  file: { type: "string" },
  concurrency: { type: "string" },
  url: { type: "string" },
  json: { type: "boolean" },
} as const;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** botflow asked for the call again later (503, 429): retried when the line has a key. */
class RetryLater extends Error {
  constructor(readonly answer: Answer) {
    super(`botflow answered ${answer.status}`);
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs({ args, options: OPTIONS, allowPositionals: false }, io, USAGE);
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const token = io.env.BOTFLOW_TOKEN;
  if (!token) {
    printUsageError(io, USAGE, "set BOTFLOW_TOKEN to the server's token: the trigger API always needs it");
    return EXIT_USAGE;
  }
  const base = (v.url ?? io.env.BOTFLOW_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  if (!/^https?:\/\//.test(base)) {
    printUsageError(io, USAGE, `--url must be an http(s) URL; got "${base}"`);
    return EXIT_USAGE;
  }
  const post = (body: unknown) => postTrigger(`${base}/api/dialogues`, token, body);

  if (v.file !== undefined) {
    if (v.channel !== undefined || v.to !== undefined || v.scenario !== undefined) {
      printUsageError(io, USAGE, "--file takes every field from its lines: leave out --channel, --to and --scenario");
      return EXIT_USAGE;
    }
    const concurrency = Number(v.concurrency ?? 8);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
      printUsageError(io, USAGE, "--concurrency must be a whole number from 1 to 256");
      return EXIT_USAGE;
    }
    return bulk(io, v.file, concurrency, post, v.json === true);
  }

  if (v.channel === undefined || v.to === undefined || v.scenario === undefined) {
    printUsageError(io, USAGE, "give --channel, --to and --scenario (or --file)");
    return EXIT_USAGE;
  }
  const body: Record<string, unknown> = { channel: v.channel, to: v.to, scenario: v.scenario };
  const variables: Record<string, string> = {};
  for (const pair of v.var ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      printUsageError(io, USAGE, `--var takes NAME=VALUE; got "${pair}"`);
      return EXIT_USAGE;
    }
    variables[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(variables).length > 0) body.variables = variables;
  for (const name of ["locale", "key", "delay", "at"] as const) if (v[name] !== undefined) body[name] = v[name];
  for (const name of ["policy", "options"] as const) {
    const raw = v[name];
    if (raw === undefined) continue;
    try {
      body[name] = JSON.parse(raw) as unknown;
    } catch {
      printUsageError(io, USAGE, `--${name} must be JSON, such as '{"cooldown":"7d"}'`);
      return EXIT_USAGE;
    }
  }
  const answer = await post(body).catch((err: unknown) => ({ status: 0, body: { message: err instanceof Error ? err.message : String(err) } }));
  if (v.json === true) println(io.stdout, JSON.stringify({ status: answer.status, ...answer.body }));
  else println(answer.status >= 200 && answer.status < 300 ? io.stdout : io.stderr, describe(answer));
  return answer.status >= 200 && answer.status < 300 ? EXIT_OK : EXIT_FAILED;
}

/** One line for a person: what happened to the trigger. */
function describe(a: Answer): string {
  const b = a.body;
  if (a.status === 0) return `error: cannot reach botflow: ${String(b.message)}`;
  if (a.status >= 300) return `refused (${a.status}${b.field ? `, ${String(b.field)}` : ""}): ${String(b.message ?? b.error ?? "")}`;
  const what = b.result === "scheduled" ? `scheduled for ${String(b.runAt)}` : b.result === "skipped" ? `skipped by the ${String(b.reason)} rule` : String(b.result ?? b.state);
  return `${what}: dialogue ${String(b.id)} (${String(b.state)})`;
}

async function bulk(io: CliIo, file: string, concurrency: number, post: (body: unknown) => Promise<Answer>, json: boolean): Promise<number> {
  // A file is counted first so the bar shows how far along it is; stdin cannot be.
  const total = file === "-" ? undefined : await countLines(resolveArg(io, file));
  const input = file === "-" ? io.stdin : createReadStream(resolveArg(io, file));
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const tally = new Map<string, number>();
  const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
  let done = 0;
  let refused = 0;
  let lineNo = 0;
  const inFlight = new Set<Promise<void>>();
  const progress = () => {
    if (tty) io.stderr.write(`\r${bar(done, refused, total)}`);
  };

  const one = async (n: number, text: string) => {
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      refused++;
      count("invalid line");
      println(io.stderr, `${tty ? "\n" : ""}line ${n}: not JSON`);
      return;
    }
    const hasKey = typeof (body as { key?: unknown }).key === "string";
    // A keyed trigger is safe to send again (the key dedupes it); an unkeyed one is sent once.
    const a = await retry(
      async () => {
        const answer = await post(body);
        if (answer.status === 503 || answer.status === 429) throw new RetryLater(answer);
        return answer;
      },
      { attempts: hasKey ? 4 : 1, baseMs: 500, capMs: 4000 },
    ).catch((err: unknown): Answer => (err instanceof RetryLater ? err.answer : { status: 0, body: { message: err instanceof Error ? err.message : String(err) } }));
    if (a.status >= 200 && a.status < 300) count(String(a.body.result ?? a.body.state));
    else {
      refused++;
      count(`refused ${a.status}`);
      if (!json) println(io.stderr, `${tty ? "\n" : ""}line ${n}: ${describe(a)}`);
    }
    if (json) println(io.stdout, JSON.stringify({ line: n, status: a.status, ...a.body }));
  };

  for await (const text of lines) {
    lineNo++;
    if (text.trim() === "") continue;
    const p = one(lineNo, text).finally(() => {
      inFlight.delete(p);
      done++;
      progress();
    });
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (tty) io.stderr.write("\n");
  const parts = [...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${n} ${k}`);
  println(json ? io.stderr : io.stdout, `${done} trigger${done === 1 ? "" : "s"}: ${parts.join(", ") || "none"}`);
  return refused > 0 ? EXIT_FAILED : EXIT_OK;
}

function bar(done: number, refused: number, total: number | undefined): string {
  const width = 30;
  const filled = total ? Math.min(width, Math.round((done / total) * width)) : done % (width + 1);
  const of = total ? `${done}/${total} (${Math.floor((done / Math.max(total, 1)) * 100)}%)` : `${done}`;
  return `[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${of}${refused > 0 ? `, ${refused} refused` : ""}`;
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })) if (line.trim() !== "") n++;
  return n;
}

async function postTrigger(url: string, token: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  return { status: res.status, body: typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : { message: String(parsed) } };
}
