/**
 * Where `botflow stats` and `botflow export` read the statistics: the store itself (PostgreSQL
 * when DATABASE_URL is set, else PGlite in the data folder), or — when a running `botflow serve`
 * holds that folder, which PGlite allows one process at a time — that server's statistics API
 * (app/stats-routes.ts), at the address its lock file names (app/data-dir-lock.ts), with
 * BOTFLOW_TOKEN as the Bearer token. Both take the API's query parameters and answer the same
 * objects, so the commands print the same either way.
 *
 * Left out on purpose: no fallback to opening the folder while its server lives (two PGlite
 * processes corrupt it), and no token read from the server's config file (the token is a
 * secret of the environment it is given to).
 */
import { existsSync } from "node:fs";
import { loadStoreConfig } from "../app/config.ts";
import { DataDirInUseError, lockDataDir, type DataDirHolder } from "../app/data-dir-lock.ts";
import type { Figures, GroupedFigures } from "../stats/figures.ts";
import { StatsQueryError } from "../stats/figures-query.ts";
import { dialogueQuery, figuresQuery, isGrouped, type QueryParams } from "../stats/query-params.ts";
import type { SqlSurveyStore } from "../stats/store/sql-survey-store.ts";
import type { DialoguePage } from "../stats/store/survey-store.ts";
import type { CliIo } from "./io.ts";

/** What the two commands read; parameters are the statistics API's (stats/query-params.ts). */
export interface StatsSource {
  /** The figures, or the grouped figures with `group_by`. */
  figures(params: Readonly<Record<string, string | undefined>>): Promise<Figures | GroupedFigures>;
  /** One page of the dialogue list (`limit` at most `pageSize`, `cursor` from the last page). */
  dialogues(params: Readonly<Record<string, string | undefined>>): Promise<DialoguePage>;
  /** The largest page `dialogues` gives. */
  readonly pageSize: number;
  /** Where it reads, for messages: "the store" or "botflow serve at http://…". */
  readonly origin: string;
}

export interface OpenOptions {
  /** The command's name, for the lock file and messages. */
  command: "stats" | "export";
  /** How long to wait for a starting `botflow serve` to record its address (default 20 s). */
  startWaitMs?: number;
}

type StoreOptions = { "data-dir"?: string | undefined; schema?: string | undefined };

/**
 * Runs `fn` with the source the environment and the data folder select; closes what it opened.
 *
 * @example
 * const figures = await withStatsSource(io, { "data-dir": "data" }, { command: "stats" }, (s) => s.figures({ from: "2026-03-01" }));
 */
export async function withStatsSource<T>(io: CliIo, v: StoreOptions, o: OpenOptions, fn: (source: StatsSource) => Promise<T>): Promise<T> {
  const config = storeConfig(io, v);
  if (config.databaseUrl) return withOpenStore(config, (store) => fn(storeSource(store)));
  const deadline = Date.now() + (o.startWaitMs ?? 20_000);
  for (;;) {
    let unlock: () => Promise<void>;
    try {
      unlock = await lockDataDir(config.dataDir, { command: o.command });
    } catch (err) {
      if (!(err instanceof DataDirInUseError)) throw err;
      const holder = err.holder;
      if (holder.url !== undefined) return fn(serverSource(holder as DataDirHolder & { url: string }, io.env.BOTFLOW_TOKEN?.trim() || undefined));
      if (holder.command === undefined) {
        throw new Error(`the data folder ${config.dataDir} is in use by process ${holder.pid}, a botflow older than this one that does not say where it listens: stop it, or read its statistics API (GET /api/stats/figures)`);
      }
      if (holder.command !== "serve") {
        throw new Error(`the data folder ${config.dataDir} is in use by botflow ${holder.command} (process ${holder.pid}); the embedded store allows one process at a time: run this again when it has finished`);
      }
      if (Date.now() >= deadline) {
        throw new Error(`botflow serve (process ${holder.pid}) holds the data folder ${config.dataDir} but is not listening yet: run this again once it prints "botflow is running"`);
      }
      // A server that is starting (opening PGlite takes seconds) records its address when it listens.
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      return await withOpenStore(config, (store) => fn(storeSource(store)));
    } finally {
      await unlock();
    }
  }
}

