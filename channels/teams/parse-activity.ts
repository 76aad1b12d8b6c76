/**
 * Reads a Bot Framework Activity (as Teams or the Emulator posts it to /api/messages) into
 * normalised events: a card submit (Action.Submit's message, or Action.Execute's
 * `adaptiveCard/action` invoke) becomes a `choice`, typed text a `text` that starts the
 * scenario when no dialogue is in progress, and the bot being added to a conversation a
 * `start` when the channel is configured to greet.
 *
 * In a channel thread or a group chat (a *shared* conversation) every member who mentions the
 * bot has a survey of their own: the engine's conversation is the Teams conversation and the
 * member (`<conversation.id>|<from.id>`, {@link conversationIdOf}), so nobody's message or tap
 * can answer someone else's survey; the question cards carry their owner (`for`) so a tap by
 * another member is told so instead of being taken as a stale answer.
 */
import type { InboundEvent } from "../../engine/types.ts";
import type { ParseResult } from "../port.ts";

export const TEAMS = "teams";

/** The invoke Teams sends for an Adaptive Card's Action.Execute (Universal Actions). */
export const ADAPTIVE_CARD_ACTION = "adaptiveCard/action";

/** Between the Teams conversation id and the member in a shared conversation's id; in neither of them. */
export const MEMBER_SEPARATOR = "|";

