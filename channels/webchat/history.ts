/**
 * Where the web chat keeps the frames it delivered to each conversation, so a tab that
 * reconnects (to this process or, with Redis, to another one) sees the conversation again.
 *
 * Deliberately left out: live fan-out between processes (a frame reaches the sockets of the
 * process that delivered it; others see it on their next reconnect) and any history beyond
 * the last `maxFrames` frames.
 */
import type { ServerFrame } from "./protocol.ts";

export interface WebchatHistory {
  /** Appends frames to the conversation's history (trimmed to the newest ones). */
  append(conversationId: string, frames: readonly ServerFrame[]): Promise<void>;
  /** The conversation's frames, oldest first; undefined when the conversation is unknown. */
  read(conversationId: string): Promise<ServerFrame[] | undefined>;
}

export interface MemoryWebchatHistoryOptions {
  /** Conversations kept (least recently used dropped first). */
  maxConversations?: number;
  /** Frames kept per conversation. */
  maxFrames?: number;
}

/** The embedded default: this process's memory, bounded. */
export class MemoryWebchatHistory implements WebchatHistory {
  private readonly conversations = new Map<string, ServerFrame[]>();
  private readonly maxConversations: number;
  private readonly maxFrames: number;

  constructor(o: MemoryWebchatHistoryOptions = {}) {
    this.maxConversations = o.maxConversations ?? 10_000;
    this.maxFrames = o.maxFrames ?? 200;
  }

  async append(conversationId: string, frames: readonly ServerFrame[]): Promise<void> {
    const list = this.touch(conversationId) ?? [];
    list.push(...frames);
    if (list.length > this.maxFrames) list.splice(0, list.length - this.maxFrames);
    this.conversations.set(conversationId, list);
    for (const id of this.conversations.keys()) {
      if (this.conversations.size <= this.maxConversations) break;
      this.conversations.delete(id);
    }
  }

  async read(conversationId: string): Promise<ServerFrame[] | undefined> {
    const list = this.touch(conversationId);
    if (list) this.conversations.set(conversationId, list);
    return list ? [...list] : undefined;
  }

  /** Takes the entry out so that setting it again moves it to the most recently used end. */
  private touch(conversationId: string): ServerFrame[] | undefined {
    const list = this.conversations.get(conversationId);
    this.conversations.delete(conversationId);
    return list;
  }
}
