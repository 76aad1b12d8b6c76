/**
 * Helpers for the Teams tests: real Activity fixtures (test/fixtures/teams/) re-addressed to a
 * test's conversation and fake connector, and posting them to the app's /api/messages.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ConnectorCall } from "./teams-fake-connector.ts";

export type Json = Record<string, unknown>;

export function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/teams/${name}.json`, import.meta.url), "utf8")) as Json;
}

export function newConversationId(): string {
  return `a:test-${randomUUID()}`;
}

/** A fixture with its conversation, serviceUrl and id replaced, and any other fields overridden. */
export function activity(name: string, conversationId: string, serviceUrl: string, over: Json = {}): Json {
  const a = fixture(name);
  return {
    ...a,
    id: `act-${randomUUID()}`,
    serviceUrl,
    conversation: { ...(a.conversation as Json), id: conversationId },
    ...over,
  };
}

export async function post(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${baseUrl}/api/messages`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

export interface CardJson {
  type: string;
  version: string;
  body: { type: string; text?: string; actions?: { type: string; title: string; data: Json }[] }[];
}

/** The Adaptive Card a connector call carries (undefined for a text message). */
export function cardOf(call: ConnectorCall | undefined): CardJson | undefined {
  const attachments = call?.body.attachments as { contentType: string; content: CardJson }[] | undefined;
  const a = attachments?.find((x) => x.contentType === "application/vnd.microsoft.card.adaptive");
  return a?.content;
}

/** The button rows of a card: each ActionSet's titles. */
export function rowsOf(card: CardJson | undefined): string[][] {
  return (card?.body ?? []).filter((e) => e.type === "ActionSet").map((e) => (e.actions ?? []).map((x) => x.title));
}

export function textsOf(card: CardJson | undefined): string[] {
  return (card?.body ?? []).filter((e) => e.type === "TextBlock").map((e) => e.text ?? "");
}
