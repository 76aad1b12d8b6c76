/**
 * The web chat channel: conversations live in browser tabs connected over a WebSocket.
 * It keeps the frames it delivered to each conversation (WebchatHistory, on ChannelStorage:
 * memory, or Redis in production) so a tab that reconnects with its conversation id, to any web
 * process, sees the conversation again and carries on.
 *
 * With a shared history (production: announced over Redis pub/sub), frames another web process
 * delivers reach this process's sockets too, numbered so that none is missed or sent twice.
 *
 * Proactive (the trigger API): `to` is a conversation id this server issued, and it resolves only
 * while a tab has it open: a socket on this process, or on another one (each process marks the
 * conversations it holds sockets of in ChannelStorage, `open:<id>`, refreshed while they stay
 * open). The first message then goes out like any server push: into the history, to the sockets.
 */
import { DEFAULT_CHANNEL_TTL_MS, type ChannelStorage } from "../storage/channel-storage.ts";
import { MemoryChannelStorage } from "../storage/memory-channel-storage.ts";
import { randomBytes } from "node:crypto";
import { WEBCHAT, WEBCHAT_LIMITS } from "./capabilities.ts";
import { errorSummary } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import type { Channel, EventHandler, ParseResult, ProactiveCapability, ProactiveTarget, VisibleEffect } from "../port.ts";
import { StoredWebchatHistory, type HistoryEntry, type WebchatHistory } from "./history.ts";
import { parseClientFrame, type ClientFrame, type ServerFrame } from "./protocol.ts";
import { renderEffects } from "./render.ts";
import { InFlight } from "../in-flight.ts";
import { KeyedQueue } from "../keyed-queue.ts";

export { WEBCHAT, WEBCHAT_LIMITS } from "./capabilities.ts";

/** Where a conversation's frames go: one per open socket. */
export interface FrameSink {
  send(frame: ServerFrame): void;
  close(code: number, reason: string): void;
}

/** One inbound frame together with the conversation its socket said hello for. */
export interface WebchatInbound {
  conversationId: string;
  locale?: string;
  data: string | Buffer;
  isBinary: boolean;
}

export interface WebchatOptions {
  logger?: Logger;
  /** Where delivered frames are kept for resuming; default this process's memory (StoredWebchatHistory on MemoryChannelStorage). */
  history?: WebchatHistory;
  /** The scenario a `start` without one runs here; default the runtime's. */
  scenarioId?: string;
  /** Where the ids this server issued are kept (Redis in production, so any web process can resume them); default memory. */
  issued?: ChannelStorage;
  /** Where each process marks the conversations it has open sockets of (the trigger API asks); default memory. */
  sessions?: ChannelStorage;
  /** How often this process re-marks its open conversations (default 60 s); a mark lives 2.5 times as long. */
  sessionRefreshMs?: number;
}

/** A conversation id as the server issues them (protocol.ts checks a hello's the same way). */
const CONVERSATION_ID = /^[A-Za-z0-9_-]{24}$/;

export class WebchatChannel implements Channel<WebchatInbound> {
  readonly name = WEBCHAT;
  readonly limits = WEBCHAT_LIMITS;
  /** This process's open sockets by conversation, each with the last history entry it was sent. */
  private readonly sinks = new Map<string, Map<FrameSink, number>>();
  /** Per conversation: the tail of its delivery/attach chain, so a socket never misses or doubles a frame. */
  private readonly turns = new KeyedQueue();
  private readonly inflight = new InFlight();
  private readonly history: WebchatHistory;
  private readonly log: Logger;
  private readonly scenarioId: string | undefined;
  private readonly issued: ChannelStorage;
  private readonly sessions: ChannelStorage;
  private readonly sessionRefreshMs: number;
  private refresher: ReturnType<typeof setInterval> | undefined;
  private closing = false;
  private handler: EventHandler | undefined;

