/**
 * What every channel's trigger API test does over HTTP: POST /api/dialogues and GET its state
 * with the server's token, wait for something to happen, and check that a refused trigger left
 * no trace (no trigger under its key, no dialogue for the recipient).
 */
import { expect } from "vitest";
import type { App } from "../../app/compose.ts";
import type { SurveyStore } from "../../stats/store/survey-store.ts";
import { storedDialogue } from "../app/app-harness.ts";

/** The BOTFLOW_TOKEN the tests' apps run with. */
export const API_TOKEN = "trigger-api-token-0123456789";

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POST /api/dialogues with the token (or `token`, null for none). */
export async function trigger(url: string, body: unknown, token: string | null = API_TOKEN): Promise<ApiAnswer> {
  const res = await fetch(`${url}/api/dialogues`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** GET /api/dialogues/{id}'s body. */
export async function triggerState(url: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/dialogues/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
  return (await res.json()) as Record<string, unknown>;
}

/** Waits until GET /api/dialogues/{id} says `state`; returns that body. */
export async function untilState(url: string, id: string, state: string, ms = 10_000): Promise<Record<string, unknown>> {
  return until(async () => {
    const v = await triggerState(url, id);
    return v.state === state ? v : undefined;
  }, ms);
}

/** Polls `check` until it gives a value (not undefined or false). */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A refused trigger recorded nothing: no trigger under `key`, no dialogue for `conversationId`. */
export async function expectNothingRecorded(app: App, store: SurveyStore, key: string, conversationId: string): Promise<void> {
  const triggers = app.services.triggerStore;
  if (!triggers) throw new Error("the app has no trigger store (the survey store is not the SQL one)");
  expect(await triggers.byKey(key)).toBeUndefined();
  expect(await storedDialogue(store, conversationId)).toBeUndefined();
}
