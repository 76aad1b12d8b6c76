/**
 * The web chat channel: conversations live in browser tabs connected over a WebSocket.
 * It remembers the frames it delivered to each conversation (bounded) so a tab that
 * reconnects with its conversation id sees the conversation again and carries on.
 *
 * Kept in this process's memory: with several web processes behind a load balancer, route a
 * conversation's sockets to one process (sticky sessions) or a reconnect starts afresh.
 */
import { randomBytes } from "node:crypto";
import type { ChannelLimits } from "../../engine/catalog.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, Effect, InboundEvent } from "../../engine/types.ts";
import type { Channel, ParseResult } from "../port.ts";
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
  /** Conversations whose history is kept for resuming (least recently used dropped first). */
  maxConversations?: number;
  /** Frames kept per conversation. */
  maxFramesPerConversation?: number;
  /** The scenario a `start` without one runs here; default the runtime's. */
  scenarioId?: string;
}

interface Conversation {
  frames: ServerFrame[];
  sinks: Set<FrameSink>;
}

export class WebchatChannel implements Channel<WebchatInbound> {
  readonly name = WEBCHAT;
  /** Buttons wrap on a page, so the limits only keep a keyboard usable on a phone. */
  readonly limits: ChannelLimits = { channel: WEBCHAT, maxLabelLength: 64, maxButtons: 24, maxTextLength: 4096 };
  private readonly conversations = new Map<string, Conversation>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly maxConversations: number;
  private readonly maxFrames: number;
  private readonly scenarioId: string | undefined;
  private closing = false;

  constructor(options: WebchatOptions = {}) {
    this.log = options.logger ?? silentLogger;
    this.maxConversations = options.maxConversations ?? 10_000;
    this.maxFrames = options.maxFramesPerConversation ?? 200;
    this.scenarioId = options.scenarioId;
  }

  /** A fresh, unguessable conversation id (144 random bits): holding it is what lets a tab resume. */
  newConversationId(): string {
    return randomBytes(18).toString("base64url");
  }

  /** Open sockets, for metrics. */
  socketCount(): number {
    let n = 0;
    for (const c of this.conversations.values()) n += c.sinks.size;
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
    const c = this.touch(ref.conversationId);
    c.frames.push(...frames);
    if (c.frames.length > this.maxFrames) c.frames.splice(0, c.frames.length - this.maxFrames);
    for (const sink of c.sinks) for (const f of frames) sink.send(f);
  }

  /** True when this process has delivered to the conversation (its frames can be replayed). */
  knows(conversationId: string): boolean {
    return this.conversations.has(conversationId);
  }

  /** Attaches a socket to a conversation and replays the conversation's frames to it. */
  attach(conversationId: string, sink: FrameSink): void {
    const c = this.touch(conversationId);
    for (const f of c.frames) sink.send(f);
    c.sinks.add(sink);
  }

  detach(conversationId: string, sink: FrameSink): void {
    this.conversations.get(conversationId)?.sinks.delete(sink);
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
    for (const c of this.conversations.values()) {
      for (const sink of c.sinks) {
        sink.close(1012, "server restarting");
        sockets++;
      }
      c.sinks.clear();
    }
    this.log.info({ channel: WEBCHAT, sockets }, "web chat closed");
  }

  private touch(conversationId: string): Conversation {
    let c = this.conversations.get(conversationId);
    if (c) this.conversations.delete(conversationId);
    else c = { frames: [], sinks: new Set() };
    this.conversations.set(conversationId, c); // re-inserted: Map order is least recently used first
    if (this.conversations.size > this.maxConversations) {
      for (const [id, old] of this.conversations) {
        if (this.conversations.size <= this.maxConversations) break;
        if (old.sinks.size === 0) this.conversations.delete(id);
      }
    }
    return c;
  }
}
