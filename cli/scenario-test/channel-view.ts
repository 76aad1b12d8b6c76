/**
 * What a user sees of a bot message on each channel, read off the channel's own renderer (the
 * code its adapter sends with), so `botflow test` asserts what the messenger shows: a WhatsApp
 * Cloud list instead of buttons, WhatsApp Web's numbered "Reply 1–5" prompt, Telegram's text
 * limit. Each tappable element keeps the prompt and button it answers, decoded from the ids the
 * renderer put on it (callback data, reply ids, card data), the way the channel's inbound side
 * reads a tap.
 */
import type { ChannelLimits } from "../../engine/catalog.ts";
import type { OutMessage } from "../../engine/types.ts";
import type { VisibleEffect } from "../../channels/port.ts";
import type { AdaptiveCard } from "../../channels/teams/adaptive-card.ts";
import { TEAMS } from "../../channels/teams/parse-activity.ts";
import { planEffects } from "../../channels/teams/render.ts";
import { TEAMS_LIMITS } from "../../channels/teams/teams-channel.ts";
import { decodeCallbackData } from "../../channels/telegram/callback-data.ts";
import { TELEGRAM } from "../../channels/telegram/inbound.ts";
import { inlineKeyboard, telegramText } from "../../channels/telegram/render.ts";
import { TELEGRAM_LIMITS } from "../../channels/telegram/telegram-channel.ts";
import { renderEffects as renderWebchat } from "../../channels/webchat/render.ts";
import { WEBCHAT, WEBCHAT_LIMITS } from "../../channels/webchat/webchat-channel.ts";
import { WHATSAPP_CLOUD } from "../../channels/whatsapp-cloud/graph-client.ts";
import { WHATSAPP_CLOUD_LIMITS } from "../../channels/whatsapp-cloud/capabilities.ts";
import { parseReplyId, renderEffects as renderCloud } from "../../channels/whatsapp-cloud/render.ts";
import { WHATSAPP_WEB_LIMITS } from "../../channels/whatsapp/capabilities.ts";
import { renderEffects as renderWeb, WHATSAPP_WEB } from "../../channels/whatsapp/render.ts";

/** The channels a case may name. */
export const TEST_CHANNELS = [TELEGRAM, TEAMS, WHATSAPP_CLOUD, WHATSAPP_WEB, WEBCHAT] as const;
export type TestChannel = (typeof TEST_CHANNELS)[number];

export function isTestChannel(v: unknown): v is TestChannel {
  return typeof v === "string" && (TEST_CHANNELS as readonly string[]).includes(v);
}

/** The load-time limits of each channel: a case on a channel loads the scenario as a server with that channel enabled does. */
export const CHANNEL_LIMITS: Readonly<Record<TestChannel, ChannelLimits>> = {
  [TELEGRAM]: TELEGRAM_LIMITS,
  [TEAMS]: TEAMS_LIMITS,
  [WHATSAPP_CLOUD]: WHATSAPP_CLOUD_LIMITS,
  [WHATSAPP_WEB]: WHATSAPP_WEB_LIMITS,
  [WEBCHAT]: WEBCHAT_LIMITS,
};

/** Something the user can tap, with the prompt and button the channel maps the tap back to. */
export interface Tappable {
  label: string;
  promptId: string;
  index: number;
}

/** One message as the user sees it. */
export interface SeenMessage {
  text: string;
  /** Buttons shown with the message (inline keyboard, card actions, reply buttons). */
  buttons: Tappable[];
  /** Rows of an interactive list (WhatsApp Cloud), behind the button labelled `listButton`. */
  list: Tappable[];
  listButton?: string;
}

