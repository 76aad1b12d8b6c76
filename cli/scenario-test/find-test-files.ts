/**
 * The test files `botflow test` runs: each file named as it is, each folder searched (with its
 * subfolders, but not node_modules or hidden ones) for `*.test.yaml` / `*.test.yml`, sorted.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";

/** Whether a file name is a test file's. */
export function isTestFileName(name: string): boolean {
  return /\.test\.ya?ml$/i.test(name);
}

/** The files, as paths the user would type (relative like the arguments), or why an argument names none. */
export async function findTestFiles(args: readonly string[], cwd: string): Promise<{ files: string[]; problems: string[] }> {
  const files: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const add = (file: string): void => {
    const key = path.resolve(cwd, file);
    if (!seen.has(key)) (seen.add(key), files.push(file));
  };
  for (const arg of args) {
    const info = await stat(path.resolve(cwd, arg)).catch((err: NodeJS.ErrnoException) => err);
    if (info instanceof Error) {
      problems.push(`${arg}: ${info.code === "ENOENT" ? "no such file or folder; check the path" : `cannot read it (${info.code ?? info.message})`}`);
    } else if (info.isDirectory()) {
      const found = await walk(path.resolve(cwd, arg));
      if (found.length === 0) problems.push(`${arg}: no test files (*.test.yaml) in this folder or below it`);
      for (const f of found) add(path.join(arg, path.relative(path.resolve(cwd, arg), f)));
    } else {
      add(arg);
    }
  }
  return { files, problems };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (e.isFile() && isTestFileName(e.name)) out.push(full);
  }
  return out;
}
