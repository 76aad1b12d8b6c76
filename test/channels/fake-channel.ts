/**
 * A fake channel for the contract suite: the smallest thing that implements the Channel port the
 * way a real one must — a module with parseConfig and create, inbound through the started
 * handler with a webhook-like answer, keyboards remembered in ChannelStorage and closed in place,
 * in-flight work drained on close, and proactive delivery (a user the messenger knows resolves, one it
 * does not is a 404). It is also the template for a new channel (channels/README.md).
 */
import { errorSummary, isRetryLater } from "../../engine/errors.ts";
import type { ConversationRef, InboundEvent } from "../../engine/types.ts";
import { InFlight } from "../../channels/in-flight.ts";
import { defineChannel } from "../../channels/module.ts";
import type { Channel, EventHandler, ParseResult, ProactiveCapability, VisibleEffect } from "../../channels/port.ts";
import type { ChannelStorage } from "../../channels/storage/channel-storage.ts";
import type { Logger } from "../../engine/ports.ts";

export const FAKE = "fake";

/** One thing the fake messenger shows a user. */
export type FakeShown =
  | { kind: "message"; id: number; text: string; promptId?: string; labels: string[] }
  | { kind: "closed"; messageId: number; answer?: string }
  | { kind: "notice"; text: string };

/** What the fake messenger shows, per user, across every process (like the real messenger would). */
export class FakeMessenger {
  readonly shown = new Map<string, FakeShown[]>();
  attempts = 0;
  failures = 0;
  /** Users who have the fake messenger and can be written to first (the trigger API's recipients). */
  readonly users = new Set<string>();
  private nextId = 1;

  show(user: string, item: FakeShown | Omit<Extract<FakeShown, { kind: "message" }>, "id">): number {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      throw new Error("the fake messenger refused the call (503)");
    }
    const id = this.nextId++;
    const entry = item.kind === "message" ? { ...item, id } : item;
    this.shown.set(user, [...(this.shown.get(user) ?? []), entry as FakeShown]);
    return id;
  }

  of(user: string): FakeShown[] {
    return this.shown.get(user) ?? [];
  }
}

/** An inbound payload of the fake messenger. */
export type FakePayload = { id: string; user: string } & ({ kind: "start" } | { kind: "text"; text: string } | { kind: "tap"; promptId: string; index: number });

export function parseFakePayload(p: FakePayload): ParseResult {
  const base = { channel: FAKE, conversationId: p.user, userId: p.user, dedupeKey: p.id };
  switch (p.kind) {
    case "start":
      return { ok: true, events: [{ ...base, kind: "start" }] };
    case "text":
      return { ok: true, events: [{ ...base, kind: "text", text: p.text, startIfIdle: true }] };
    case "tap":
      return { ok: true, events: [{ ...base, kind: "choice", promptId: p.promptId, buttonIndex: p.index }] };
  }
}

export class FakeChannel implements Channel<FakePayload> {
  readonly name = FAKE;
  readonly limits = { channel: FAKE, maxLabelLength: 64, maxButtons: 24, maxTextLength: 4096 };
  private handler: EventHandler | undefined;
  private closing = false;
  private readonly inflight = new InFlight();

  constructor(
    private readonly messenger: FakeMessenger,
    private readonly keyboards: ChannelStorage,
    private readonly log: Logger,
  ) {}

  parseInbound(input: FakePayload): ParseResult {
    return parseFakePayload(input);
  }

  async start(handle: EventHandler): Promise<void> {
    this.handler = handle;
  }

  /** `to` is a user of the fake messenger; the ref is the one that user's payloads produce (parseFakePayload). */
  readonly proactive: ProactiveCapability = {
    resolve: async ({ to }) =>
      this.messenger.users.has(to)
        ? { ok: true, ref: { channel: FAKE, conversationId: to, userId: to } }
        : { ok: false, status: 404, problem: "unknown_recipient", reason: "the fake messenger has no such user" },
  };

  /** What a webhook would answer: 200 once saved, 503 closing or busy, 500 otherwise. */
  async receive(payload: FakePayload): Promise<number> {
    if (this.closing) return 503;
    const parsed = this.parseInbound(payload);
    if (!parsed.ok) return 400;
    try {
      await this.inflight.track((async () => {
        for (const event of parsed.events) await (this.handler as EventHandler)(event);
      })());
      return 200;
    } catch (err) {
      this.log.warn({ channel: FAKE, err: errorSummary(err) }, "fake payload not processed");
      return isRetryLater(err) ? 503 : 500;
    }
  }

  async deliver(ref: ConversationRef, effects: readonly VisibleEffect[], _cause?: InboundEvent): Promise<void> {
    const user = ref.conversationId;
    for (const e of effects) {
      switch (e.type) {
        case "send": {
          const m = e.message;
          const id = this.messenger.show(user, { kind: "message", text: m.text, ...(m.promptId !== undefined ? { promptId: m.promptId } : {}), labels: (m.buttons ?? []).map((b) => b.label) });
          if (m.promptId !== undefined && (m.buttons ?? []).length > 0) await this.keyboards.set(`${user}:${m.promptId}`, id, 60_000);
          break;
        }
        case "close": {
          const messageId = await this.keyboards.take(`${user}:${e.promptId}`);
          if (typeof messageId === "number") this.messenger.show(user, { kind: "closed", messageId, ...(e.answer ? { answer: e.answer.label } : {}) });
          break;
        }
        case "ignored":
          this.messenger.show(user, { kind: "notice", text: e.reason === "unknown_button" ? "not part of the question" : "closed" });
          break;
      }
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.inflight.drain();
  }
}

/** The fake's module: on with FAKE_CHANNEL=1; seams `{ messenger }` (shared by a test's processes). */
export const fakeModule = defineChannel<{ on: true }>({
  name: FAKE,
  title: "fake",
  variables: { FAKE_CHANNEL: "fake: 1 turns it on" },
  limits: { channel: FAKE, maxLabelLength: 64, maxButtons: 24, maxTextLength: 4096 },
  parseConfig: (get) => (get("FAKE_CHANNEL") === "1" ? { on: true } : undefined),
  async create(_config, deps) {
    const { messenger } = deps.seams as { messenger: FakeMessenger };
    return { channel: new FakeChannel(messenger, deps.storage.scope("keyboard:"), deps.logger) };
  },
});
