/**
 * The narrow port the WhatsApp Web channel talks to instead of whatsapp-web.js's `Client`:
 * the handful of calls and events it uses, with the payload fields it reads. The real
 * `Client` is adapted to it in real-client.ts; tests drive it with an EventEmitter fake.
 *
 * Field names and shapes are whatsapp-web.js's own (Message, PollVote in its index.d.ts), so
 * a real event passes through unchanged. Left out on purpose: media downloads, groups, chats,
 * contacts, reactions and every other Client feature a survey does not need; and
 * `auth_failure`, which the library emits only for an auth strategy that reports a failed
 * restore, and neither LocalAuth nor RemoteAuth ever does (a session that cannot be restored
 * shows a QR instead).
 */

/** whatsapp-web.js's MessageId. */
export interface WebMessageId {
  fromMe?: boolean;
  remote?: string;
  id?: string;
  _serialized: string;
}

/** The fields of whatsapp-web.js's Message the channel reads. */
export interface WebMessage {
  id: WebMessageId;
  /** Chat id of the sender: `380501234567@c.us`, `…@lid`, a group's `…@g.us`, `status@broadcast`. */
  from: string;
  to?: string;
  /** Text of a `chat` message (a caption for media). */
  body: string;
  /** `chat` for text; `image`, `album`, `ptt`, `poll_creation`, `e2e_notification`, … */
  type: string;
  /** Seconds since the epoch. */
  timestamp: number;
  fromMe?: boolean;
  isStatus?: boolean;
  broadcast?: boolean;
  /** Set on group messages: who wrote it. */
  author?: string;
}

/** A selected poll option as whatsapp-web.js emits it (its typings name `id` what it sets as `localId`). */
export interface WebSelectedOption {
  name?: string;
  localId?: number;
  id?: number;
}

/** whatsapp-web.js's PollVote. */
export interface WebPollVote {
  voter: string;
  /** Empty when the voter took their vote back. */
  selectedOptions: WebSelectedOption[];
  /** Milliseconds since the epoch (sic: whatsapp-web.js's spelling). */
  interractedAtTs: number;
  /**
   * The poll the vote is for (the message we sent). whatsapp-web.js always sets a Message here,
   * but an empty one (no `id`) when the poll was no longer in the page's store.
   */
  parentMessage?: Partial<WebMessage>;
  /** The poll message's key: set on every vote, the one to use when `parentMessage` is empty. */
  parentMsgKey?: WebMessageId;
}

/** A single-choice poll to send. */
export interface PollContent {
  poll: { name: string; options: string[] };
}

export interface WebClientEvents {
  message: (message: WebMessage) => void;
  vote_update: (vote: WebPollVote) => void;
  /** A login QR to scan with the phone (WhatsApp → Linked devices); a new one every ~20 s. */
  qr: (qr: string) => void;
  ready: () => void;
  /**
   * The session ended. `LOGOUT`: the library recovers on the same page (a new `qr` follows);
   * any other reason (`CONFLICT`, `UNPAIRED`, …): the library destroys the client after it.
   */
  disconnected: (reason: string) => void;
}

/** What the channel needs of a WhatsApp Web client. */
export interface WebClientPort {
  /** Starts the browser and the session; resolves once WhatsApp Web has loaded (not when logged in). */
  initialize(): Promise<void>;
  /** Closes the browser; the client is not used again afterwards. */
  destroy(): Promise<void>;
  /** Sends text or a poll to a chat; resolves with the sent message's id. */
  sendMessage(chatId: string, content: string | PollContent): Promise<{ id: WebMessageId }>;
  /** Whether `id` (`<number>@c.us`) is a WhatsApp account (whatsapp-web.js `Client.isRegisteredUser`); asked before a trigger's first message. */
  isRegisteredUser(id: string): Promise<boolean>;
  on<E extends keyof WebClientEvents>(event: E, listener: WebClientEvents[E]): unknown;
}

/** Makes a fresh client: after a disconnect the old one is destroyed and a new one made. */
export type WebClientFactory = () => WebClientPort;