/** The fields of an Activity the channel reads; everything else is ignored. */
export interface TeamsActivity {
  type?: string;
  id?: string;
  /** An invoke's name (`adaptiveCard/action`, `composeExtension/query`, …). */
  name?: string;
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

/** Fields that are strings when present (a path into the Activity). */
const STRING_FIELDS = [
  ["id"], ["text"], ["locale"], ["replyToId"], ["channelId"], ["textFormat"], ["name"],
  ["conversation", "id"], ["conversation", "tenantId"], ["conversation", "conversationType"], ["conversation", "name"],
  ["from", "id"], ["from", "name"], ["from", "aadObjectId"], ["from", "role"],
  ["recipient", "id"], ["recipient", "name"], ["recipient", "role"],
] as const;

function at(v: unknown, path: readonly string[]): unknown {
  let node = v;
  for (const k of path) node = typeof node === "object" && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>)[k] : undefined;
  return node;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Why a body cannot be a Bot Framework Activity botflow can answer, or undefined when it can: a
 * string `type`, `conversation`, `from` and `recipient` objects with string ids, string texts, and
 * (`emulator`: no App ID, so no token to trust) a `serviceUrl` to answer on, see
 * {@link serviceUrlProblem}. Checked before botbuilder sees the body, which would otherwise fail on it
 * with a 500 on every redelivery; the webhook drops (and counts) such a body. With an App ID the
 * serviceUrl is checked after botbuilder has matched it against the signed token.
 */
export function activityProblem(body: unknown, o: { emulator: boolean }): string | undefined {
  if (!isObject(body)) return "not a Bot Framework Activity (not an object)";
  if (typeof body.type !== "string" || body.type === "") return "the activity has no string type";
  for (const key of ["conversation", "from", "recipient"]) if (!isObject(body[key])) return `the activity's ${key} is not an object`;
  for (const path of STRING_FIELDS) {
    const v = at(body, path);
    if (v !== undefined && v !== null && typeof v !== "string") return `the activity's ${path.join(".")} is not a string`;
  }
  if (typeof at(body, ["conversation", "id"]) !== "string" || at(body, ["conversation", "id"]) === "") return "the activity has no conversation.id";
  if (typeof at(body, ["from", "id"]) !== "string") return "the activity has no from.id";
  for (const key of ["membersAdded", "membersRemoved", "entities", "attachments"]) {
    const list = body[key];
    if (list !== undefined && list !== null && (!Array.isArray(list) || !list.every(isObject))) return `the activity's ${key} is not a list of objects`;
  }
  const members = body.membersAdded;
  if (Array.isArray(members) && members.some((m) => typeof (m as { id?: unknown }).id !== "string")) return "a membersAdded entry has no string id";
  if (body.channelData !== undefined && body.channelData !== null && !isObject(body.channelData)) return "the activity's channelData is not an object";
  return o.emulator ? serviceUrlProblem(body.serviceUrl, true) : undefined;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Why botflow cannot answer on `value`: it must be https, or (`emulator`) http(s) on this machine, where the Emulator listens. */
export function serviceUrlProblem(value: unknown, emulator: boolean): string | undefined {
  if (typeof value !== "string") return "the activity has no serviceUrl to answer on";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "the activity's serviceUrl is not a URL";
  }
  if (url.protocol === "https:") return undefined;
  if (emulator && url.protocol === "http:" && LOOPBACK.has(url.hostname)) return undefined;
  return emulator ? "the activity's serviceUrl is neither https nor the Emulator on this machine" : "the activity's serviceUrl is not https";
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

/**
 * Whether several people share the conversation: a channel (its threads) or a group chat.
 * A personal chat, and the Emulator's conversations, are not shared.
 */
export function isSharedConversation(a: Pick<TeamsActivity, "conversation">): boolean {
  const type = a.conversation?.conversationType;
  return type === "channel" || type === "groupChat";
}

/**
 * The engine's conversation for an activity: the Teams conversation id, or in a shared one the
 * Teams conversation and the member, so each member who mentions the bot has a survey of their own.
 */
export function conversationIdOf(a: Pick<TeamsActivity, "conversation" | "from">): string {
  const id = a.conversation?.id ?? "";
  return isSharedConversation(a) ? `${id}${MEMBER_SEPARATOR}${a.from?.id ?? ""}` : id;
}

/** Who a shared conversation's survey belongs to (the member part of its id); undefined in a personal chat. */
export function ownerOf(conversationId: string): string | undefined {
  const i = conversationId.lastIndexOf(MEMBER_SEPARATOR);
  return i >= 0 ? conversationId.slice(i + 1) : undefined;
}

/** The data of a card action: `value` of an Action.Submit message, `value.action.data` of an Action.Execute invoke. */
export function cardActionData(a: TeamsActivity): unknown {
  if (a.type === "message") return a.value ?? undefined;
  if (a.type === "invoke" && a.name === ADAPTIVE_CARD_ACTION && isObject(a.value) && isObject(a.value.action)) return a.value.action.data;
  return undefined;
}

/** A tap on a botflow question card that belongs to another member (its `for`): answered with a notice, no event. */
export function isOtherMembersCard(a: TeamsActivity): boolean {
  const data = cardActionData(a);
  return isObject(data) && data.botflow === 1 && typeof data.for === "string" && data.for !== a.from?.id;
}

export function parseActivity(a: TeamsActivity, o: ParseOptions): ParseResult {
  const userId = a.from?.id;
  if (typeof a.conversation?.id !== "string" || a.conversation.id === "") return { ok: false, reason: "the activity has no conversation.id" };
  if (typeof userId !== "string" || userId === "") return { ok: false, reason: "the activity has no from.id" };
  const conversationId = conversationIdOf(a);
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

  const data = cardActionData(a);
  if (data !== undefined && data !== null) {
    const submit = readSubmit(data);
    if (submit === "foreign" || isOtherMembersCard(a)) return { ok: true, events: [] };
    if (submit === "malformed") return { ok: false, reason: "the card submit carries botflow data without a valid promptId and index" };
    return { ok: true, events: [{ ...base, kind: "choice", promptId: submit.promptId, buttonIndex: submit.index }] };
  }
  if (a.type === "message") {
    const text = stripMentions(typeof a.text === "string" ? a.text : "").slice(0, MAX_TEXT);
    // In a shared conversation the bot hears only messages that mention it: a bare mention is
    // the member asking for the survey. Elsewhere an empty text (an attachment alone) says nothing.
    if (text === "" && !isSharedConversation(a)) return { ok: true, events: [] };
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