  constructor(options: WebchatOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.issued = options.issued ?? new MemoryChannelStorage();
    this.sessions = options.sessions ?? new MemoryChannelStorage();
    this.sessionRefreshMs = options.sessionRefreshMs ?? 60_000;
    this.history = options.history ?? new StoredWebchatHistory(new MemoryChannelStorage());
    this.scenarioId = options.scenarioId;
  }

  /**
   * The conversation a hello opens: the one it names when this server issued that id (or it has a
   * history), else a fresh one. A client can never pick an id of its own and have it adopted.
   */
  async openConversation(requested: string | undefined): Promise<{ conversationId: string; known: boolean }> {
    if (requested !== undefined) {
      if ((await this.issued.get(requested)) !== undefined || (await this.history.read(requested)) !== undefined) return { conversationId: requested, known: true };
      this.log.info({ channel: WEBCHAT }, "a web chat hello named a conversation this server never issued; a fresh one was opened");
    }
    const conversationId = this.newConversationId();
    await this.issued.set(conversationId, 1, DEFAULT_CHANNEL_TTL_MS);
    return { conversationId, known: false };
  }

  /** A fresh, unguessable conversation id (144 random bits): holding it is what lets a tab resume. */
  newConversationId(): string {
    return randomBytes(18).toString("base64url");
  }

  /** Open sockets, for metrics. */
  socketCount(): number {
    let n = 0;
    for (const set of this.sinks.values()) n += set.size;
    return n;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  parseInbound(input: WebchatInbound): ParseResult {
    const parsed = parseClientFrame(input.data, input.isBinary);
    if (!parsed.ok) return { ok: false, reason: parsed.message };
    if (parsed.frame.type === "hello") return { ok: false, reason: "hello is only valid as a socket's first frame" };
    return { ok: true, events: [this.toEvent(parsed.frame, input.conversationId, input.locale)] };
  }

  /** The event for a checked frame; the client message id is the dedupe key. */
  toEvent(frame: Exclude<ClientFrame, { type: "hello" }>, conversationId: string, locale: string | undefined): InboundEvent {
    const base = { channel: WEBCHAT, conversationId, userId: conversationId, ...(locale !== undefined ? { locale } : {}) };
    switch (frame.type) {
      case "start": {
        const scenarioId = frame.scenarioId ?? this.scenarioId;
        return { ...base, kind: "start", dedupeKey: frame.id ?? `start:${randomBytes(9).toString("base64url")}`, ...(scenarioId ? { scenarioId } : {}) };
      }
      case "text":
        return { ...base, kind: "text", dedupeKey: frame.id, text: frame.text };
      case "choice":
        return { ...base, kind: "choice", dedupeKey: frame.id, promptId: frame.promptId, buttonIndex: frame.index };
    }
  }

  /**
   * Takes the handler (the runtime) the sockets' frames go to, and listens for frames other web
   * processes deliver (shared history), so this process's sockets get them live.
   */
  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
    this.refresher = setInterval(() => {
      for (const id of this.sinks.keys()) this.markOpen(id);
    }, this.sessionRefreshMs);
    this.refresher.unref();
    await this.history.subscribe((conversationId, entries) => {
      if (this.sinks.has(conversationId)) void this.turn(conversationId, () => this.send(conversationId, entries)).catch(() => {});
    });
  }

  /** Processes one event through the handler given to `start` (the socket routes call it). */
  handle(event: InboundEvent): Promise<{ status: "processed" | "duplicate" }> {
    if (!this.handler) return Promise.reject(new Error("WebchatChannel.start(handle) must be called before frames arrive"));
    return this.handler(event);
  }