/**
 * Runs `fn` with the store itself (for commands that write, such as `botflow erase`): the embedded
 * folder is locked meanwhile under `command`, and a running server's lock is an error naming it.
 */
export async function withLockedStore<T>(io: CliIo, v: StoreOptions, command: string, fn: (store: SqlSurveyStore) => Promise<T>): Promise<T> {
  const config = storeConfig(io, v);
  if (config.databaseUrl) return withOpenStore(config, fn);
  const unlock = await lockDataDir(config.dataDir, { command });
  try {
    return await withOpenStore(config, fn);
  } finally {
    await unlock();
  }
}

interface StoreConfig {
  dataDir: string;
  databaseUrl?: string;
  schema?: string;
}

function storeConfig(io: CliIo, v: StoreOptions): StoreConfig {
  // The web process's rules (app/config.ts) for DATABASE_URL, BOTFLOW_DB_SCHEMA and BOTFLOW_DATA_DIR.
  const { databaseUrl, dbSchema: schema, dataDir } = loadStoreConfig(io.env, { cwd: io.cwd, ...(v["data-dir"] !== undefined ? { dataDir: v["data-dir"] } : {}), ...(v.schema !== undefined ? { schema: v.schema } : {}) });
  if (!databaseUrl && !existsSync(dataDir)) {
    throw new Error(`no statistics in ${dataDir} (the folder does not exist): pass the --data-dir that botflow serve or botflow run used, or set DATABASE_URL`);
  }
  return { dataDir, ...(databaseUrl ? { databaseUrl } : {}), ...(schema ? { schema } : {}) };
}

async function withOpenStore<T>(config: StoreConfig, fn: (store: SqlSurveyStore) => Promise<T>): Promise<T> {
  // Loaded here: PGlite and pg are what a read through a server never needs.
  const { openSurveyStore } = await import("../stats/store/open-survey-store.ts");
  const store = await openSurveyStore(config);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The store read directly, with the parameters parsed as the API parses them. */
function storeSource(store: SqlSurveyStore): StatsSource {
  return {
    origin: "the store",
    pageSize: 1000,
    async figures(params) {
      const q = figuresQuery(params);
      if (!q.ok) throw new StatsQueryError(q.message, q.parameter);
      return isGrouped(q.query) ? store.groupedFigures(q.query) : store.figures(q.query);
    },
    async dialogues(params) {
      // The API's pages stop at 500 rows; the store's own reader takes larger ones.
      const q = dialogueQuery({ ...params, limit: undefined });
      if (!q.ok) throw new StatsQueryError(q.message, q.parameter);
      return store.listDialogues({ ...q.query, limit: Math.min(Number(params.limit ?? 1000), 1000) });
    },
  };
}

/** The statistics API of the `botflow serve` holding the folder. */
function serverSource(holder: DataDirHolder & { url: string }, token: string | undefined): StatsSource {
  const where = `botflow serve (process ${holder.pid}) at ${holder.url}`;
  async function get<T>(route: string, params: QueryParams): Promise<T> {
    const url = new URL(route, holder.url);
    for (const [k, value] of Object.entries(params)) if (typeof value === "string") url.searchParams.set(k, value);
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause?.code ?? (err instanceof Error ? err.name : "error");
      throw new Error(`${where} holds the data folder but did not answer (${String(cause)}): it may be stopping; run this again`);
    }
    const body = (await res.json().catch(() => undefined)) as { message?: unknown; parameter?: unknown } | undefined;
    if (res.ok && body !== undefined) return body as T;
    const message = typeof body?.message === "string" ? body.message : `HTTP ${res.status}`;
    if (res.status === 400) throw new StatsQueryError(message, typeof body?.parameter === "string" ? body.parameter : undefined);
    if (res.status === 401) {
      throw new Error(
        token === undefined
          ? `${where} holds the data folder and asks for its token: set BOTFLOW_TOKEN in this environment to the value the server was started with`
          : `${where} refused BOTFLOW_TOKEN: it is not the token the server was started with`,
      );
    }
    throw new Error(`${where} could not answer ${route} (${res.status}: ${message})`);
  }
  return {
    origin: where,
    pageSize: 500,
    figures: (params) => get("/api/stats/figures", params),
    dialogues: (params) => get("/api/stats/dialogues", params),
  };
}
