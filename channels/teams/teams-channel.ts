/**
 * The Microsoft Teams channel: the Bot Framework SDK's CloudAdapter on POST /api/messages.
 *
 * Inbound, the SDK authenticates each request (with an App ID, the Bearer token Teams signs;
 * without one, nothing: Bot Framework Emulator mode) and hands us the Activity, which becomes
 * events for the runtime. Outbound, the effects of an event go back through the turn's own
 * connector client (to the activity's serviceUrl) while the request is being answered, or,
 * for a timeout fired by the sweeper, through `continueConversationAsync` on the stored
 * conversation reference. Question cards are Adaptive Cards updated in place once answered.
 *
 * Invokes (invoke-response.ts): every `invoke` is answered 200 with an invoke response, never
 * botbuilder's 501. An `adaptiveCard/action` on a botflow card is an answer like a submit; its
 * response carries the closed card (instead of an update call) or the notice.
 *
 * Channel threads and group chats: each member who mentions the bot has a survey of their own
 * (parse-activity.ts `conversationIdOf`); the question cards name their owner, and a tap by
 * another member is told so and changes nothing.
 *
 * Proactive (the trigger API): `to` is a Teams conversation id whose reference is stored (every
 * activity stores it: a message, or the conversationUpdate / installationUpdate of installing
 * the bot); the first message goes through `continueConversationAsync`, like a timeout's, and a
 * refusal is a ChannelError with `recipient` for the trigger to record.
 *
 * Retries: the SDK's connector client already retries 429 and 5xx answers (and network errors)
 * with exponential backoff, honouring Retry-After, at most three times; a second layer here would
 * multiply the attempts. A call that still fails throws a ChannelError, the request is answered
 * 500 and Teams redelivers the activity (deduplicated on its id by the runtime).
 */
import {
  ActivityTypes,
  CardFactory,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TurnContext,
  type Activity,
  type ConversationReference,
} from "botbuilder";
import { TEAMS_LIMITS } from "./capabilities.ts";
import { ChannelError, errorSummary } from "../../engine/errors.ts";
import { silentLogger, type Logger } from "../../engine/ports.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import type { Channel, EventHandler, ParseResult, ProactiveCapability, ProactiveTarget, VisibleEffect } from "../port.ts";
import { isProactiveStart } from "../port.ts";
import { ADAPTIVE_CARD_CONTENT_TYPE, closedCard } from "./adaptive-card.ts";
import { MemoryChannelStorage } from "../storage/memory-channel-storage.ts";
import type { ChannelStorage } from "../storage/channel-storage.ts";
import { TeamsConversations, type StoredReference } from "./conversation-store.ts";
import {
  ADAPTIVE_CARD_ACTION,
  TEAMS,
  cardActionData,
  conversationIdOf,
  isOtherMembersCard,
  isSharedConversation,
  parseActivity,
  serviceUrlProblem,
  type TeamsActivity,
} from "./parse-activity.ts";
import { invokeResponse, type InvokeReply } from "./invoke-response.ts";
import { OTHER_MEMBER_NOTICE, planEffects, type TeamsOp } from "./render.ts";
import { InFlight } from "../in-flight.ts";
import type { WebhookOutcome } from "../webhook-route.ts";

export { TEAMS } from "./parse-activity.ts";

export { TEAMS_LIMITS } from "./capabilities.ts";

/** How the bot is registered in Azure (the SDK's MicrosoftAppType). */
export type TeamsAppType = "MultiTenant" | "SingleTenant" | "UserAssignedMSI";

/** The bot's Azure registration. No `appId`: authentication is off (Emulator only). Secrets: never log them. */
export interface TeamsCredentials {
  appId?: string;
  appPassword?: string;
  tenantId?: string;
  appType?: TeamsAppType;
}

/** What the composition root gives the channel. */
export interface TeamsOptions {
  credentials: TeamsCredentials;
  logger?: Logger;
  /** The scenario a new Teams conversation starts; default the runtime's. */
  scenarioId?: string;
  /** Start the scenario when the bot is added to a conversation. */
  startOnInstall?: boolean;
  /** Where conversation references and question cards are kept (Redis in production, so any web process has them); default memory. */
  storage?: ChannelStorage;
}

/** An HTTP request as the web server parsed it (JSON body). */
export interface TeamsHttpRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** The turn being answered, so effects of its events go out through its connector. */
interface Turn {
  conversationId: string;
  context: TurnContext;
  activity: TeamsActivity;
  /** An `adaptiveCard/action` invoke: the closed card and notices go into its response instead of the chat. */
  invoke?: InvokeReply;
}

