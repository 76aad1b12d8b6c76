/**
 * `botflow chat FILE [--locale xx]`: talk to a scenario in the terminal through the real
 * runtime. Typed lines go to the engine exactly as a messenger's text would (so "4" or a
 * button's label answers a keyboard the way it does on every channel); lines starting with
 * "/" are chat commands. Works with piped input too: each line is echoed, the session ends
 * at the end of input.
 */
import { createInterface } from "node:readline";
import { durationMs } from "../../engine/scenario.ts";
import { parseCommandArgs, scenarioArgs } from "../args.ts";
import { EXIT_FAILED, EXIT_OK } from "../command.ts";
import { println, type CliIo } from "../io.ts";
import { LocalConversation } from "../local-conversation.ts";
import { loadScenarioForCli } from "../load-scenario.ts";
import { createScenarioKit, loadCliActions } from "../scenario-kit.ts";
import { SimClock } from "../sim-clock.ts";
import { formatEntry, formatVariables } from "../transcript.ts";

export const summary = "Talk to a scenario in the terminal; keyboards shown as numbered buttons";

const USAGE = `usage: botflow chat FILE [--locale xx]

Runs the scenario as if you had opened a chat with the bot. Type answers as you would in a
messenger (a digit or a button's label answers a keyboard). Chat commands:
${commandHelp()}`;


function commandHelp(): string {
  return [
    "  /tap N       tap button N of the open question (as numbered: [1] [2] ...)",
    "  /vars        show the saved variables",
    "  /wait 24h    let time pass (90s, 10m, 24h); no-answer timeouts fire",
    "  /restart     start the scenario again",
    "  /quit        leave (so does the end of input, Ctrl-D)",
    "  /help        this list",
  ].join("\n");
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(
    { args, options: { locale: { type: "string" } }, allowPositionals: true },
    io,
    USAGE,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const picked = scenarioArgs(positionals, values.locale, io, USAGE);
  if (typeof picked === "number") return picked;
  const { file } = picked;
  const actions = await loadCliActions(io);
  if (!actions) return EXIT_FAILED;
  const kit = createScenarioKit({ actions });
  const loaded = await loadScenarioForCli(file, io, kit);
  if (!loaded) return EXIT_FAILED;
  const { scenario, related } = loaded;

  const out = (line = ""): void => println(io.stdout, line);
  const conversation = new LocalConversation({
    scenario,
    related,
    kit,
    clock: new SimClock(Date.now),
    ...(values.locale ? { locale: values.locale } : {}),
    onEntry: (entry) => formatEntry(entry).forEach((l) => out(l)),
  });
  const tty = (io.stdin as { isTTY?: boolean }).isTTY === true;
  out(`Chatting with ${scenario.id}${scenario.def.name ? ` — ${scenario.def.name}` : ""}; locale ${values.locale ?? scenario.locale}. /help lists the chat commands.`);
  await conversation.start();
  let announced = false;
  const afterTurn = (): void => {
    const ended = conversation.state?.ended === true;
    if (ended && !announced) out("(the dialogue has ended; /restart to start again, /quit to leave)");
    announced = ended;
  };
  afterTurn();

  const rl = createInterface({ input: io.stdin, ...(tty ? { output: io.stdout, prompt: "you: " } : {}), terminal: tty });
  if (tty) rl.prompt();
  try {
    for await (const line of rl) {
      if (!tty) out(`you: ${line}`);
      const quit = await handleLine(line, conversation, out);
      if (quit) break;
      afterTurn();
      if (tty) rl.prompt();
    }
  } finally {
    rl.close();
  }
  return EXIT_OK;
}

/** Runs one input line; true when the user asked to quit. */
async function handleLine(line: string, conversation: LocalConversation, out: (line?: string) => void): Promise<boolean> {
  // "//text" sends "/text" to the bot; anything else starting with "/" is a chat command.
  if (!line.startsWith("/") || line.startsWith("//")) {
    await conversation.text(line.startsWith("//") ? line.slice(1) : line);
    return false;
  }
  const [command, ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(" ");
  switch (command) {
    case "/quit":
    case "/exit":
      return true;
    case "/help":
      out(commandHelp());
      return false;
    case "/vars":
      out(`variables: ${formatVariables(conversation.state?.vars ?? {})}`);
      return false;
    case "/restart":
      await conversation.start();
      return false;
    case "/wait": {
      if (!/^[0-9]+(ms|s|m|h|d)?$/.test(arg)) {
        out("usage: /wait DURATION, e.g. /wait 90s, /wait 24h (a bare number is seconds)");
        return false;
      }
      out(`… ${arg} pass …`);
      await conversation.wait(durationMs(/^[0-9]+$/.test(arg) ? Number(arg) : arg));
      return false;
    }
    case "/tap": {
      const prompt = conversation.openPrompt;
      const n = /^[0-9]+$/.test(arg) ? Number(arg) : Number.NaN;
      if (!prompt || prompt.buttons.length === 0) {
        out(prompt ? "the open question has no buttons; type your answer" : "no question is open; /restart to start again");
      } else if (!(n >= 1 && n <= prompt.buttons.length)) {
        out(`usage: /tap N with N from 1 to ${prompt.buttons.length}`);
      } else {
        await conversation.tap(prompt.promptId, n - 1);
      }
      return false;
    }
    default:
      out(`unknown chat command ${command}; /help lists them (start a message with // to send a literal "/")`);
      return false;
  }
}
