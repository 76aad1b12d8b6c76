/**
 * The WhatsApp Web channel on whatsapp-web.js: a logged-in WhatsApp account (a phone's, linked
 * as a device by scanning a QR) receives messages and poll votes, and the runtime's effects go
 * back as numbered text prompts and, when enabled, polls.
 *
 * The client lives behind WebClientPort, and its lifecycle follows whatsapp-web.js's own state
 * machine (Client.js): where the library recovers by itself, the channel waits; only where it
 * gives up is the client replaced by a fresh one, with exponential backoff.
 *
 * | the library | what it does itself | the channel |
 * |---|---|---|
 * | `disconnected("LOGOUT")` (the phone removed the device) | clears the saved login, re-injects the same page, emits a new `qr` | keeps the client and waits for the QR; replaces it only if none comes within `recoverMs` |
 * | `disconnected("CONFLICT")` (another process opened this session) | destroys the client | stands down (state `conflict`): no reconnect, which would take the session back and start a tug of war; the shared session stays in Redis (shared-session-guard.ts) |
 * | `disconnected(other)` (UNPAIRED, TOS_BLOCK, …) | destroys the client | replaces it after the backoff pause |
 * | `initialize()` rejects (no Chromium, …) | nothing | replaces it after the backoff pause |
 *
 * Unlike a webhook, nothing redelivers a message this
 * process failed to save, so a failed `handle` is retried a few times here before it is logged
 * as lost. Which prompt a poll stands for is kept in ChannelStorage (Redis in production), so a
 * vote maps to its prompt whichever client instance hears it, and after a restart.
 *
 * Proactive (the trigger API): `to` is `<number>@c.us`; it resolves only while the client is
 * logged in (else 422 not_allowed) and when the client says the number is on WhatsApp (else 404).
 * The first message is sent like any other; a client not logged in by then is a retryable
 * ChannelError, so the trigger's outbox tries again later.
 */
import { ChannelError, errorSummary } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import type { Channel, EventHandler, ParseResult, ProactiveCapability, ProactiveTarget, VisibleEffect } from "../port.ts";
import { isProactiveStart } from "../port.ts";
import { WHATSAPP_WEB_LIMITS } from "./capabilities.ts";
import { renderEffects, WHATSAPP_WEB } from "./render.ts";
import type { WebClientFactory, WebClientPort, WebMessage, WebPollVote } from "./web-client-port.ts";
import { InFlight } from "../in-flight.ts";
import { perSecondBucket } from "../rate-limit/rate-config.ts";
import type { RateLimitKey } from "../rate-limit/token-bucket.ts";
import { WHATSAPP_WEB_MESSAGES_PER_SECOND } from "./web-config.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import { backoffMs, defaultSleep, retry } from "../retry.ts";
import { DEFAULT_CHANNEL_TTL_MS, type ChannelStorage } from "../storage/channel-storage.ts";
import { MemoryChannelStorage } from "../storage/memory-channel-storage.ts";

/** One event of the client, as the channel parses it; a vote comes with the poll it is for, when that is known. */
export type WebInbound = { kind: "message"; message: WebMessage } | { kind: "vote"; vote: WebPollVote; poll?: PollRef };

/**
 * Where the login stands. `conflict`: another process runs this WhatsApp session, so this one
 * stood down (restart it to take the session back). There is no `auth_failure`: whatsapp-web.js
 * emits it only for a strategy whose `onAuthenticationNeeded` reports a failure, and neither
 * LocalAuth nor RemoteAuth ever does (a session that cannot be restored just shows a QR).
 */
export type WebLoginState = "starting" | "qr" | "ready" | "disconnected" | "conflict" | "closed";