/**
 * The Teams channel. `process` takes the HTTP requests, `deliver` the runtime's effects.
 *
 * @example
 * const teams = new TeamsChannel({ credentials: { appId, appPassword }, logger });
 * await teams.start((e) => runtime.handle(e));
 * const outcome = await teams.process({ method: "POST", headers, body: activity }); // from POST /api/messages
 */
export class TeamsChannel implements Channel<TeamsActivity> {
  readonly name = TEAMS;
  readonly limits = TEAMS_LIMITS;
  readonly authenticated: boolean;
  private readonly adapter: CloudAdapter;
  private readonly appId: string;
  private readonly log: Logger;
  private readonly store: TeamsConversations;
  // The turn behind each event (by identity), for `deliver`: reply and update cards in it.
  private readonly turns = new WeakMap<InboundEvent, Turn>();
  /** Activities being processed (the webhook route counts them), so close() can wait for them. */
  readonly inflight = new InFlight();
  private closing = false;
  private handler: EventHandler | undefined;

  constructor(private readonly o: TeamsOptions) {
    this.log = o.logger ?? silentLogger;
    this.store = new TeamsConversations(o.storage ?? new MemoryChannelStorage());
    const c = o.credentials;
    this.appId = c.appId ?? "";
    this.authenticated = this.appId !== "";
    const auth = new ConfigurationBotFrameworkAuthentication({
      MicrosoftAppId: this.appId,
      ...(c.appPassword !== undefined ? { MicrosoftAppPassword: c.appPassword } : {}),
      ...(c.tenantId !== undefined ? { MicrosoftAppTenantId: c.tenantId } : {}),
      ...(c.appType !== undefined ? { MicrosoftAppType: c.appType } : {}),
    });
    this.adapter = new CloudAdapter(auth);
    if (!this.authenticated) {
      this.log.warn(
        { channel: TEAMS, route: "/api/messages" },
        "TEAMS AUTHENTICATION IS OFF: MICROSOFT_APP_ID is not set, so /api/messages accepts activities from anyone (Bot Framework Emulator mode). " +
          "Never expose this address; set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD to connect Teams",
      );
    }
  }

  parseInbound(input: TeamsActivity): ParseResult {
    return parseActivity(input, {
      startOnInstall: this.o.startOnInstall ?? false,
      ...(this.o.scenarioId !== undefined ? { scenarioId: this.o.scenarioId } : {}),
    });
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /** Takes the handler (the runtime) the activities' events go to; POST /api/messages brings them. */
  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
  }

  /**
   * Runs one POST /api/messages through the SDK: authentication (401 when it fails, before
   * anything is read or stored), then each event of the activity through `handle`. Rejects when
   * an event could not be saved, so the webhook route answers 5xx and the Bot Framework
   * redelivers it. The route (channels/webhook-route.ts) counts the call as in flight.
   */
  async process(req: TeamsHttpRequest): Promise<WebhookOutcome> {
    const handle = this.handler;
    if (!handle) throw new Error("TeamsChannel.start(handle) must be called before activities arrive");
    const out: { status: number; body?: unknown } = { status: 200 };
    const res = {
      socket: undefined,
      status(code: number) {
        out.status = code;
      },
      header() {},
      send(body: unknown) {
        out.body = body;
      },
      end() {},
    };
    let refused: string | undefined;
    let failed: { err: unknown } | undefined;
    const body = typeof req.body === "object" && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : undefined;
    await this.adapter.process({ method: req.method, headers: req.headers, ...(body ? { body } : {}) }, res, async (context) => {
      const activity = context.activity as TeamsActivity;
      const parsed = this.parseInbound(activity);
      // Authenticated: the token vouched for this serviceUrl; still, botflow can only answer on https.
      const target = this.authenticated ? serviceUrlProblem(activity.serviceUrl, false) : undefined;
      if (target !== undefined) {
        refused = target;
        return;
      }
      const invoke = activity.type === "invoke";
      if (!parsed.ok) {
        // An invoke is a request the Teams client waits on: an unreadable one still gets its 200
        // (a "not handled" message), or the user sees an error; the reason is logged, as a drop is.
        if (!invoke) {
          refused = parsed.reason;
          return;
        }
        this.log.warn({ channel: TEAMS, reason: parsed.reason }, "a Teams invoke botflow cannot read was answered 200 without processing");
      }
      const events = parsed.ok ? parsed.events : [];
      const reply: InvokeReply | undefined = invoke && activity.name === ADAPTIVE_CARD_ACTION ? {} : undefined;
      try {
        const conversationId = conversationIdOf(activity);
        await this.store.saveReference(conversationId, referenceOf(context.activity));
        if (isOtherMembersCard(activity)) {
          if (reply) reply.text = OTHER_MEMBER_NOTICE;
          else await this.call("send", () => context.sendActivity({ type: "message", text: OTHER_MEMBER_NOTICE }));
        }
        for (const event of events) {
          this.turns.set(event, { conversationId, context, activity, ...(reply ? { invoke: reply } : {}) });
          await handle(event);
        }
        // The adapter writes this as the HTTP response (status and body) instead of its 501.
        if (invoke) await context.sendActivity({ type: ActivityTypes.InvokeResponse, value: invokeResponse(activity.name, reply, events.length > 0) });
      } catch (err) {
        failed = { err };
      }
    });
    if (out.status === 401) return { status: 401, reason: "the request came without a valid Bot Framework token" };
    if (refused !== undefined) return { status: 400, reason: refused };
    if (failed !== undefined) throw failed.err;
    if (out.status >= 400) return { status: 400, reason: `the Bot Framework SDK refused the request (${out.status})` };
    return { status: 200, ...(out.body !== undefined ? { body: out.body } : {}) };
  }

