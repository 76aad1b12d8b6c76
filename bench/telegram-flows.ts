/**
 * The CSAT survey on Telegram, written the ways bench/telegram-channel.ts compares, all driven
 * through grammY's `bot.handleUpdate` with the Bot API mocked at the HTTP client's `fetch`:
 * - **botflow**: the real TelegramChannel (grammY + auto-retry) and Runtime (MemoryStateStore,
 *   statistic__set queuing to a counting queue);
 * - **session**: a hand-written grammY handler keeping each chat's step in `session()`;
 * - **conversations**: the same survey as one `@grammyjs/conversations` function (replayed on
 *   every update), what a grammY user would pick instead.
 * All make exactly the same Bot API calls; `telegram-bench.test.ts` checks it.
 */
import { autoRetry } from "@grammyjs/auto-retry";
import { conversations, createConversation, type Conversation, type ConversationFlavor } from "@grammyjs/conversations";
import { Bot, session, type Context, type SessionFlavor } from "grammy";
import type { InlineKeyboardMarkup, Update, UserFromGetMe } from "grammy/types";
import { ActionRegistry } from "../actions/registry.ts";
import { statisticSetAction } from "../actions/statistic-set.ts";
import { visibleEffects } from "../channels/port.ts";
import { TelegramChannel } from "../channels/telegram/telegram-channel.ts";
import { loadScenarioText } from "../engine/loader.ts";
import { ScenarioRegistry } from "../engine/registry.ts";
import { Runtime } from "../engine/runtime.ts";
import type { LoadedScenario } from "../engine/scenario.ts";
import { MemoryStateStore } from "../engine/state/memory-store.ts";
import type { ConversationRef, Effect, InboundEvent } from "../engine/types.ts";

export const BENCH_TOKEN = "7012345678:AAE-bench_Token_0123456789abcdef";
export const BOT_INFO: UserFromGetMe = {
  id: 7012345678,
  is_bot: true,
  first_name: "Botflow Bench",
  username: "botflow_bench_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
} as UserFromGetMe;

const RATING = (step: number, steps: number) =>
  steps === 1 ? "Please rate the quality of service from 1 (very dissatisfied) to 5 (very satisfied)." : `Question ${step + 1} of ${steps}: please rate from 1 to 5.`;
const COMMENT = "Thank you! Would you like to add a comment to your rating?";
const THANKS = "Thank you for your feedback!";
const LABELS = ["1", "2", "3", "4", "5", "Skip"];
const RETRY = { maxRetryAttempts: 4, maxDelaySeconds: 30 };

/** The survey as a scenario: `steps` rating questions (1–5 and Skip), a comment, statistic__set, thanks. */
export function surveyScenario(steps: number): LoadedScenario {
  const blocks: string[] = [];
  for (let k = 0; k < steps; k++) {
    const next = k + 1 < steps ? `q${k + 1}` : "ask_comment";
    blocks.push(
      `  q${k}:\n    type: message_with_keyboard\n    text: "${RATING(k, steps)}"\n` +
        `    buttons: [${[1, 2, 3, 4, 5].map((v) => `{ label: "${v}", value: ${v} }`).join(", ")}]\n` +
        `    save_to: ${k + 1 === steps ? "quality_answer" : `answer_${k}`}\n    skip: { label: Skip, next: ${next} }\n    next: ${next}`,
    );
  }
  const text = [
    `id: survey_${steps}`,
    "locale: en",
    "start: q0",
    "blocks:",
    ...blocks,
    `  ask_comment:\n    type: wait_for_response\n    text: "${COMMENT}"\n    save_to: quality_comment\n    skip: { label: No comment, next: save }\n    next: save`,
    "  save:\n    type: action\n    action: statistic__set\n    config: { type: quality }\n    next: thanks",
    `  thanks:\n    type: end\n    text: "${THANKS}"`,
  ].join("\n");
  const specs = new ActionRegistry().register(statisticSetAction({ add: async () => {}, close: async () => {} })).specs();
  const result = loadScenarioText(text, `survey-${steps}.yaml`, { actions: specs });
  if (!result.scenario) throw new Error(`bench scenario does not load: ${result.problems.map((p) => p.message).join("; ")}`);
  return result.scenario;
}

