/**
 * The Telegram channel on grammY. Updates come in through `bot.handleUpdate` (from the webhook
 * route, or from @grammyjs/runner in polling mode) and become InboundEvents for the runtime;
 * the runtime's effects go out as Bot API calls: `sendMessage` with an inline keyboard,
 * `answerCallbackQuery` first on a tap, then `editMessageReplyMarkup` to close the keyboard.
 * Outgoing calls retry on 429 (`retry_after`) and 5xx through @grammyjs/auto-retry, per call, so a
 * rate-limited chat never holds up another one.
 *
 * Proactive (the trigger API): `proactive.resolve` takes a chat id; the first message of such a
 * dialogue goes out on a second Api client whose auto-retry waits out only a short retry_after
 * (PROACTIVE_MAX_DELAY_SECONDS) and no 5xx or network error, so a 429 surfaces as a retryable
 * ChannelError with `retryAfterMs` and the trigger's outbox paces the sends instead of a request
 * sleeping; a chat that blocked the bot or does not exist is a ChannelError with `recipient`.
 *
 * @example
 * const telegram = new TelegramChannel({ token, mode: "webhook" });
 * await telegram.start((event) => runtime.handle(event)); // getMe; in polling mode also starts the runner
 * await telegram.handleUpdate(update); // from POST /telegram/webhook
 */
import { autoRetry } from "@grammyjs/auto-retry";
import { run, sequentialize, type RunnerHandle } from "@grammyjs/runner";
import { Api, Bot, GrammyError, type Context } from "grammy";
import type { Update, UserFromGetMe } from "grammy/types";
import { TELEGRAM_LIMITS } from "./capabilities.ts";
import { ChannelError, ConfigError, errorSummary } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import type { Channel, EventHandler, ParseResult, ProactiveCapability, VisibleEffect } from "../port.ts";
import { isProactiveStart } from "../port.ts";
import { decodeCallbackData } from "./callback-data.ts";
import { isPermanent, statusOf, unwrap } from "./errors.ts";
import { isGroupChat, parseConversation } from "./group-chat.ts";
import { isForeignTap, parseUpdate, TELEGRAM, type ParseOptions } from "./inbound.ts";
import { PromptMessages } from "./prompt-messages.ts";
import { proactiveSendError, resolveChat } from "./proactive.ts";
import type { ChannelStorage } from "../storage/channel-storage.ts";
import { MemoryChannelStorage } from "../storage/memory-channel-storage.ts";
import { DEFAULT_TELEGRAM_API_ROOT, TELEGRAM_MESSAGES_PER_SECOND } from "./telegram-config.ts";
import { closedKeyboard, inlineKeyboard, labelsOf, telegramText } from "./render.ts";
import { InFlight } from "../in-flight.ts";
import { retry } from "../retry.ts";
import { perSecondBucket } from "../rate-limit/rate-config.ts";
import type { RateLimitKey } from "../rate-limit/token-bucket.ts";

export { TELEGRAM } from "./inbound.ts";

/** Longest retry_after a proactive first message waits out in its request; longer ones go back to the caller's pacing. */
export const PROACTIVE_MAX_DELAY_SECONDS = 2;

export { TELEGRAM_LIMITS } from "./capabilities.ts";

/** What a tap on a keyboard whose question is over is answered. */
export const CLOSED_NOTICE = "This survey is closed";
/** What a tap in a group on another member's question is answered; it changes nothing. */
export const FOREIGN_NOTICE = "This survey is for someone else";
const UNKNOWN_BUTTON_NOTICE = "This button is not part of the question";
/** Private chats only: in a group the bot never speaks unless addressed, and a reply with no survey open is left unanswered. */
const IDLE_HINT = "Send /start to begin.";

