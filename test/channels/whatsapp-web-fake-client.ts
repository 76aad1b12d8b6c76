/**
 * A fake whatsapp-web.js Client behind WebClientPort: an EventEmitter the test makes emit
 * real-shaped `message` / `vote_update` / `qr` / `ready` / `disconnected` events, recording
 * what the channel sends. No browser anywhere.
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { PollContent, WebClientPort, WebMessage, WebMessageId, WebPollVote } from "../../channels/whatsapp/web-client-port.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/whatsapp-web");
const MESSAGE = JSON.parse(readFileSync(path.join(FIXTURES, "message-chat.json"), "utf8")) as WebMessage & Record<string, unknown>;
const VOTE = JSON.parse(readFileSync(path.join(FIXTURES, "vote-update.json"), "utf8")) as WebPollVote & Record<string, unknown>;
export const BOT_ID = MESSAGE.to as string;

export interface SentMessage {
  chatId: string;
  text?: string;
  poll?: PollContent["poll"];
  id: WebMessageId;
}

export class FakeWebClient extends EventEmitter implements WebClientPort {
  readonly sent: SentMessage[] = [];
  /** Numbers `isRegisteredUser` says are not on WhatsApp. */
  readonly unregistered = new Set<string>();
  initialized = false;
  destroyed = false;
  private seq = 0;

  async initialize(): Promise<void> {
    this.initialized = true;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  async sendMessage(chatId: string, content: string | PollContent): Promise<{ id: WebMessageId }> {
    const raw = `3EB0${(++this.seq).toString(16).toUpperCase().padStart(16, "0")}`;
    const id = { fromMe: true, remote: chatId, id: raw, _serialized: `true_${chatId}_${raw}` };
    this.sent.push(typeof content === "string" ? { chatId, text: content, id } : { chatId, poll: content.poll, id });
    return { id };
  }

  async isRegisteredUser(id: string): Promise<boolean> {
    return !this.unregistered.has(id);
  }

  /** Emits a `message` shaped like the fixture, from `from`, with a fresh id. */
  text(from: string, body: string, extra: Partial<WebMessage> = {}): WebMessage {
    const raw = `3EB0${Math.random().toString(16).slice(2, 18).toUpperCase()}`;
    const m = { ...structuredClone(MESSAGE), from, body, id: { fromMe: false, remote: from, id: raw, _serialized: `false_${from}_${raw}` }, timestamp: Math.floor(Date.now() / 1000), ...extra };
    this.emit("message", m);
    return m;
  }

  /** Emits a `vote_update` for a poll this client sent, choosing the option at `localId` (none: taken back). */
  vote(poll: SentMessage, localId: number | undefined, at = Date.now()): void {
    const options = (poll.poll?.options ?? []).map((name, i) => ({ name, localId: i }));
    const v = structuredClone(VOTE);
    v.voter = poll.chatId;
    v.selectedOptions = localId === undefined ? [] : [{ name: options[localId]?.name ?? "", localId }];
    v.interractedAtTs = at;
    v.parentMessage = { ...v.parentMessage, id: poll.id, from: BOT_ID, to: poll.chatId, pollName: poll.poll?.name, pollOptions: options } as unknown as WebPollVote["parentMessage"];
    this.emit("vote_update", v);
  }

  /** Sent messages to `chatId`. */
  to(chatId: string): SentMessage[] {
    return this.sent.filter((s) => s.chatId === chatId);
  }
}

/** A factory that hands out fakes and keeps them, newest last. */
export function fakeFactory(): { create: () => FakeWebClient; clients: FakeWebClient[] } {
  const clients: FakeWebClient[] = [];
  return {
    clients,
    create: () => {
      const c = new FakeWebClient();
      clients.push(c);
      return c;
    },
  };
}