/** One Bot API call as the mock saw it. */
export interface ApiCall {
  method: string;
  body: string;
}

/** The Bot API at grammY's `fetch`: answers like Telegram, remembers each chat's last keyboard message. */
export class MockBotApi {
  readonly calls: ApiCall[] | undefined;
  count = 0;
  private messageId = 0;
  /** chat id → [message_id, reply_markup] of the last message with a keyboard. */
  readonly lastKeyboard = new Map<number, [number, InlineKeyboardMarkup]>();

  constructor(record: boolean) {
    this.calls = record ? [] : undefined;
  }

  readonly fetch = async (url: string, init: { body: string }): Promise<{ json(): Promise<unknown> }> => {
    const method = url.slice(url.lastIndexOf("/") + 1);
    this.count++;
    this.calls?.push({ method, body: init.body });
    let result: unknown = true;
    if (method === "sendMessage") {
      const p = JSON.parse(init.body) as { chat_id: number; text: string; reply_markup?: InlineKeyboardMarkup };
      const id = ++this.messageId;
      if (p.reply_markup) this.lastKeyboard.set(p.chat_id, [id, p.reply_markup]);
      else this.lastKeyboard.delete(p.chat_id);
      result = { message_id: id, date: 1764230400, chat: { id: p.chat_id, type: "private" }, text: p.text };
    }
    const body = { ok: true, result };
    return { json: async () => body };
  };
}

export interface SurveyBot {
  readonly name: "botflow" | "session" | "conversations";
  handleUpdate(update: Update): Promise<void>;
  readonly api: MockBotApi;
  /** Surveys finished (queued for statistics). */
  surveys(): number;
}

/** botflow: TelegramChannel + Runtime, as `botflow serve` wires them (no HTTP). */
export function createBotflowBot(scenario: LoadedScenario, record = false): SurveyBot {
  const api = new MockBotApi(record);
  let surveys = 0;
  const actions = new ActionRegistry().register(statisticSetAction({ add: async () => void surveys++, close: async () => {} }));
  const scenarios = new ScenarioRegistry();
  scenarios.add(scenario);
  const channel = new TelegramChannel({ token: BENCH_TOKEN, mode: "webhook", botInfo: BOT_INFO, fetch: api.fetch });
  const delivery = { deliver: (ref: ConversationRef, effects: readonly Effect[], cause?: InboundEvent) => channel.deliver(ref, visibleEffects(effects), cause) };
  const runtime = new Runtime({ scenarios, store: new MemoryStateStore(), delivery, actions, defaultScenarioId: scenario.id });
  // botInfo is given, so start makes no call: it only takes the handler.
  void channel.start((event) => runtime.handle(event));
  return { name: "botflow", api, handleUpdate: (u) => channel.handleUpdate(u), surveys: () => surveys };
}

interface SurveySession {
  seq: number;
  /** Question being asked (0…steps-1), `steps` for the comment, -1 for none. */
  step: number;
  promptId: string;
  messageId: number;
  answers: number[];
}