  /** `to` is a conversation id; the ref is the one the conversation's activities produce (from the stored reference). */
  readonly proactive: ProactiveCapability = {
    resolve: async ({ to, options }): Promise<ProactiveTarget> => {
      if (options !== undefined && Object.keys(options).length > 0) return { ok: false, status: 422, problem: "invalid_options", reason: "Teams takes no channel options" };
      const reference = to !== "" ? await this.store.reference(to) : undefined;
      if (!reference) return { ok: false, status: 404, problem: "unknown_recipient", reason: "this user has never talked to the bot" };
      // What parseActivity makes of the conversation's next activity: from.id, recipient.id.
      return { ok: true, ref: { channel: TEAMS, conversationId: to, userId: reference.user.id, ...(reference.bot.id !== "" ? { botId: reference.bot.id } : {}) } };
    },
  };

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], cause?: InboundEvent): Promise<void> {
    if (planEffects(effects).length === 0) return;
    const turn = cause ? this.turns.get(cause) : undefined;
    if (turn && turn.conversationId === ref.conversationId) {
      await this.perform(turn.context, ref.conversationId, planEffects(effects, ownerIn(turn.activity)), turn);
      return;
    }
    const proactive = isProactiveStart(cause);
    const reference = await this.store.reference(ref.conversationId);
    if (!reference && proactive) {
      throw new ChannelError(TEAMS, "continueConversation", "no conversation reference is stored for this conversation (the user never talked to the bot, or it expired)", { retryable: false, recipient: "unknown_recipient" });
    }
    if (!reference) {
      // Throwing would make the timeout sweeper retry this conversation forever.
      this.log.warn({ channel: TEAMS, conversation: ref.conversationId }, "no Teams conversation reference is known (none stored, or it expired); the messages were dropped");
      return;
    }
    // The survey's owner in a channel thread or group chat: the member the reference was stored for.
    const ops = planEffects(effects, isSharedConversation(reference) ? { owner: reference.user.id } : {});
    try {
      await this.adapter.continueConversationAsync(this.appId, reference as Partial<ConversationReference>, (context) =>
        this.perform(context, ref.conversationId, ops, undefined),
      );
    } catch (err) {
      // A trigger's first message: the trigger records why (403: the bot was removed or blocked; 404: the conversation is gone).
      if (proactive) throw recipientError(err);
      // Nothing redelivers a message the bot starts (a timeout's): a refusal that a retry cannot
      // change (403: the bot was removed; 404: the conversation is gone) is logged and dropped,
      // or the sweeper would try the conversation again every few seconds forever.
      if (!(err instanceof ChannelError) || err.retryable) throw err;
      this.log.warn({ channel: TEAMS, conversation: ref.conversationId, status: err.status }, "Teams refused a message to a conversation outside a turn; it was dropped");
    }
  }

  private async perform(context: TurnContext, conversationId: string, ops: readonly TeamsOp[], turn: Turn | undefined): Promise<void> {
    for (const op of ops) {
      switch (op.kind) {
        case "send": {
          const activity: Partial<Activity> = op.card
            ? { type: "message", attachments: [{ ...CardFactory.adaptiveCard(op.card), contentType: ADAPTIVE_CARD_CONTENT_TYPE }] }
            : { type: "message", text: op.text };
          const sent = await this.call("send", () => context.sendActivity(activity));
          if (op.promptId !== undefined && sent?.id) await this.store.savePromptCard(conversationId, op.promptId, { activityId: sent.id, text: op.text });
          break;
        }
        case "close":
          await this.closeCard(context, conversationId, op, turn);
          break;
        case "notice":
          // Answering an invoke: the notice is its response, seen by the one who tapped.
          if (turn?.invoke) turn.invoke.text = op.text;
          else await this.call("send", () => context.sendActivity({ type: "message", text: op.text }));
          break;
      }
    }
  }

  /**
   * Updates the prompt's card in place. The card's activity is the one remembered when it was
   * sent, or, when a submit from it is being answered, the one the submit replies to. A card
   * that cannot be updated only stays tappable (a later tap is answered as stale), so the
   * failure is logged rather than thrown: the answer itself is already taken. The card an
   * `adaptiveCard/action` invoke came from is not updated: the closed card is the invoke's
   * response, which Teams puts in its place.
   */
  private async closeCard(context: TurnContext, conversationId: string, op: Extract<TeamsOp, { kind: "close" }>, turn: Turn | undefined): Promise<void> {
    const inbound = turn?.activity;
    const known = await this.store.promptCard(conversationId, op.promptId);
    const submitted = inbound?.replyToId !== undefined && isSubmitFor(inbound !== undefined ? cardActionData(inbound) : undefined, op.promptId) ? inbound.replyToId : undefined;
    const activityId = known?.activityId ?? submitted;
    if (activityId === undefined) return; // a plain-text prompt, or a card this process never saw
    const card = closedCard(known?.text, op.status);
    if (turn?.invoke && inbound?.replyToId === activityId) {
      turn.invoke.card = card;
      return;
    }
    try {
      await context.updateActivity({ type: "message", id: activityId, attachments: [{ ...CardFactory.adaptiveCard(card), contentType: ADAPTIVE_CARD_CONTENT_TYPE }] });
    } catch (err) {
      this.log.warn({ channel: TEAMS, conversation: conversationId, err: errorSummary(err) }, "a Teams question card could not be updated; it stays tappable and a tap is answered as closed");
    }
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const status = statusOf(err);
      throw new ChannelError(
        TEAMS,
        operation,
        `the Bot Framework connector ${status !== undefined ? `answered ${status}` : "could not be reached"} (after the SDK's retries); the activity is answered 500 so it is redelivered`,
        { ...(status !== undefined ? { status } : {}), retryable: status === undefined || status === 429 || status >= 500, cause: err },
      );
    }
  }

  /** Stops taking activities (503) and waits for the ones being processed. */
  async close(): Promise<void> {
    this.closing = true;
    await this.inflight.drain();
    this.log.info({ channel: TEAMS }, "Teams channel closed");
  }
}