export interface TelegramOptions {
  /** The BotFather token. Secret: never logged, never put in an error. */
  token: string;
  /** Bot API root; default Telegram's own. A local Bot API server, or a test's fake one, works the same. */
  apiRoot?: string;
  mode: "webhook" | "polling";
  logger?: Logger;
  /** The scenario a plain `/start` runs on this channel; default the runtime's. */
  scenarioId?: string;
  /** The bot's getMe answer, when known: `start` then makes no call (benchmarks). */
  botInfo?: UserFromGetMe;
  /** Replaces the HTTP client's fetch (benchmarks mock the Bot API there). */
  fetch?: unknown;
  /** Longest `retry_after` honoured, and retries per call, before a call fails (the update is then redelivered). */
  maxRetryDelaySeconds?: number;
  maxRetryAttempts?: number;
  /** Polling mode: attempts per update before it is logged and dropped (a webhook is redelivered instead). */
  pollingAttempts?: number;
  /** Where the message of each open keyboard is kept (Redis in production: any process can close it); default this process's memory. */
  storage?: ChannelStorage;
  /** Polling mode: the pause between attempts (tests inject one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** The bot's pace (TELEGRAM_MESSAGES_PER_SECOND, default Telegram's 30 a second); each chat is held to 1 a second. */
  messagesPerSecond?: number;
}

/** Telegram's limit in one chat: about 1 message a second. */
const TELEGRAM_CHAT_MESSAGES_PER_SECOND = 1;
/** And in a group: 20 messages a minute, whichever members' surveys they belong to. */
const TELEGRAM_GROUP_MESSAGES_PER_SECOND = 20 / 60;

/** The tap being handled, so `deliver` answers its query first and edits the message it came from. */
interface Turn {
  /** The conversation the tap's event is for (group-chat.ts: a group member's is `<chat>:<user>`). */
  conversationId: string;
  queryId: string;
  promptId: string | undefined;
  messageId: number | undefined;
  labels: string[];
  answered: boolean;
}

export class TelegramChannel implements Channel<Update> {
  readonly name = TELEGRAM;
  readonly limits = TELEGRAM_LIMITS;
  readonly mode: "webhook" | "polling";
  private readonly bot: Bot;
  /** The same bot, for first messages nobody asked for: no long waits inside the request. */
  private readonly proactiveApi: Api;
  private readonly log: Logger;
  private readonly messagesPerSecond: number;
  private readonly prompts: PromptMessages;
  // The tap behind each event (by identity), for `deliver`: answer its query, edit its message.
  private readonly turns = new WeakMap<InboundEvent, Turn>();
  // In a group, the member's message behind each event (by identity): the reply quotes it, so the chat sees whose survey it is.
  private readonly replyTargets = new WeakMap<InboundEvent, number>();
  /** Updates being processed, so close() can wait for them (the webhook route counts its calls here too). */
  readonly inflight = new InFlight();
  private readonly parseOptions: ParseOptions;
  private readonly pollingAttempts: number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  private handler: EventHandler | undefined;
  private runner: RunnerHandle | undefined;
  private closing = false;