/** A hand-written grammY bot: one session object per chat, a switch on its step. */
export function createSessionBot(steps: number, record = false): SurveyBot {
  type Ctx = Context & SessionFlavor<SurveySession>;
  const api = new MockBotApi(record);
  let surveys = 0;
  const bot = new Bot<Ctx>(BENCH_TOKEN, { botInfo: BOT_INFO, client: { fetch: api.fetch as never } });
  bot.api.config.use(autoRetry(RETRY));
  bot.use(session({ initial: (): SurveySession => ({ seq: 0, step: -1, promptId: "", messageId: 0, answers: [] }) }));

  const ask = async (ctx: Ctx, chat: number, step: number) => {
    const s = ctx.session;
    const promptId = `p${++s.seq}`;
    const sent = await ctx.api.sendMessage(chat, step < steps ? RATING(step, steps) : COMMENT, { reply_markup: surveyKeyboard(promptId, step, steps) });
    Object.assign(s, { step, promptId, messageId: sent.message_id });
  };
  const finish = async (ctx: Ctx, chat: number) => {
    surveys++;
    ctx.session.step = -1;
    await ctx.api.sendMessage(chat, THANKS);
  };

  bot.command("start", async (ctx) => {
    ctx.session.answers = [];
    await ask(ctx, ctx.chat.id, 0);
  });
  bot.on("callback_query:data", async (ctx) => {
    const s = ctx.session;
    const chat = ctx.chat?.id;
    const [promptId, index] = ctx.callbackQuery.data.split(":");
    const i = Number(index);
    if (chat === undefined || s.step < 0 || promptId !== s.promptId || !(i < (s.step < steps ? LABELS.length : 1))) {
      await ctx.answerCallbackQuery({ text: "This survey is closed" });
      return;
    }
    await ctx.answerCallbackQuery();
    const label = s.step < steps ? (LABELS[i] as string) : "No comment";
    await ctx.api.editMessageReplyMarkup(chat, s.messageId, { reply_markup: { inline_keyboard: [[{ text: `✓ ${label}`, callback_data: "-" }]] } });
    if (s.step === steps) return finish(ctx, chat);
    if (i < 5) s.answers.push(i + 1);
    await ask(ctx, chat, s.step + 1);
  });
  bot.on("message:text", async (ctx) => {
    const s = ctx.session;
    if (s.step !== steps) return;
    await ctx.api.editMessageReplyMarkup(ctx.chat.id, s.messageId, { reply_markup: { inline_keyboard: [] } });
    await finish(ctx, ctx.chat.id);
  });
  return { name: "session", api, handleUpdate: (u) => bot.handleUpdate(u), surveys: () => surveys };
}

/** The survey's inline keyboard for question `step` (`steps` = the comment prompt), as the other variants send it. */
function surveyKeyboard(promptId: string, step: number, steps: number): InlineKeyboardMarkup {
  const labels = step < steps ? LABELS : ["No comment"];
  const buttons = labels.map((text, i) => ({ text, callback_data: `${promptId}:${i}` }));
  return { inline_keyboard: step < steps ? [buttons.slice(0, 5), buttons.slice(5)] : [buttons] };
}

/**
 * `@grammyjs/conversations`: the survey as one function the plugin replays on every update of the
 * chat. Calls made inside it go through the conversation's own Api, which does not carry
 * `bot.api.config.use` transformers: auto-retry is installed there with the `plugins` option.
 */