  /** `to` is a conversation id this server issued; ok while a tab has it open (here or on another web process). */
  readonly proactive: ProactiveCapability = {
    resolve: async ({ to, options }): Promise<ProactiveTarget> => {
      if (options !== undefined && Object.keys(options).length > 0) return { ok: false, status: 422, problem: "invalid_options", reason: "the web chat takes no channel options" };
      const open = CONVERSATION_ID.test(to) && (this.sinks.has(to) || (await this.sessions.get(to)) !== undefined);
      if (!open) return { ok: false, status: 404, problem: "unknown_recipient", reason: "this visitor has no open web chat session" };
      // toEvent's ref: the conversation is the visitor.
      return { ok: true, ref: { channel: WEBCHAT, conversationId: to, userId: to } };
    },
  };

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[]): Promise<void> {
    const frames = renderEffects(effects);
    if (frames.length === 0) return;
    const id = ref.conversationId;
    await this.turn(id, async () => this.send(id, await this.history.append(id, frames)));
  }

  /**
   * Attaches a socket to a conversation: tells `announce` whether the conversation is known
   * (its history exists), replays the history, then sends the socket every new frame.
   */
  async attach(conversationId: string, sink: FrameSink, announce: (known: boolean) => void): Promise<void> {
    await this.turn(conversationId, async () => {
      const entries = await this.history.read(conversationId);
      announce(entries !== undefined);
      for (const e of entries ?? []) sink.send(e.frame);
      let set = this.sinks.get(conversationId);
      if (!set) this.sinks.set(conversationId, (set = new Map()));
      set.set(sink, entries?.at(-1)?.seq ?? 0);
      this.markOpen(conversationId);
    });
  }

  detach(conversationId: string, sink: FrameSink): void {
    const set = this.sinks.get(conversationId);
    set?.delete(sink);
    if (set?.size === 0) {
      this.sinks.delete(conversationId);
      // Another process's socket on it re-marks it within sessionRefreshMs.
      void this.sessions.delete(conversationId).catch(() => {});
    }
  }

  /** Marks `conversationId` open for the trigger API; best effort (a lost mark only makes a trigger find no session). */
  private markOpen(conversationId: string): void {
    void this.sessions.set(conversationId, 1, this.sessionRefreshMs * 2.5).catch((err: unknown) => {
      this.log.debug({ channel: WEBCHAT, err: errorSummary(err) }, "web chat could not mark a conversation open");
    });
  }

  /**
   * Sends each socket of the conversation the entries it has not had, in order. A gap (entries
   * another process appended, announced out of order with ours) is filled from the history.
   */
  private async send(conversationId: string, entries: readonly HistoryEntry[]): Promise<void> {
    const set = this.sinks.get(conversationId);
    if (!set || entries.length === 0) return;
    const lowest = Math.min(...[...set.values()]);
    let fresh = entries;
    if (this.history.shared && (entries[0] as HistoryEntry).seq > lowest + 1) fresh = (await this.history.read(conversationId)) ?? entries;
    for (const [sink, last] of set) {
      let next = last;
      for (const e of fresh) {
        if (e.seq <= next) continue;
        sink.send(e.frame);
        next = e.seq;
      }
      set.set(sink, next);
    }
  }

  /** Counts `work` as in flight until it settles, so shutdown can wait for it. */
  track<T>(work: Promise<T>): Promise<T> {
    return this.inflight.track(work);
  }

  /** Stops taking frames, waits for the ones being processed, then closes every socket (1012: come back soon). */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.refresher);
    await this.inflight.drain();
    let sockets = 0;
    for (const [id, set] of this.sinks) {
      void this.sessions.delete(id).catch(() => {});
      for (const sink of set.keys()) {
        sink.close(1012, "server restarting");
        sockets++;
      }
    }
    this.sinks.clear();
    await this.history.close();
    this.log.info({ channel: WEBCHAT, sockets }, "web chat closed");
  }

  /** Runs `fn` after every earlier delivery or attach of the conversation in this process. */
  private turn(conversationId: string, fn: () => Promise<void>): Promise<void> {
    return this.turns.run(conversationId, fn);
  }
}