  constructor(options: TelegramOptions) {
    this.mode = options.mode;
    this.log = options.logger ?? silentLogger;
    this.messagesPerSecond = options.messagesPerSecond ?? TELEGRAM_MESSAGES_PER_SECOND;
    this.pollingAttempts = options.pollingAttempts ?? 5;
    this.sleep = options.sleep;
    this.prompts = new PromptMessages((options.storage ?? new MemoryChannelStorage()).scope("prompt:"));
    const client: NonNullable<ConstructorParameters<typeof Bot>[1]>["client"] = { apiRoot: options.apiRoot ?? DEFAULT_TELEGRAM_API_ROOT };
    if (options.fetch !== undefined) (client as { fetch?: unknown }).fetch = options.fetch;
    this.bot = new Bot(options.token, { client, ...(options.botInfo ? { botInfo: options.botInfo } : {}) });
    this.bot.api.config.use(autoRetry({ maxRetryAttempts: options.maxRetryAttempts ?? 4, maxDelaySeconds: options.maxRetryDelaySeconds ?? 30 }));
    this.proactiveApi = new Api(options.token, client);
    this.proactiveApi.config.use(autoRetry({ maxRetryAttempts: 1, maxDelaySeconds: PROACTIVE_MAX_DELAY_SECONDS, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
    // The token's numeric prefix is the bot's user id (public): conversations are kept per bot.
    const botId = /^([0-9]+):/.exec(options.token)?.[1];
    this.parseOptions = { ...(botId ? { botId } : {}), ...(options.scenarioId ? { scenarioId: options.scenarioId } : {}) };
    if (this.mode === "polling") {
      // The runner fetches in batches and runs updates concurrently: one chat's updates stay in order.
      this.bot.use(sequentialize((ctx: Context) => (ctx.chat ? String(ctx.chat.id) : undefined)));
      this.bot.catch((err) => this.log.error({ channel: TELEGRAM, err: errorSummary(err.error) }, "telegram update failed after retries; it is dropped"));
    }
    this.bot.use((ctx) => this.onUpdate(ctx));
  }

  /**
   * Takes the handler (the runtime), checks the token with getMe (unless botInfo was given) and,
   * in polling mode, starts the runner. In webhook mode updates come through `handleUpdate`.
   */
  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
    try {
      await this.bot.init();
    } catch (err) {
      const e = errorSummary(err);
      if (e.status === 401 || e.status === 404) {
        throw new ConfigError(`the Telegram Bot API refused TELEGRAM_BOT_TOKEN (${e.status} ${e.message}): copy the token again from @BotFather, or check TELEGRAM_API_ROOT`);
      }
      throw new ConfigError(`cannot reach the Telegram Bot API to check the bot (${e.message}): check TELEGRAM_API_ROOT and the network`);
    }
    this.parseOptions.username = this.bot.botInfo.username;
    if (this.mode === "polling") {
      // getUpdates is refused (409) while a webhook is set; polling is what this process was asked to do.
      await this.bot.api.deleteWebhook();
      this.runner = run(this.bot, { runner: { fetch: { allowed_updates: ["message", "callback_query"] } } });
    }
    this.log.info({ channel: TELEGRAM, mode: this.mode, bot: this.bot.botInfo.username }, "telegram channel started");
  }

  get isClosing(): boolean {
    return this.closing;
  }

  parseInbound(input: Update): ParseResult {
    return parseUpdate(input, this.parseOptions);
  }

  /** `to` is a private chat's id or a group member's `<group>:<user>`; the ref is the one their answers produce (see proactive.ts). */
  readonly proactive: ProactiveCapability = {
    resolve: async (request) => resolveChat(request, this.parseOptions.botId),
  };

  /** The bot's bucket and the chat's, which a group's members share (Telegram's limits, or TELEGRAM_MESSAGES_PER_SECOND for the bot's). */
  pacing(ref: ConversationRef): readonly RateLimitKey[] {
    const bot = `${TELEGRAM}:${this.parseOptions.botId ?? "bot"}`;
    const { chatId, member } = parseConversation(ref.conversationId);
    const perChat = member === undefined ? TELEGRAM_CHAT_MESSAGES_PER_SECOND : TELEGRAM_GROUP_MESSAGES_PER_SECOND;
    return [perSecondBucket(bot, this.messagesPerSecond), perSecondBucket(`${bot}:${chatId}`, perChat)];
  }

  /**
   * Processes one webhook Update through grammY; resolves once its events are saved. Rejects when
   * they could not be (busy conversation, store down, Bot API failing): answer non-2xx so Telegram
   * redelivers; the update_id dedupe makes the redelivery count once.
   */
  async handleUpdate(update: Update): Promise<void> {
    if (this.closing) throw new ChannelError(TELEGRAM, "webhook", "the process is shutting down; Telegram will redeliver", { status: 503, retryable: true });
    try {
      await this.inflight.track(this.bot.handleUpdate(update));
    } catch (err) {
      throw unwrap(err);
    }
  }

  private async onUpdate(ctx: Context): Promise<void> {
    const handler = this.handler;
    if (!handler) throw new Error("TelegramChannel.start(handle) must be called before updates arrive");
    const parsed = parseUpdate(ctx.update, this.parseOptions);
    const events = parsed.ok ? parsed.events : [];
    const cb = ctx.callbackQuery;
    if (!cb) {
      const msg = ctx.message;
      const replyTo = msg && isGroupChat(msg.chat) ? msg.message_id : undefined;
      for (const event of events) {
        if (replyTo !== undefined) this.replyTargets.set(event, replyTo);
        await this.withAttempts(handler, event);
      }
      return;
    }
    const turn: Turn = {
      conversationId: events[0]?.conversationId ?? "",
      queryId: cb.id,
      promptId: decodeCallbackData(cb.data)?.promptId,
      messageId: cb.message?.message_id,
      labels: labelsOf(cb.message?.reply_markup),
      answered: false,
    };
    // Another member's question: said so, and the runtime never sees the tap (parseUpdate gave no event).
    if (isForeignTap(ctx.update)) return this.answer(turn, FOREIGN_NOTICE);
    for (const e of events) this.turns.set(e, turn);
    let processed = 0;
    for (const event of events) if ((await this.withAttempts(handler, event)).status === "processed") processed++;
    // A button this channel did not write (or an answer's inert one): closed. A redelivered tap was answered the first time.
    if (!turn.answered && (events.length === 0 || processed > 0)) await this.answer(turn, events.length === 0 ? CLOSED_NOTICE : undefined);
  }

  /** Webhook mode: one attempt (Telegram redelivers). Polling mode: a few, since nobody else will. */
  private withAttempts(handler: EventHandler, event: InboundEvent): ReturnType<EventHandler> {
    if (this.mode === "webhook") return handler(event);
    return retry(() => handler(event), {
      attempts: this.pollingAttempts,
      baseMs: 250,
      capMs: 4_000,
      stopped: () => this.closing,
      onRetry: (err, attempt) => this.log.warn({ channel: TELEGRAM, attempt, err: errorSummary(err) }, "telegram update failed; retrying"),
      ...(this.sleep ? { sleep: this.sleep } : {}),
    });
  }

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent): Promise<void> {
    const conversationId = ref.conversationId;
    const current = cause ? this.turns.get(cause) : undefined;
    const turn = current && current.conversationId === conversationId ? current : undefined;
    // Only the turn's first message quotes the member's; the rest follow it.
    let replyTo = cause ? this.replyTargets.get(cause) : undefined;
    // A trigger's first message: failures go back to the trigger (recipient, retry_after), never swallowed.
    const proactive = isProactiveStart(cause);
    // The client shows a spinner on the tapped button until the query is answered: answer first.
    if (turn && !turn.answered) await this.answer(turn, noticeFor(effects));
    for (const e of effects) {
      switch (e.type) {
        case "send":
          await this.send(conversationId, e.message, proactive, replyTo);
          replyTo = undefined;
          break;
        case "close":
          await this.closeKeyboard(conversationId, e.promptId, e.answer?.label, turn);
          break;
        case "ignored":
          // A private chat with no survey learns how to begin; a group member's addressed message with none open
          // (a reply to the bot's old question or thanks, often meant for the others) is left unanswered.
          if (!turn && e.reason === "no_dialogue" && e.promptId === undefined && parseConversation(conversationId).member === undefined) {
            await this.send(conversationId, { text: IDLE_HINT });
          }
          break;
      }
    }
  }

  /** Sends `message` to the conversation's chat; `replyTo` quotes that message (a group member's), and is sent without it if it is gone. */
  private async send(conversationId: string, message: { text: string } & Parameters<typeof inlineKeyboard>[0], proactive = false, replyTo?: number): Promise<void> {
    const { chatId, member } = parseConversation(conversationId);
    const keyboard = inlineKeyboard(message, member);
    const api = proactive ? this.proactiveApi : this.bot.api;
    const other: Parameters<Api["sendMessage"]>[2] = {};
    if (keyboard) other.reply_markup = keyboard;
    if (replyTo !== undefined) other.reply_parameters = { message_id: replyTo, allow_sending_without_reply: true };
    try {
      // Plain text, no parse_mode: nothing in a scenario's text can break the message.
      const sent = await api.sendMessage(toChatId(chatId), telegramText(message.text), other);
      if (keyboard && message.promptId !== undefined) {
        await this.prompts.remember(conversationId, { promptId: message.promptId, messageId: sent.message_id, freeText: message.expectsText === true });
      }
    } catch (err) {
      if (proactive) throw proactiveSendError(err);
      // A chat that blocked the bot or no longer exists will not become reachable by redelivery.
      if (!isPermanent(err)) throw new ChannelError(TELEGRAM, "sendMessage", errorSummary(err).message, { ...statusOf(err), retryable: true, cause: err });
      this.log.warn({ channel: TELEGRAM, conversation: chatId, err: errorSummary(err) }, "telegram refused a message to this chat; it was not sent");
    }
  }

  private async closeKeyboard(conversationId: string, promptId: string, answerLabel: string | undefined, turn: Turn | undefined): Promise<void> {
    const { chatId } = parseConversation(conversationId);
    const stored = await this.prompts.take(conversationId, promptId);
    const fromTap = turn && turn.promptId === promptId && turn.messageId !== undefined ? turn : undefined;
    const messageId = fromTap?.messageId ?? stored?.messageId;
    if (messageId === undefined) return;
    // A tap's answer is one of its message's buttons; a typed one is a button unless the prompt takes free text
    // (where typing the skip button's label also lands here: shown as plain removal, which is fine).
    const isButton = fromTap ? answerLabel !== undefined && fromTap.labels.includes(answerLabel) : stored?.freeText === false;
    const markup = closedKeyboard(answerLabel, isButton);
    try {
      await this.bot.api.editMessageReplyMarkup(toChatId(chatId), messageId, { reply_markup: markup });
    } catch (err) {
      // "message is not modified" or "message to edit not found": the keyboard is gone either way.
      if (!isPermanent(err)) throw new ChannelError(TELEGRAM, "editMessageReplyMarkup", errorSummary(err).message, { ...statusOf(err), retryable: true, cause: err });
      this.log.debug({ channel: TELEGRAM, conversation: chatId, err: errorSummary(err) }, "telegram did not edit a closed prompt's keyboard");
    }
  }

  private async answer(turn: Turn, text: string | undefined): Promise<void> {
    turn.answered = true;
    try {
      await this.bot.api.answerCallbackQuery(turn.queryId, text !== undefined ? { text } : {});
    } catch (err) {
      // A query older than ~15 minutes cannot be answered any more; the tap itself still counts.
      if (!(unwrap(err) instanceof GrammyError)) throw err;
      this.log.debug({ channel: TELEGRAM, err: errorSummary(err) }, "telegram callback query could not be answered");
    }
  }

  /** Stops polling, waits for the updates in flight. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.runner?.isRunning()) await this.runner.stop();
    await this.inflight.drain();
    this.log.info({ channel: TELEGRAM }, "telegram channel closed");
  }
}

/** What a tap is answered with: the closed notice for a stale tap, nothing (just stop the spinner) otherwise. */
function noticeFor(effects: readonly VisibleEffect[]): string | undefined {
  for (const e of effects) {
    if (e.type === "ignored") return e.reason === "unknown_button" ? UNKNOWN_BUTTON_NOTICE : CLOSED_NOTICE;
  }
  return undefined;
}

/** Chat ids are integers up to 52 bits; sent as numbers, as Telegram documents them. */
function toChatId(id: string): number | string {
  return /^-?[0-9]{1,16}$/.test(id) ? Number(id) : id;
}