export function createConversationsBot(steps: number, record = false): SurveyBot {
  type Outer = ConversationFlavor<Context>;
  const api = new MockBotApi(record);
  let surveys = 0;
  const bot = new Bot<Outer>(BENCH_TOKEN, { botInfo: BOT_INFO, client: { fetch: api.fetch as never } });
  bot.api.config.use(autoRetry(RETRY));
  const withRetry = async (ctx: Context, next: () => Promise<void>) => {
    ctx.api.config.use(autoRetry(RETRY));
    await next();
  };
  bot.use(conversations<Outer, Context>({ plugins: [withRetry] }));

  async function survey(conversation: Conversation<Outer, Context>, ctx: Context): Promise<void> {
    const chat = ctx.chat?.id;
    if (chat === undefined) return;
    let seq = 0;
    for (let step = 0; step <= steps; step++) {
      const promptId = `p${++seq}`;
      const sent = await ctx.api.sendMessage(chat, step < steps ? RATING(step, steps) : COMMENT, { reply_markup: surveyKeyboard(promptId, step, steps) });
      for (;;) {
        const reply = await conversation.waitFor(step < steps ? "callback_query:data" : ["callback_query:data", "message:text"]);
        const data = reply.callbackQuery?.data;
        if (data === undefined) {
          // A typed comment: the "No comment" keyboard goes away.
          await reply.api.editMessageReplyMarkup(chat, sent.message_id, { reply_markup: { inline_keyboard: [] } });
          break;
        }
        const [tapped, index] = data.split(":");
        const i = Number(index);
        if (tapped !== promptId || !(i < (step < steps ? LABELS.length : 1))) {
          await reply.answerCallbackQuery({ text: "This survey is closed" });
          continue;
        }
        await reply.answerCallbackQuery();
        const label = step < steps ? (LABELS[i] as string) : "No comment";
        await reply.api.editMessageReplyMarkup(chat, sent.message_id, { reply_markup: { inline_keyboard: [[{ text: `✓ ${label}`, callback_data: "-" }]] } });
        break;
      }
    }
    await conversation.external(() => void surveys++);
    await ctx.api.sendMessage(chat, THANKS);
  }
  bot.use(createConversation(survey, "survey"));
  bot.command("start", async (ctx) => {
    await ctx.conversation.exitAll();
    await ctx.conversation.enter("survey");
  });
  // A tap on a keyboard no running survey owns (the survey ended, the process restarted).
  bot.on("callback_query:data", (ctx) => ctx.answerCallbackQuery({ text: "This survey is closed" }));
  return { name: "conversations", api, handleUpdate: (u) => bot.handleUpdate(u), surveys: () => surveys };
}

/** The Updates of one chat's survey, built from what the bot sent it (taps need the keyboard's message). */
export class ChatDriver {
  /** Updates of this chat so far: ids are derived from the chat, so every variant gets the same ones. */
  private n = 0;
  constructor(readonly chat: number) {}

  private nextId(): number {
    return this.chat * 100 + ++this.n;
  }

  start(): Update {
    return { update_id: this.nextId(), message: { message_id: 1, date: 1764230400, chat: this.privateChat(), from: this.user(), text: "/start", entities: [{ offset: 0, length: 6, type: "bot_command" }] } } as Update;
  }

  /** A tap on button `index` of the keyboard the chat was sent last. */
  tap(api: MockBotApi, index: number): Update {
    const last = api.lastKeyboard.get(this.chat);
    if (!last) throw new Error(`chat ${this.chat} has no keyboard to tap`);
    const [messageId, markup] = last;
    const button = markup.inline_keyboard.flat()[index];
    const data = button && "callback_data" in button ? button.callback_data : "";
    const updateId = this.nextId();
    return {
      update_id: updateId,
      callback_query: {
        id: `q${updateId}`,
        from: this.user(),
        chat_instance: "-6213493581834524021",
        data,
        message: { message_id: messageId, date: 1764230401, chat: this.privateChat(), from: BOT_INFO, text: "…", reply_markup: markup },
      },
    } as Update;
  }

  text(text: string): Update {
    return { update_id: this.nextId(), message: { message_id: 2, date: 1764230402, chat: this.privateChat(), from: this.user(), text } } as Update;
  }

  private user() {
    return { id: this.chat, is_bot: false, first_name: "Ada", language_code: "en" };
  }

  private privateChat() {
    return { id: this.chat, type: "private" as const, first_name: "Ada" };
  }
}

/** One chat's whole survey: /start, a tap per question (rating `1 + chat % 5`), a typed comment. */
export async function playChat(bot: SurveyBot, chat: number, steps: number): Promise<number> {
  const d = new ChatDriver(chat);
  await bot.handleUpdate(d.start());
  for (let k = 0; k < steps; k++) await bot.handleUpdate(d.tap(bot.api, chat % 5));
  await bot.handleUpdate(d.text(`Comment ${chat}`));
  return steps + 2;
}