export interface WhatsappWebOptions {
  createClient: WebClientFactory;
  /** Also send each question as a poll. */
  polls?: boolean;
  /** The scenario a first message starts on this channel; default the runtime's. */
  scenarioId?: string;
  /** Where the prompt of each poll is kept (Redis in production: a vote counts whichever client instance hears it); default this process's memory. */
  storage?: ChannelStorage;
  logger?: Logger;
  /** Shows a login QR to whoever watches the terminal (real wiring: qrcode-terminal on stderr). */
  printQr?: (qr: string) => void;
  /**
   * After a LOGOUT, how long whatsapp-web.js has to show the new QR on the same page before the
   * client is taken for dead and replaced (default 60 s: its re-injection waits up to 30 s).
   */
  recoverMs?: number;
  /** First reconnect pause, doubling up to `maxReconnectMs` (defaults 2 s and 5 min). */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** Attempts at processing one inbound event (default 3). */
  handleAttempts?: number;
  /** Injected so tests control reconnects and retries without waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** The backoff's jitter draw in [0, 1] (default Math.random); `() => 1` makes each pause its ceiling. */
  random?: () => number;
  /** The account's pace (WHATSAPP_WEB_MESSAGES_PER_SECOND, default 1 a second). */
  messagesPerSecond?: number;
}

/** Message types that carry an answer (text) or at least stand for one (media: no answer). */
const MEDIA_TYPES = new Set(["image", "video", "audio", "ptt", "document", "sticker", "location", "vcard", "multi_vcard", "album"]);
/** A direct chat's id: the number in international format without `+`, then `@c.us`. */
const CHAT_ID = /^[1-9][0-9]{6,14}@c\.us$/;

/** Which prompt a poll stands for, as kept in ChannelStorage under the poll message's id. */
export interface PollRef {
  conversationId: string;
  promptId: string;
  /** localId (the option's position) → button index. */
  buttonIndexes: number[];
}

