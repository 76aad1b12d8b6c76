/**
 * The WhatsApp Cloud API channel: Meta posts user messages to our webhook, we answer through
 * the Graph API. One business phone number per channel; the conversation is the user's wa_id.
 *
 * Deliveries to one user go out one after another in this process, so a question never
 * overtakes the message before it.
 *
 * Every message a user sends opens their 24-hour customer-service window (service-window.ts, in
 * the ChannelStorage: any web process knows it). A survey the trigger API starts (`proactive`)
 * goes out as the usual question inside the window and as a template outside it (template.ts).
 */
import { ChannelError } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import type { Channel, EventHandler, VisibleEffect } from "../port.ts";
import type { ChannelStorage } from "../storage/channel-storage.ts";
import { GraphClient, WHATSAPP_CLOUD, type GraphClientOptions, type GraphMessage } from "./graph-client.ts";
import { WhatsappCloudProactive } from "./proactive.ts";
import { WHATSAPP_CLOUD_LIMITS } from "./capabilities.ts";
import { renderEffects } from "./render.ts";
import { ServiceWindow } from "./service-window.ts";
import { renderTemplate, type TemplateSpec } from "./template.ts";
import { parseWebhook, type WebhookParse } from "./webhook.ts";
import { InFlight } from "../in-flight.ts";
import { perSecondBucket } from "../rate-limit/rate-config.ts";
import type { RateLimitKey } from "../rate-limit/token-bucket.ts";
import { WHATSAPP_CLOUD_MESSAGES_PER_SECOND } from "./cloud-config.ts";
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
  /** Where the 24-hour windows are kept: the module's ChannelStorage (Redis in production). */
  storage: ChannelStorage;
  /** The template a proactive survey sends outside the window when the trigger names none (WHATSAPP_CLOUD_TEMPLATE*). */
  template?: TemplateSpec;
  /** Epoch ms (default Date.now): tests move the 24-hour window on a simulated clock. */
  now?: () => number;
  /** The number's pace (WHATSAPP_CLOUD_MESSAGES_PER_SECOND, default the Cloud API's 80 a second). */
  messagesPerSecond?: number;
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
  private readonly window: ServiceWindow;
  private readonly now: () => number;
  /** The trigger API's way in: who a wa_id is and whether a first message can reach them now. */
  readonly proactive: WhatsappCloudProactive;
  private readonly messagesPerSecond: number;

  constructor(o: WhatsappCloudOptions) {
    this.appSecret = o.appSecret;
    this.verifyToken = o.verifyToken;
    this.phoneNumberId = o.phoneNumberId;
    this.scenarioId = o.scenarioId;
    this.log = o.logger ?? silentLogger;
    this.graph = new GraphClient({ apiRoot: o.apiRoot, phoneNumberId: o.phoneNumberId, accessToken: o.accessToken, ...o.graph });
    this.now = o.now ?? Date.now;
    this.window = new ServiceWindow(o.storage, o.phoneNumberId, this.now);
    this.proactive = new WhatsappCloudProactive(this.window, o.template);
    this.messagesPerSecond = o.messagesPerSecond ?? WHATSAPP_CLOUD_MESSAGES_PER_SECOND;
  }

  /** The business number's bucket: the Cloud API's throughput is per phone number id. */
  pacing(): readonly RateLimitKey[] {
    return [perSecondBucket(`${WHATSAPP_CLOUD}:${this.phoneNumberId}`, this.messagesPerSecond)];
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** A parsed (and already signature-checked) webhook body. */
  parseInbound(body: unknown): WebhookParse {
    return parseWebhook(body, { phoneNumberId: this.phoneNumberId, ...(this.scenarioId !== undefined ? { scenarioId: this.scenarioId } : {}) });
  }

  /** Takes the handler (the runtime) the notifications' events go to; POST /whatsapp/webhook brings them. */
  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
  }

  /**
   * Runs one signed notification: notes the windows it opens (and those WhatsApp said were closed),
   * then its events through the handler; resolves once all are saved. The windows come first, so an
   * answer's reply already goes out as a free-form message.
   */
  async process(parsed: Extract<WebhookParse, { ok: true }>): Promise<void> {
    const handle = this.handler;
    if (!handle) throw new Error("WhatsappCloudChannel.start(handle) must be called before notifications arrive");
    for (const waId of parsed.windowClosed) await this.window.closed(waId);
    if (parsed.windowClosed.length > 0) this.log.warn({ channel: WHATSAPP_CLOUD, count: parsed.windowClosed.length }, "WhatsApp refused messages outside the 24-hour window (131047); the next proactive survey to those users sends a template");
    for (const s of parsed.seen) await this.window.opened(s.waId, s.at ?? this.now());
    for (const event of parsed.events) await handle(event);
  }

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent): Promise<void> {
    const to = ref.conversationId;
    const messages = cause?.kind === "start" && cause.proactive ? await this.renderProactive(to, effects, cause.proactive.options, cause.variables ?? {}) : renderEffects(to, effects);
    if (messages.length === 0) return;
    await this.turns.run(to, async () => {
      try {
        for (const m of messages) await this.graph.send(m);
      } catch (err) {
        // WhatsApp knows better than our record: the next proactive survey to this user takes a template.
        if (err instanceof ChannelError && err.recipient === "window_closed") await this.window.closed(to);
        throw err;
      }
    });
  }

  /**
   * A triggered survey's first turn. Inside the window: as any turn. Outside: one template message
   * instead, whose body is filled from the trigger's variables and the question's text and whose
   * quick replies carry the question's buttons; the turn's other messages (an intro before the
   * question) cannot be sent outside the window and are left out.
   */
  private async renderProactive(to: string, effects: readonly VisibleEffect[], options: Readonly<Record<string, unknown>> | undefined, variables: NonNullable<InboundEvent["variables"]>): Promise<GraphMessage[]> {
    const plan = await this.proactive.plan(to, options);
    if (!plan.ok) throw new ChannelError(WHATSAPP_CLOUD, "send", plan.reason, { retryable: false, ...(plan.problem === "window_closed" ? { recipient: "window_closed" as const } : {}) });
    if (plan.template === undefined) return renderEffects(to, effects);
    const sends = effects.flatMap((e) => (e.type === "send" ? [e.message] : []));
    if (sends.length === 0) return [];
    const question = sends.find((m) => m.promptId !== undefined && (m.buttons ?? []).length > 0);
    const rendered = renderTemplate(to, plan.template, {
      question: question?.text ?? sends.map((m) => m.text).join(" "),
      ...(question?.promptId !== undefined ? { promptId: question.promptId } : {}),
      buttons: question?.buttons ?? [],
      variables,
    });
    if (!rendered.ok) throw new ChannelError(WHATSAPP_CLOUD, "send", rendered.reason, { retryable: false });
    this.log.info({ channel: WHATSAPP_CLOUD, template: plan.template.name, buttons: question?.buttons?.length ?? 0 }, "24-hour window closed: the triggered survey goes out as its template");
    return [rendered.message];
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.inflight.drain();
    this.log.info({ channel: WHATSAPP_CLOUD }, "WhatsApp Cloud API channel closed");
  }
}