/** The reference to reach the conversation later; no activity id, so later messages are not threaded as replies. */
function referenceOf(activity: Activity): StoredReference {
  const r = TurnContext.getConversationReference(activity);
  return {
    channelId: r.channelId ?? activity.channelId,
    serviceUrl: r.serviceUrl ?? activity.serviceUrl,
    conversation: {
      id: activity.conversation.id,
      ...(activity.conversation.tenantId !== undefined ? { tenantId: activity.conversation.tenantId } : {}),
      ...(activity.conversation.conversationType !== undefined ? { conversationType: activity.conversation.conversationType } : {}),
      ...(activity.conversation.isGroup !== undefined ? { isGroup: activity.conversation.isGroup } : {}),
    },
    bot: { id: activity.recipient.id, ...(activity.recipient.name !== undefined ? { name: activity.recipient.name } : {}) },
    user: {
      id: activity.from.id,
      ...(activity.from.name !== undefined ? { name: activity.from.name } : {}),
      ...(activity.from.aadObjectId !== undefined ? { aadObjectId: activity.from.aadObjectId } : {}),
    },
    ...(activity.locale !== undefined ? { locale: activity.locale } : {}),
  };
}

/** A refused first message as the trigger records it. */
function recipientError(err: unknown): unknown {
  if (!(err instanceof ChannelError) || err.retryable) return err;
  const recipient = err.status === 403 ? "blocked" : err.status === 404 ? "unknown_recipient" : undefined;
  if (recipient === undefined) return err;
  return new ChannelError(TEAMS, err.operation, `the Bot Framework connector refused a first message to this conversation (${err.status})`, { ...(err.status !== undefined ? { status: err.status } : {}), retryable: false, recipient, cause: err });
}

/** The owner option of planEffects for a turn's activity: its author in a shared conversation. */
function ownerIn(activity: TeamsActivity): { owner?: string } {
  return isSharedConversation(activity) && typeof activity.from?.id === "string" ? { owner: activity.from.id } : {};
}

function isSubmitFor(value: unknown, promptId: string): boolean {
  return typeof value === "object" && value !== null && (value as { promptId?: unknown }).promptId === promptId;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === "number" ? s : undefined;
}
