/**
 * One web chat socket: the hello handshake, then each frame checked, turned into an event
 * and handed to the runtime one at a time, in the order the socket sent them.
 */
import { errorSummary, isRetryLater } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { EventHandler } from "../port.ts";
import { parseClientFrame, type ClientFrame } from "./protocol.ts";
import type { FrameSink, WebchatChannel } from "./webchat-channel.ts";

export type { EventHandler } from "../port.ts";

/** Frames one socket may have queued before it is told to slow down. */
export const MAX_QUEUED_FRAMES = 32;
/** Refused frames in a row one socket may send before it is closed (1008): past that it is not a confused client. */
export const MAX_BAD_FRAMES = 20;

export class WebchatConnection {
  /** Set once the hello's conversation is open (in the socket's chain, before any later frame runs). */
  private conversationId: string | undefined;
  private helloSeen = false;
  private locale: string | undefined;
  private queued = 0;
  private badFrames = 0;
  private isClosed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly channel: WebchatChannel,
    private readonly handle: EventHandler,
    private readonly sink: FrameSink,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Takes one frame off the socket; never throws. */
  receive(data: string | Buffer, isBinary: boolean): void {
    const parsed = parseClientFrame(data, isBinary);
    if (!parsed.ok) {
      this.log.debug({ channel: "webchat", conversation: this.conversationId, code: parsed.code }, "rejected a web chat frame");
      this.sink.send({ type: "error", code: parsed.code, message: parsed.message, ...(parsed.id !== undefined ? { id: parsed.id } : {}) });
      if (++this.badFrames > MAX_BAD_FRAMES) {
        this.log.warn({ channel: "webchat", conversation: this.conversationId, badFrames: this.badFrames }, "closed a web chat socket that kept sending bad frames");
        this.sink.close(1008, "too many bad frames");
      }
      return;
    }
    this.badFrames = 0;
    const frame = parsed.frame;
    if (frame.type === "hello") return this.hello(frame);
    const id = frame.id !== undefined ? { id: frame.id } : {};
    if (!this.helloSeen) return this.sink.send({ type: "error", code: "no_hello", message: "send a hello frame first", ...id });
    if (this.channel.isClosing) return this.sink.send({ type: "error", code: "shutting_down", message: "the server is restarting: reconnect and resend", ...id });
    if (this.queued >= MAX_QUEUED_FRAMES) return this.sink.send({ type: "error", code: "too_many", message: "too many frames waiting: wait for acks, then resend", ...id });
    this.queued++;
    const work = this.chain.then(() => {
      // Undefined only when the hello failed (the socket is being closed).
      if (this.conversationId !== undefined) return this.process(frame, this.conversationId);
      this.queued--;
      return undefined;
    });
    this.chain = work;
    void this.channel.track(work);
  }

  /** The socket closed: frames already queued still run (their effects land in the history). */
  closed(): void {
    this.isClosed = true;
    if (this.conversationId !== undefined) this.channel.detach(this.conversationId, this.sink);
  }

  private hello(frame: Extract<ClientFrame, { type: "hello" }>): void {
    if (this.helloSeen) {
      this.sink.send({ type: "error", code: "bad_frame", message: "hello was already sent on this socket" });
      return;
    }
    this.helloSeen = true;
    this.locale = frame.locale;
    // In the socket's chain: frames sent right after hello run once the history is replayed.
    const work = this.chain
      .then(async () => {
        const opened = await this.channel.openConversation(frame.conversationId);
        const conversationId = opened.conversationId;
        await this.channel.attach(conversationId, this.sink, (known) => {
          const resumed = opened.known && known;
          this.sink.send({ type: "hello", conversationId, resumed });
          this.log.info({ channel: "webchat", conversation: conversationId, resumed }, "web chat connected");
        });
        this.conversationId = conversationId;
        if (this.isClosed) this.channel.detach(conversationId, this.sink); // closed while attaching
      })
      .catch((err: unknown) => {
        this.log.error({ channel: "webchat", conversation: this.conversationId, err: errorSummary(err) }, "web chat could not attach a socket");
        this.sink.send({ type: "error", code: "internal", message: "the conversation could not be opened: reconnect and send hello again" });
        this.sink.close(1011, "conversation unavailable");
      });
    this.chain = work;
    void this.channel.track(work);
  }

  private async process(frame: Exclude<ClientFrame, { type: "hello" }>, conversationId: string): Promise<void> {
    const event = this.channel.toEvent(frame, conversationId, this.locale);
    const id = frame.id !== undefined ? { id: frame.id } : {};
    try {
      const result = await this.handle(event);
      this.log.debug({ channel: "webchat", conversation: conversationId, kind: event.kind, status: result.status }, "web chat event");
      if (frame.id !== undefined) this.sink.send({ type: "ack", id: frame.id, status: result.status });
    } catch (err) {
      const busy = isRetryLater(err);
      this.log.error(
        { channel: "webchat", conversation: conversationId, kind: event.kind, err: errorSummary(err) },
        "web chat event failed; the client may resend it",
      );
      this.sink.send(
        busy
          ? { type: "error", code: "busy", message: "the conversation is busy: resend the frame with the same id", ...id }
          : { type: "error", code: "internal", message: "the message could not be processed: resend it with the same id", ...id },
      );
    } finally {
      this.queued--;
    }
  }
}