/** The messages `message` becomes on `channel` (undefined: as the engine sent it, the way `botflow run` shows it). */
export function seeMessage(message: OutMessage, channel: TestChannel | undefined): SeenMessage[] {
  const send: VisibleEffect = { type: "send", message };
  switch (channel) {
    case undefined:
      return [{ text: message.text, buttons: message.promptId === undefined ? [] : (message.buttons ?? []).map((b) => ({ label: b.label, promptId: message.promptId as string, index: b.index })), list: [] }];
    case TELEGRAM:
      return [seeTelegram(message)];
    case TEAMS:
      return planEffects([send]).flatMap((op) => (op.kind === "send" ? [seeTeams(op.text, op.card)] : []));
    case WHATSAPP_CLOUD:
      return renderCloud("0", [send]).map(seeCloud);
    case WHATSAPP_WEB:
      // WHATSAPP_WEB_POLLS is off by default: the question is a numbered text prompt only.
      return renderWeb([send], { polls: false }).flatMap((out) => (out.kind === "text" ? [{ text: out.text, buttons: [], list: [] }] : []));
    case WEBCHAT:
      return renderWebchat([send]).flatMap((f) =>
        f.type === "message" ? [{ text: f.text, buttons: f.promptId === undefined ? [] : (f.buttons ?? []).map((b) => ({ label: b.label, promptId: f.promptId as string, index: b.index })), list: [] }] : [],
      );
    default:
      return assertChannel(channel);
  }
}

/**
 * The notice a channel sends when input is ignored (a tap on a closed question), as messages;
 * none where the channel shows nothing in the chat (Telegram answers the tap with a toast).
 */
export function seeIgnored(reason: Extract<VisibleEffect, { type: "ignored" }>["reason"], channel: TestChannel | undefined): SeenMessage[] {
  const effect: VisibleEffect = { type: "ignored", reason };
  if (channel === TEAMS) return planEffects([effect]).flatMap((op) => (op.kind === "notice" ? [{ text: op.text, buttons: [], list: [] }] : []));
  if (channel === WHATSAPP_CLOUD) return renderCloud("0", [effect]).map(seeCloud);
  return [];
}

function seeTelegram(message: OutMessage): SeenMessage {
  const buttons: Tappable[] = [];
  for (const row of inlineKeyboard(message)?.inline_keyboard ?? []) {
    for (const b of row) {
      const target = "callback_data" in b ? decodeCallbackData(b.callback_data) : undefined;
      if (target) buttons.push({ label: b.text, promptId: target.promptId, index: target.buttonIndex });
    }
  }
  return { text: telegramText(message.text), buttons, list: [] };
}

function seeTeams(text: string, card: AdaptiveCard | undefined): SeenMessage {
  if (!card) return { text, buttons: [], list: [] };
  const texts: string[] = [];
  const buttons: Tappable[] = [];
  for (const element of card.body) {
    if (element.type === "TextBlock") texts.push(element.text);
    else for (const a of element.actions) buttons.push({ label: a.title, promptId: a.data.promptId, index: a.data.index });
  }
  return { text: texts.join("\n"), buttons, list: [] };
}

/** Reads a Graph API message body; its type is deliberately loose (graph-client.ts), so every field is checked. */
function seeCloud(m: Record<string, unknown>): SeenMessage {
  if (m.type === "text") return { text: String(field(m, "text", "body") ?? ""), buttons: [], list: [] };
  const interactive = field(m, "interactive");
  const text = String(field(interactive, "body", "text") ?? "");
  const action = field(interactive, "action");
  const buttons: Tappable[] = [];
  const list: Tappable[] = [];
  for (const b of asArray(field(action, "buttons"))) {
    const target = parseReplyId(String(field(b, "reply", "id")));
    if (target) buttons.push({ label: String(field(b, "reply", "title")), promptId: target.promptId, index: target.buttonIndex });
  }
  for (const section of asArray(field(action, "sections"))) {
    for (const row of asArray(field(section, "rows"))) {
      const target = parseReplyId(String(field(row, "id")));
      if (target) list.push({ label: String(field(row, "title")), promptId: target.promptId, index: target.buttonIndex });
    }
  }
  const listButton = field(action, "button");
  return { text, buttons, list, ...(typeof listButton === "string" ? { listButton } : {}) };
}

function field(v: unknown, ...keys: string[]): unknown {
  let at = v;
  for (const k of keys) at = at !== null && typeof at === "object" ? (at as Record<string, unknown>)[k] : undefined;
  return at;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function assertChannel(channel: never): never {
  throw new Error(`no view for channel ${String(channel)}`);
}
