/**
 * One process per embedded data folder: PGlite must not be opened by two processes at once, so
 * whoever opens it (`botflow serve`, `run`, `stats`, `export`) holds `<dataDir>/.botflow-serve.lock`
 * while it does. The file is one JSON object, `{"pid":123,"command":"serve","url":"http://…"}`:
 * `url` appears once `botflow serve` listens, so `botflow stats` and `botflow export` can read the
 * folder through that server's statistics API instead of failing (cli/stats-source.ts). It never
 * holds a secret. A lock left by a process that no longer exists is taken over; a file of an older
 * botflow (the bare pid) is still understood.
 */
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../engine/errors.ts";

const LOCK_FILE = ".botflow-serve.lock";

/** Who holds a data folder, as its lock file says. */
export interface DataDirHolder {
  pid: number;
  /** The botflow command holding it (`serve`, `run`, `stats`, `export`); absent in an older botflow's file. */
  command?: string;
  /** Where a `botflow serve` holder answers HTTP, once it listens. */
  url?: string;
}

/** The folder is held by another live process: `holder` says which, so a caller can read through it. */
export class DataDirInUseError extends ConfigError {
  constructor(
    readonly dir: string,
    readonly holder: DataDirHolder,
  ) {
    super(`data folder ${dir} is in use by process ${holder.pid}: stop that botflow ${holder.command ?? "serve"}, or set BOTFLOW_DATA_DIR to another folder`);
  }
}

/**
 * Takes the folder's lock (creating the folder) for `command` (default `serve`, the web process);
 * resolves to the function that releases it. Throws DataDirInUseError while a live process holds it.
 *
 * @example
 * const unlock = await lockDataDir(dir, { command: "stats" });
 * try { … } finally { await unlock(); }
 */
export async function lockDataDir(dir: string, o: { command?: string } = {}): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = lockFile(dir);
  const mine: DataDirHolder = { pid: process.pid, command: o.command ?? "serve" };
  try {
    await writeFile(file, JSON.stringify(mine), { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = await readHolder(file);
    if (holder && isAlive(holder.pid)) throw new DataDirInUseError(dir, holder);
    await replace(file, mine);
  }
  return async () => {
    if ((await readHolder(file))?.pid === process.pid) await unlink(file).catch(() => {});
  };
}

/**
 * Adds where this process's server answers to the lock it holds on `dir` (nothing when the lock
 * is not this process's: a test's given store, a folder taken over).
 */
export async function recordServerUrl(dir: string, url: string): Promise<void> {
  const file = lockFile(dir);
  const holder = await readHolder(file);
  if (holder?.pid === process.pid) await replace(file, { ...holder, url });
}

function lockFile(dir: string): string {
  return path.join(dir, LOCK_FILE);
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
async function replace(file: string, holder: DataDirHolder): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(holder));
  await rename(tmp, file);
}

async function readHolder(file: string): Promise<DataDirHolder | undefined> {
  // The first write (flag wx) is not atomic: a reader can meet the empty file for a moment.
  for (let attempt = 0; ; attempt++) {
    const text = (await readFile(file, "utf8").catch(() => undefined))?.trim();
    if (text === undefined) return undefined;
    const holder = parseHolder(text);
    if (holder || attempt >= 3) return holder;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseHolder(text: string): DataDirHolder | undefined {
  if (/^\d+$/.test(text)) return validPid(Number(text)) ? { pid: Number(text) } : undefined; // an older botflow's file
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { pid, command, url } = v as Record<string, unknown>;
  if (typeof pid !== "number" || !validPid(pid)) return undefined;
  return { pid, ...(typeof command === "string" ? { command } : {}), ...(typeof url === "string" && /^https?:\/\//.test(url) ? { url } : {}) };
}

function validPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
