/**
 * Reads a Bot Framework Activity (as Teams or the Emulator posts it to /api/messages) into
 * normalised events: a card submit becomes a `choice`, typed text a `text` that starts the
 * scenario when no dialogue is in progress, and the bot being added to a conversation a
 * `start` when the channel is configured to greet.
 */
import type { InboundEvent } from "../../engine/types.ts";
import type { ParseResult } from "../port.ts";

export const TEAMS = "teams";

/** The fields of an Activity the channel reads; everything else is ignored. */
export interface TeamsActivity {
  type?: string;
  id?: string;
  text?: string;
  value?: unknown;
  locale?: string;
  replyToId?: string;
  channelId?: string;
  serviceUrl?: string;
  conversation?: { id?: string; tenantId?: string; conversationType?: string; isGroup?: boolean };
  from?: { id?: string; name?: string; aadObjectId?: string };
  recipient?: { id?: string; name?: string };
  membersAdded?: { id?: string }[];
}

export interface ParseOptions {
  /** The scenario a new conversation starts; default the runtime's. */
  scenarioId?: string;
  /** Start the scenario when the bot is added to a conversation (conversationUpdate). */
  startOnInstall: boolean;
}

/**
 * Longest text taken from one message: the longest answer a scenario may accept (max_length is
 * at most 65536), so a long comment is judged by the scenario, not cut here.
 */
const MAX_TEXT = 65_536;

export function parseActivity(a: TeamsActivity, o: ParseOptions): ParseResult {
  const conversationId = a.conversation?.id;
  const userId = a.from?.id;
  if (typeof conversationId !== "string" || conversationId === "") return { ok: false, reason: "the activity has no conversation.id" };
  if (typeof userId !== "string" || userId === "") return { ok: false, reason: "the activity has no from.id" };
  if (typeof a.id !== "string" || a.id === "") return { ok: false, reason: "the activity has no id, so its redelivery could not be recognised" };
  const base: Pick<InboundEvent, "channel" | "conversationId" | "userId" | "dedupeKey" | "botId" | "locale"> = {
    channel: TEAMS,
    conversationId,
    userId,
    dedupeKey: a.id,
    ...(typeof a.recipient?.id === "string" && a.recipient.id !== "" ? { botId: a.recipient.id } : {}),
    ...(typeof a.locale === "string" && /^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/.test(a.locale) ? { locale: a.locale } : {}),
  };
  const scenario = o.scenarioId !== undefined ? { scenarioId: o.scenarioId } : {};

  if (a.type === "message") {
    if (a.value !== undefined && a.value !== null) {
      const submit = readSubmit(a.value);
      if (submit === "foreign") return { ok: true, events: [] };
      if (submit === "malformed") return { ok: false, reason: "the card submit carries botflow data without a valid promptId and index" };
      return { ok: true, events: [{ ...base, kind: "choice", promptId: submit.promptId, buttonIndex: submit.index }] };
    }
    const text = stripMentions(typeof a.text === "string" ? a.text : "").slice(0, MAX_TEXT);
    if (text === "") return { ok: true, events: [] };
    return { ok: true, events: [{ ...base, kind: "text", text, startIfIdle: true, ...scenario }] };
  }
  if (a.type === "conversationUpdate" && o.startOnInstall) {
    const bot = a.recipient?.id;
    if (bot !== undefined && (a.membersAdded ?? []).some((m) => m.id === bot)) {
      return { ok: true, events: [{ ...base, kind: "start", ...scenario }] };
    }
  }
  return { ok: true, events: [] };
}

function readSubmit(value: unknown): { promptId: string; index: number } | "foreign" | "malformed" {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "foreign";
  const v = value as Record<string, unknown>;
  if (v.botflow !== 1) return "foreign";
  const { promptId, index } = v;
  if (typeof promptId !== "string" || promptId === "" || promptId.length > 64) return "malformed";
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index > 1000) return "malformed";
  return { promptId, index };
}

/** In channels and group chats Teams puts `<at>Bot</at>` in the text when the user mentions the bot. */
function stripMentions(text: string): string {
  return text.replace(/<at>[^<]*<\/at>/g, " ").replace(/\s+/g, " ").trim();
}
