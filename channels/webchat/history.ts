/**
 * Where the web chat keeps the frames it delivered to each conversation, numbered, so a tab
 * that reconnects (to this process or, in production, to any) sees the conversation again, and
 * so frames delivered by other web processes reach this process's sockets exactly once.
 *
 * The frames live in the ChannelStorage the module is given (Redis in production, memory
 * embedded): one bounded value per conversation, `history:<conversation>`, holding the last
 * `maxFrames` frames with their numbers, written with the conversation's time to live. Every
 * append happens in a delivery, while the runtime holds the conversation's lock, so the
 * read-modify-write never races another process.
 *
 * Live fan-out to the other processes' sockets is a {@link FrameAnnouncer}: ChannelStorage is
 * storage and deliberately has no pub/sub, so production adds a Redis channel for it
 * (redis-announcer.ts); embedded there is no other process to tell.
 *
 * Deliberately left out: any history beyond the last `maxFrames` frames, and delivery
 * guarantees for a socket that is not connected (it catches up from the history on reconnect).
 */
import { DEFAULT_CHANNEL_TTL_MS, type ChannelStorage, type StoredValue } from "../storage/channel-storage.ts";
import type { ServerFrame } from "./protocol.ts";

/** A delivered frame and its number: increasing within a conversation, never reused. */
export interface HistoryEntry {
  seq: number;
  frame: ServerFrame;
}

/** Hears of frames another process appended. */
export type RemoteAppendListener = (conversationId: string, entries: HistoryEntry[]) => void;

/** The web chat's view of its history: what the channel appends, replays and hears of. */
export interface WebchatHistory {
  /** True when other processes append too (entries may then be announced out of order and need filling in). */
  readonly shared: boolean;
  /** Appends frames (trimmed to the newest ones); resolves to them numbered. */
  append(conversationId: string, frames: readonly ServerFrame[]): Promise<HistoryEntry[]>;
  /** The conversation's entries, oldest first; undefined when the conversation is unknown. */
  read(conversationId: string): Promise<HistoryEntry[] | undefined>;
  /** Shared histories report other processes' appends; a local one never calls `listener`. */
  subscribe(listener: RemoteAppendListener): Promise<void>;
  close(): Promise<void>;
}

/** Tells the other web processes of frames this one appended (and hears of theirs). */
export interface FrameAnnouncer {
  /** True when there are other processes to hear from. */
  readonly shared: boolean;
  publish(conversationId: string, entries: readonly HistoryEntry[]): Promise<void>;
  /** `listener` hears of the other processes' appends only, never of this one's. */
  subscribe(listener: RemoteAppendListener): Promise<void>;
  close(): Promise<void>;
}

/** The embedded default: one process, nobody to tell. */
export const localAnnouncer: FrameAnnouncer = {
  shared: false,
  publish: async () => {},
  subscribe: async () => {},
  close: async () => {},
};

export interface StoredWebchatHistoryOptions {
  /** Frames kept per conversation; default 200. */
  maxFrames?: number;
  /** An idle conversation's history is forgotten after this long; default 30 days, like conversation state. */
  ttlMs?: number;
  /** Live fan-out to other web processes; default none (one process). */
  announcer?: FrameAnnouncer;
  /** Milliseconds since the epoch: where a fresh history's numbers start. */
  now?: () => number;
}

/** [seq, frame]: the smallest JSON for one kept frame. */
type Kept = [number, ServerFrame];

/**
 * The web chat history on ChannelStorage.
 *
 * @example
 * const history = new StoredWebchatHistory(deps.storage.scope("history:"), { announcer });
 */
export class StoredWebchatHistory implements WebchatHistory {
  readonly shared: boolean;
  private readonly maxFrames: number;
  private readonly ttlMs: number;
  private readonly announcer: FrameAnnouncer;
  private readonly now: () => number;
  /** The highest number this process gave. */
  private highest = 0;

  constructor(
    private readonly storage: ChannelStorage,
    o: StoredWebchatHistoryOptions = {},
  ) {
    this.maxFrames = o.maxFrames ?? 200;
    this.ttlMs = o.ttlMs ?? DEFAULT_CHANNEL_TTL_MS;
    this.announcer = o.announcer ?? localAnnouncer;
    this.shared = this.announcer.shared;
    this.now = o.now ?? Date.now;
  }

  async append(conversationId: string, frames: readonly ServerFrame[]): Promise<HistoryEntry[]> {
    if (frames.length === 0) return [];
    const kept = await this.kept(conversationId);
    // A history forgotten (expired, or memory past its bound) and started again numbers on from
    // the clock (a thousand numbers per millisecond, safe integers until the year 2255) and above
    // any number this process gave, so a still-open socket skips none of its new frames.
    const last = kept.at(-1)?.[0] ?? Math.max(this.now() * 1000, this.highest);
    const added = frames.map((frame, i): HistoryEntry => ({ seq: last + 1 + i, frame }));
    this.highest = Math.max(this.highest, last + frames.length);
    const next: Kept[] = [...kept, ...added.map((e): Kept => [e.seq, e.frame])].slice(-this.maxFrames);
    await this.storage.set(conversationId, next as unknown as StoredValue, this.ttlMs);
    await this.announcer.publish(conversationId, added);
    return added;
  }

  async read(conversationId: string): Promise<HistoryEntry[] | undefined> {
    const kept = await this.kept(conversationId);
    return kept.length > 0 ? kept.map(([seq, frame]) => ({ seq, frame })) : undefined;
  }

  subscribe(listener: RemoteAppendListener): Promise<void> {
    return this.announcer.subscribe(listener);
  }

  close(): Promise<void> {
    return this.announcer.close();
  }

  private async kept(conversationId: string): Promise<Kept[]> {
    const v = await this.storage.get(conversationId);
    if (!Array.isArray(v)) return [];
    // Written by this or an older version: keep only well-formed entries.
    return v.filter((e): e is Kept => Array.isArray(e) && e.length === 2 && typeof e[0] === "number" && typeof e[1] === "object" && e[1] !== null);
  }
}
