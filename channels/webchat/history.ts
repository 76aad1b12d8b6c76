/**
 * Where the web chat keeps the frames it delivered to each conversation, numbered, so a tab
 * that reconnects (to this process or, with Redis, to any) sees the conversation again, and
 * so frames delivered by other web processes reach this process's sockets exactly once.
 *
 * Deliberately left out: any history beyond the last `maxFrames` frames, and delivery
 * guarantees for a socket that is not connected (it catches up from the history on reconnect).
 */
import type { ServerFrame } from "./protocol.ts";

/** A delivered frame and its number: increasing within a conversation, never reused. */
export interface HistoryEntry {
  seq: number;
  frame: ServerFrame;
}

/** Hears of frames another process appended. */
export type RemoteAppendListener = (conversationId: string, entries: HistoryEntry[]) => void;

export interface WebchatHistory {
  /** True when other processes append too (entries may then be announced out of order and need filling in). */
  readonly shared: boolean;
  /** Appends frames (trimmed to the newest ones); resolves to them numbered. */
  append(conversationId: string, frames: readonly ServerFrame[]): Promise<HistoryEntry[]>;
  /** The conversation's entries, oldest first; undefined when the conversation is unknown. */
  read(conversationId: string): Promise<HistoryEntry[] | undefined>;
  /** Shared histories (Redis) report other processes' appends; a local one never calls `listener`. */
  subscribe(listener: RemoteAppendListener): Promise<void>;
  close(): Promise<void>;
}

export interface MemoryWebchatHistoryOptions {
  /** Conversations kept (least recently used dropped first). */
  maxConversations?: number;
  /** Frames kept per conversation. */
  maxFrames?: number;
}

interface Kept {
  entries: HistoryEntry[];
}

/** The embedded default: this process's memory, bounded. */
export class MemoryWebchatHistory implements WebchatHistory {
  readonly shared = false;
  private readonly conversations = new Map<string, Kept>();
  /** One counter for the process: a conversation dropped and started again never reuses a number. */
  private last = 0;
  private readonly maxConversations: number;
  private readonly maxFrames: number;

  constructor(o: MemoryWebchatHistoryOptions = {}) {
    this.maxConversations = o.maxConversations ?? 10_000;
    this.maxFrames = o.maxFrames ?? 200;
  }

  async append(conversationId: string, frames: readonly ServerFrame[]): Promise<HistoryEntry[]> {
    const kept = this.touch(conversationId) ?? { entries: [] };
    const added = frames.map((frame) => ({ seq: ++this.last, frame }));
    kept.entries.push(...added);
    if (kept.entries.length > this.maxFrames) kept.entries.splice(0, kept.entries.length - this.maxFrames);
    this.conversations.set(conversationId, kept);
    for (const id of this.conversations.keys()) {
      if (this.conversations.size <= this.maxConversations) break;
      this.conversations.delete(id);
    }
    return added;
  }

  async read(conversationId: string): Promise<HistoryEntry[] | undefined> {
    const kept = this.touch(conversationId);
    if (kept) this.conversations.set(conversationId, kept);
    return kept ? [...kept.entries] : undefined;
  }

  async subscribe(): Promise<void> {}

  async close(): Promise<void> {}

  /** Takes the entry out so that setting it again moves it to the most recently used end. */
  private touch(conversationId: string): Kept | undefined {
    const kept = this.conversations.get(conversationId);
    this.conversations.delete(conversationId);
    return kept;
  }
}
