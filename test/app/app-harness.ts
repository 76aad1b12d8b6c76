/**
 * Builds the real web process (composeApp) for tests: temp data folder, no file watch,
 * a free port, and every log line captured so tests can check what is (not) logged.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { composeApp, type App, type ComposeOptions } from "../../app/compose.ts";
import { WHATSAPP_WEB } from "../../channels/whatsapp/render.ts";
import type { WebClientFactory } from "../../channels/whatsapp/web-client-port.ts";
import { loadConfig } from "../../app/config.ts";
import { createLogger } from "../../app/logger.ts";
import { afterAll, beforeAll } from "vitest";
import { PgliteSurveyStore } from "../../stats/store/pglite-survey-store.ts";
import type { DialogueRow, SurveyStore } from "../../stats/store/survey-store.ts";

export interface TestApp {
  app: App;
  /** Every JSON log line written so far. */
  logs: string[];
  dir: string;
  dispose(): Promise<void>;
}

/**
 * One in-memory PGlite statistics store for a whole test file: creating one costs seconds,
 * so apps of one file share it and tests tell their surveys apart by conversation id.
 */
export async function openSharedStore(): Promise<PgliteSurveyStore> {
  const store = await PgliteSurveyStore.open();
  await store.migrate();
  return store;
}

/**
 * Opens the file's shared store before its tests (`opened` receives it) and closes it after.
 *
 * @example
 * let store: PgliteSurveyStore;
 * useSharedStore((s) => (store = s));
 */
export function useSharedStore(opened: (store: PgliteSurveyStore) => void): void {
  let store: PgliteSurveyStore | undefined;
  beforeAll(async () => {
    store = await openSharedStore();
    opened(store);
  });
  afterAll(async () => {
    await store?.close();
  });
}

/** The stored dialogue of a conversation (undefined when none was stored). */
export async function storedDialogue(store: SurveyStore, conversationId: string): Promise<DialogueRow | undefined> {
  const page = await store.listDialogues({ limit: 1000 });
  return page.rows.find((r) => r.conversationId === conversationId);
}

export interface TestAppOptions extends Omit<ComposeOptions, "logger"> {
  /** Shorthand for `channelSeams: { whatsapp: { createClient } }`: a fake WhatsApp Web client, so no browser launches. */
  whatsappWebClient?: WebClientFactory;
}

/** `surveyStore` is the file's shared store (opened by `openSharedStore`). */
export async function startTestApp(env: Record<string, string> = {}, testOptions: TestAppOptions = {}): Promise<TestApp> {
  const { whatsappWebClient, ...options } = testOptions;
  if (whatsappWebClient) options.channelSeams = { ...options.channelSeams, [WHATSAPP_WEB]: { createClient: whatsappWebClient } };
  const dir = await mkdtemp(path.join(tmpdir(), "botflow-app-"));
  const logs: string[] = [];
  const config = loadConfig({ PORT: "0", BOTFLOW_WATCH: "false", BOTFLOW_DATA_DIR: path.join(dir, "data"), ...env }, { cwd: dir });
  const logger = createLogger("debug", { write: (line: string) => void logs.push(line) });
  const app = await composeApp(config, { ...options, logger });
  return {
    app,
    logs,
    dir,
    async dispose() {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
