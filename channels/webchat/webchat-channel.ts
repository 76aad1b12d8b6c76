/**
 * The web chat channel: conversations live in browser tabs connected over a WebSocket.
 * It keeps the frames it delivered to each conversation (WebchatHistory: memory, or Redis in
 * production) so a tab that reconnects with its conversation id sees the conversation again
 * and carries on.
 *
 * Live frames reach the sockets of the process that delivered them; with several web
 * processes, route a conversation's sockets to one process (sticky sessions) so timeouts and
 * answers show at once; a reconnect anywhere replays the shared history.
 */
import { randomBytes } from "node:crypto";
import type { ChannelLimits } from "../../engine/catalog.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, Effect, InboundEvent } from "../../engine/types.ts";
import type { Channel, ParseResult } from "../port.ts";
import { MemoryWebchatHistory, type WebchatHistory } from "./history.ts";
import { parseClientFrame, type ClientFrame, type ServerFrame } from "./protocol.ts";
import { renderEffects } from "./render.ts";

export const WEBCHAT = "webchat";

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
  /** Where delivered frames are kept for resuming; default this process's memory. */
  history?: WebchatHistory;
  /** The scenario a `start` without one runs here; default the runtime's. */
  scenarioId?: string;
}

/** Buttons wrap on a page, so the limits only keep a keyboard usable on a phone. */
export const WEBCHAT_LIMITS: ChannelLimits = { channel: WEBCHAT, maxLabelLength: 64, maxButtons: 24, maxTextLength: 4096 };

export class WebchatChannel implements Channel<WebchatInbound> {
  readonly name = WEBCHAT;
  readonly limits = WEBCHAT_LIMITS;
  /** This process's open sockets by conversation. */
  private readonly sinks = new Map<string, Set<FrameSink>>();
  /** Per conversation: the tail of its delivery/attach chain, so a socket never misses or doubles a frame. */
  private readonly turns = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly history: WebchatHistory;
  private readonly log: Logger;
  private readonly scenarioId: string | undefined;
  private closing = false;

  constructor(options: WebchatOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.history = options.history ?? new MemoryWebchatHistory();
    this.scenarioId = options.scenarioId;
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

  async deliver(ref: ConversationRef, effects: readonly Effect[]): Promise<void> {
    const frames = renderEffects(effects);
    if (frames.length === 0) return;
    const id = ref.conversationId;
    await this.turn(id, async () => {
      await this.history.append(id, frames);
      for (const sink of this.sinks.get(id) ?? []) for (const f of frames) sink.send(f);
    });
  }

  /**
   * Attaches a socket to a conversation: tells `announce` whether the conversation is known
   * (its history exists), replays the history, then sends the socket every new frame.
   */
  async attach(conversationId: string, sink: FrameSink, announce: (known: boolean) => void): Promise<void> {
    await this.turn(conversationId, async () => {
      const frames = await this.history.read(conversationId);
      announce(frames !== undefined);
      for (const f of frames ?? []) sink.send(f);
      let set = this.sinks.get(conversationId);
      if (!set) this.sinks.set(conversationId, (set = new Set()));
      set.add(sink);
    });
  }

  detach(conversationId: string, sink: FrameSink): void {
    const set = this.sinks.get(conversationId);
    set?.delete(sink);
    if (set?.size === 0) this.sinks.delete(conversationId);
  }

  /** Counts `work` as in flight until it settles, so shutdown can wait for it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const done = () => this.inflight.delete(work);
    work.then(done, done);
    return work;
  }

  /** Stops taking frames, waits for the ones being processed, then closes every socket (1012: come back soon). */
  async close(): Promise<void> {
    this.closing = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    let sockets = 0;
    for (const set of this.sinks.values()) {
      for (const sink of set) {
        sink.close(1012, "server restarting");
        sockets++;
      }
    }
    this.sinks.clear();
    this.log.info({ channel: WEBCHAT, sockets }, "web chat closed");
  }

  /** Runs `fn` after every earlier delivery or attach of the conversation in this process. */
  private turn(conversationId: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.turns.get(conversationId) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.turns.set(conversationId, tail);
    void tail.then(() => {
      if (this.turns.get(conversationId) === tail) this.turns.delete(conversationId);
    });
    return run;
  }
}
