/**
 * One web process per embedded data folder: PGlite must not be opened by two processes at
 * once, so `botflow serve` holds `<dataDir>/.botflow-serve.lock` (its pid) while it runs.
 * A lock left by a process that no longer exists is taken over.
 */
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError } from "../engine/errors.ts";

const LOCK_FILE = ".botflow-serve.lock";

/** Takes the folder's lock (creating the folder); resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const mine = String(process.pid);
  try {
    await writeFile(file, mine, { flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const holder = Number((await readFile(file, "utf8").catch(() => "")).trim());
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new ConfigError(`data folder ${dir} is in use by process ${holder}: stop that botflow serve, or set BOTFLOW_DATA_DIR to another folder`);
    }
    await writeFile(file, mine);
  }
  return async () => {
    if ((await readFile(file, "utf8").catch(() => "")).trim() === mine) await unlink(file).catch(() => {});
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
