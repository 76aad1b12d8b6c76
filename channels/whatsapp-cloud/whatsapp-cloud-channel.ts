/**
 * The WhatsApp Cloud API channel: Meta posts user messages to our webhook, we answer through
 * the Graph API. One business phone number per channel; the conversation is the user's wa_id.
 *
 * Deliveries to one user go out one after another in this process, so a question never
 * overtakes the message before it.
 */
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef } from "../../engine/types.ts";
import type { Channel, EventHandler, ParseResult, VisibleEffect } from "../port.ts";
import { GraphClient, WHATSAPP_CLOUD, type GraphClientOptions } from "./graph-client.ts";
import { renderEffects, WHATSAPP_CLOUD_LIMITS } from "./render.ts";
import { parseWebhook } from "./webhook.ts";
import { InFlight } from "../in-flight.ts";
import { KeyedQueue } from "../keyed-queue.ts";

export interface WhatsappCloudOptions {
  /** Graph API base URL with its version (WHATSAPP_CLOUD_API_ROOT). */
  apiRoot: string;
  phoneNumberId: string;
  /** Secrets: never logged. */
  accessToken: string;
  appSecret: string;
  verifyToken: string;
  logger?: Logger;
  /** The scenario a first message starts on this channel; default the runtime's. */
  scenarioId?: string;
  /** Backoff tuning and test seams of the Graph client. */
  graph?: Pick<GraphClientOptions, "maxAttempts" | "baseDelayMs" | "maxDelayMs" | "timeoutMs" | "sleep" | "random" | "fetch">;
}

export class WhatsappCloudChannel implements Channel<unknown> {
  readonly name = WHATSAPP_CLOUD;
  readonly limits = WHATSAPP_CLOUD_LIMITS;
  readonly appSecret: string;
  readonly verifyToken: string;
  private readonly graph: GraphClient;
  private readonly phoneNumberId: string;
  private readonly scenarioId: string | undefined;
  private readonly log: Logger;
  private readonly turns = new KeyedQueue();
  /** Webhook calls being processed (the webhook route counts them), so close() can wait for them. */
  readonly inflight = new InFlight();
  private closing = false;
  private handler: EventHandler | undefined;

  constructor(o: WhatsappCloudOptions) {
    this.appSecret = o.appSecret;
    this.verifyToken = o.verifyToken;
    this.phoneNumberId = o.phoneNumberId;
    this.scenarioId = o.scenarioId;
    this.log = o.logger ?? silentLogger;
    this.graph = new GraphClient({ apiRoot: o.apiRoot, phoneNumberId: o.phoneNumberId, accessToken: o.accessToken, ...o.graph });
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** A parsed (and already signature-checked) webhook body. */
  parseInbound(body: unknown): ParseResult {
    return parseWebhook(body, { phoneNumberId: this.phoneNumberId, ...(this.scenarioId !== undefined ? { scenarioId: this.scenarioId } : {}) });
  }

  /** Takes the handler (the runtime) the notifications' events go to; POST /whatsapp/webhook brings them. */
  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
  }

  /** Runs the events of one signed notification through the handler; resolves once all are saved. */
  async process(parsed: Extract<ParseResult, { ok: true }>): Promise<void> {
    const handle = this.handler;
    if (!handle) throw new Error("WhatsappCloudChannel.start(handle) must be called before notifications arrive");
    for (const event of parsed.events) await handle(event);
  }

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[]): Promise<void> {
    const messages = renderEffects(ref.conversationId, effects);
    if (messages.length === 0) return;
    await this.turns.run(ref.conversationId, async () => {
      for (const m of messages) await this.graph.send(m);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.inflight.drain();
    this.log.info({ channel: WHATSAPP_CLOUD }, "WhatsApp Cloud API channel closed");
  }
}