export class WhatsappWebChannel implements Channel<WebInbound> {
  readonly name = WHATSAPP_WEB;
  readonly limits = WHATSAPP_WEB_LIMITS;
  private client: WebClientPort | undefined;
  private handle: EventHandler | undefined;
  private state: WebLoginState = "starting";
  private qr: string | undefined;
  private failures = 0;
  private closing = false;
  // The wait for whatsapp-web.js's own recovery from a LOGOUT (see connect()).
  private recovery: NodeJS.Timeout | undefined;
  private readonly polls: ChannelStorage;
  private readonly turns = new KeyedQueue();
  private readonly inflight = new InFlight();
  private readonly log: Logger;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: WhatsappWebOptions) {
    this.log = o.logger ?? silentLogger;
    this.sleep = o.sleep ?? defaultSleep;
    this.polls = (o.storage ?? new MemoryChannelStorage({ maxEntries: 10_000 })).scope("poll:");
  }

  /** The login state, and the QR to scan while it is `qr`. */
  status(): { state: WebLoginState; qr?: string } {
    return this.state === "qr" && this.qr !== undefined ? { state: this.state, qr: this.qr } : { state: this.state };
  }

  /** Makes the client and starts it; events go to `handle` (the runtime). Does not wait for the login. */
  async start(handle: EventHandler): Promise<void> {
    this.handle = handle;
    this.connect();
  }

  parseInbound(input: WebInbound): ParseResult {
    const event = input.kind === "message" ? this.fromMessage(input.message) : this.fromVote(input.vote, input.poll);
    return typeof event === "string" ? { ok: false, reason: event } : { ok: true, events: [event] };
  }

  /** The logged-in account's bucket: every chat's messages go out from the one number. */
  pacing(): readonly RateLimitKey[] {
    return [perSecondBucket(`${WHATSAPP_WEB}:account`, this.o.messagesPerSecond ?? WHATSAPP_WEB_MESSAGES_PER_SECOND)];
  }

  /** `to` is `<number>@c.us`; the ref is the one that chat's messages produce (conversation and user: the chat id). */
  readonly proactive: ProactiveCapability = {
    resolve: async ({ to, options }): Promise<ProactiveTarget> => {
      if (!CHAT_ID.test(to)) return { ok: false, status: 422, problem: "unknown_recipient", reason: "`to` is not a WhatsApp chat id: the number in international format without +, then @c.us (380501234567@c.us)" };
      if (options !== undefined && Object.keys(options).length > 0) return { ok: false, status: 422, problem: "invalid_options", reason: "WhatsApp Web takes no channel options" };
      const client = this.client;
      if (!client || this.state !== "ready") return { ok: false, status: 422, problem: "not_allowed", reason: this.notReady() };
      let registered: boolean;
      try {
        registered = await client.isRegisteredUser(to);
      } catch (err) {
        throw new ChannelError(WHATSAPP_WEB, "isRegisteredUser", errorSummary(err).message, { retryable: true, cause: err });
      }
      if (!registered) return { ok: false, status: 404, problem: "unknown_recipient", reason: "this number is not on WhatsApp" };
      return { ok: true, ref: { channel: WHATSAPP_WEB, conversationId: to, userId: to } };
    },
  };

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent): Promise<void> {
    const out = renderEffects(effects, { polls: this.o.polls === true });
    if (out.length === 0) return;
    const chatId = ref.conversationId;
    await this.turn(chatId, async () => {
      const client = this.client;
      if (!client || this.state !== "ready") {
        if (isProactiveStart(cause)) {
          throw new ChannelError(WHATSAPP_WEB, "sendMessage", `${this.notReady()}; a trigger's first message waits for the login`, { retryable: true });
        }
        throw new Error(`${this.notReady()}; the message to a conversation could not be sent`);
      }
      for (const m of out) {
        if (m.kind === "text") {
          await client.sendMessage(chatId, m.text);
          continue;
        }
        const sent = await client.sendMessage(chatId, { poll: { name: m.name, options: m.options } });
        const poll: PollRef = { conversationId: chatId, promptId: m.promptId, buttonIndexes: m.buttonIndexes };
        await this.polls.set(sent.id._serialized, { ...poll, buttonIndexes: [...poll.buttonIndexes] }, DEFAULT_CHANNEL_TTL_MS);
      }
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.recovery);
    await this.inflight.drain();
    const client = this.client;
    this.client = undefined;
    this.state = "closed";
    await client?.destroy().catch((err: unknown) => this.log.warn({ channel: WHATSAPP_WEB, err: errorSummary(err) }, "WhatsApp Web client did not close cleanly"));
    this.log.info({ channel: WHATSAPP_WEB }, "WhatsApp Web channel closed");
  }

  private connect(): void {
    if (this.closing) return;
    const client = this.o.createClient();
    this.client = client;
    this.state = "starting";
    const current = () => this.client === client && !this.closing;
    client.on("qr", (qr) => {
      if (!current()) return;
      clearTimeout(this.recovery);
      this.state = "qr";
      this.qr = qr;
      // The QR itself stays out of the logs: whoever scans it links their account to this bot.
      this.log.warn({ channel: WHATSAPP_WEB }, "WhatsApp Web needs a login: scan the QR printed on the terminal or served at GET /ops/whatsapp/qr with WhatsApp → Linked devices");
      this.o.printQr?.(qr);
    });
    client.on("ready", () => {
      if (!current()) return;
      clearTimeout(this.recovery);
      this.state = "ready";
      this.qr = undefined;
      this.failures = 0;
      this.log.info({ channel: WHATSAPP_WEB }, "WhatsApp Web is logged in and ready");
    });
    client.on("disconnected", (reason) => {
      if (!current()) return;
      const why = String(reason).slice(0, 64);
      if (why === "LOGOUT") {
        // whatsapp-web.js recovers from a logout on the same page (its framenavigated handler:
        // the saved login cleared, the page re-injected, a new QR). Destroying the client here
        // would close the browser under that async handler, whose rejection nobody catches.
        this.state = "disconnected";
        this.log.warn({ channel: WHATSAPP_WEB, reason: why }, "WhatsApp Web was logged out from the phone; whatsapp-web.js shows a new QR on the same page");
        this.awaitRecovery(client);
        return;
      }
      if (why === "CONFLICT") {
        // The library destroys the client itself. Reconnecting would open the session again and
        // take it from the other process, which would then do the same: stand down instead.
        this.state = "conflict";
        this.client = undefined;
        this.log.error(
          { channel: WHATSAPP_WEB, reason: why },
          "WhatsApp Web session taken over by another process (CONFLICT): this process stands down and does not reconnect; the saved session is left for the process that has it. Run one process per account; restart this one to take the session back",
        );
        return;
      }
      // Any other state the library does not accept: it has destroyed the client (gave up).
      this.state = "disconnected";
      this.log.warn({ channel: WHATSAPP_WEB, reason: why }, "WhatsApp Web disconnected: reconnecting");
      this.replace(client);
    });
    client.on("message", (message) => {
      if (current()) this.receive({ kind: "message", message });
    });
    client.on("vote_update", (vote) => {
      if (current()) this.receive({ kind: "vote", vote });
    });
    client.initialize().catch((err: unknown) => {
      if (!current()) return;
      this.state = "disconnected";
      this.log.error({ channel: WHATSAPP_WEB, err: errorSummary(err) }, "WhatsApp Web client did not start (is PUPPETEER_EXECUTABLE_PATH a working Chromium?); retrying");
      this.replace(client);
    });
  }

  /** Waits `recoverMs` for the QR (or a login) whatsapp-web.js brings after a LOGOUT; without one, the client is replaced. */
  private awaitRecovery(client: WebClientPort): void {
    clearTimeout(this.recovery);
    const ms = this.o.recoverMs ?? 60_000;
    this.recovery = setTimeout(() => {
      if (this.client !== client || this.closing || this.state !== "disconnected") return;
      this.log.error({ channel: WHATSAPP_WEB, waitedMs: ms }, "whatsapp-web.js did not show a new QR after the logout; replacing the client");
      this.replace(client);
    }, ms);
    // A pending recovery must not keep a stopping process alive.
    this.recovery.unref();
  }

  /** Why nothing can be sent now, and what to do about it. */
  private notReady(): string {
    if (this.state === "conflict") return "WhatsApp Web stood down: another process runs this WhatsApp session (CONFLICT); restart this one to take it back";
    return `WhatsApp Web is not logged in (state ${this.state}): scan the QR at GET /ops/whatsapp/qr, then try again`;
  }

  /** Destroys `old` and connects a new client after the backoff pause. */
  private replace(old: WebClientPort): void {
    this.failures++;
    const pause = backoffMs(this.failures, { baseMs: this.o.reconnectMs ?? 2_000, capMs: this.o.maxReconnectMs ?? 300_000 }, this.o.random);
    this.client = undefined;
    // Not tracked as in flight: shutdown must not wait out a long pause (connect() checks closing).
    void (async () => {
      await old.destroy().catch(() => {});
      await this.sleep(pause);
      this.connect();
    })();
  }

  /** Processes one client event; the conversation's events run one at a time, in arrival order. */
  private receive(input: WebInbound): void {
    if (input.kind === "vote") {
      // The poll may have been sent by another client instance (or before a restart): look it up first.
      void this.track(
        this.pollOf(input.vote).then(
          (poll) => this.receiveParsed({ ...input, ...(poll ? { poll } : {}) }),
          (err: unknown) => this.log.error({ channel: WHATSAPP_WEB, err: errorSummary(err) }, "WhatsApp Web vote not processed: the channel storage is not reachable"),
        ),
      );
      return;
    }
    this.receiveParsed(input);
  }

  private receiveParsed(input: WebInbound): void {
    const parsed = this.parseInbound(input);
    if (!parsed.ok) {
      this.log.debug({ channel: WHATSAPP_WEB, reason: parsed.reason }, "WhatsApp Web event skipped");
      return;
    }
    for (const event of parsed.events) {
      void this.track(this.turn(`in:${event.conversationId}`, () => this.process(event))).catch(() => {});
    }
  }

  private async process(event: InboundEvent): Promise<void> {
    const attempts = this.o.handleAttempts ?? 3;
    let made = 0;
    try {
      await retry(
        async (n) => {
          made = n;
          await (this.handle as EventHandler)(event);
        },
        { attempts, baseMs: 500, capMs: 8_000, stopped: () => this.closing, sleep: this.sleep, ...(this.o.random ? { random: this.o.random } : {}) },
      );
    } catch (err) {
      this.log.error({ channel: WHATSAPP_WEB, conversation: event.conversationId, err: errorSummary(err) }, `WhatsApp Web ${event.kind} not processed after ${made} attempts; the user has to send it again`);
    }
  }

  private fromMessage(m: WebMessage): InboundEvent | string {
    if (m.fromMe || m.id?.fromMe) return "sent by this account";
    if (typeof m.from !== "string" || typeof m.id?._serialized !== "string") return "not a message";
    if (m.isStatus || m.broadcast || m.from === "status@broadcast" || m.from.endsWith("@broadcast")) return "a status or broadcast";
    if (m.from.endsWith("@g.us")) return "a group message: surveys run in direct chats only";
    const base = { channel: WHATSAPP_WEB, conversationId: m.from, userId: m.from, dedupeKey: m.id._serialized, startIfIdle: true, ...(this.o.scenarioId !== undefined ? { scenarioId: this.o.scenarioId } : {}) };
    if (m.type === "chat") return { ...base, kind: "text", text: typeof m.body === "string" ? m.body : "" };
    // A photo or a voice note answers no question, but a first message still opens the survey.
    if (MEDIA_TYPES.has(m.type)) return { ...base, kind: "text", text: "" };
    return `message type ${String(m.type).slice(0, 32)} carries no answer`;
  }

  private async pollOf(v: WebPollVote): Promise<PollRef | undefined> {
    const pollId = pollIdOf(v);
    if (typeof pollId !== "string") return undefined;
    const raw = await this.polls.get(pollId);
    if (typeof raw !== "object" || raw === null) return undefined;
    const { conversationId, promptId, buttonIndexes } = raw as Partial<Record<keyof PollRef, unknown>>;
    if (typeof conversationId !== "string" || typeof promptId !== "string" || !Array.isArray(buttonIndexes) || !buttonIndexes.every((i) => typeof i === "number")) return undefined;
    return { conversationId, promptId, buttonIndexes: buttonIndexes as number[] };
  }

  private fromVote(v: WebPollVote, poll: PollRef | undefined): InboundEvent | string {
    const pollId = pollIdOf(v);
    if (!poll || pollId === undefined) return "a vote on a poll this channel did not send (or has forgotten)";
    const author = v.parentMessage?.from;
    if (typeof author === "string" && v.voter === author) return "a vote by this account";
    if (!Array.isArray(v.selectedOptions) || v.selectedOptions.length !== 1) return "a vote taken back, or more than one option";
    const option = v.selectedOptions[0] as NonNullable<WebPollVote["selectedOptions"][number]>;
    const localId = option.localId ?? option.id;
    const buttonIndex = localId !== undefined ? poll.buttonIndexes[localId] : undefined;
    if (buttonIndex === undefined) return "a vote for an option the poll does not have";
    return {
      channel: WHATSAPP_WEB,
      conversationId: poll.conversationId,
      userId: poll.conversationId,
      kind: "choice",
      promptId: poll.promptId,
      buttonIndex,
      dedupeKey: `vote:${pollId}:${localId}:${v.interractedAtTs}`,
    };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    return this.inflight.track(work);
  }

  /** Runs `fn` after the earlier work queued under `key` in this process. */
  private turn(key: string, fn: () => Promise<void>): Promise<void> {
    return this.turns.run(key, fn);
  }
}

/**
 * The poll a vote is for. whatsapp-web.js fills `parentMessage` only when the poll is still in
 * the page's message store (or can be fetched); otherwise that Message is empty and only
 * `parentMsgKey`, the poll message's key, says which poll it was.
 */
function pollIdOf(v: WebPollVote): string | undefined {
  const fromMessage = v.parentMessage?.id?._serialized;
  if (typeof fromMessage === "string" && fromMessage !== "") return fromMessage;
  const fromKey = v.parentMsgKey?._serialized;
  return typeof fromKey === "string" && fromKey !== "" ? fromKey : undefined;
}
