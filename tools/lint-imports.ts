/**
 * The project's architecture lint: dependencies point inward, no circular imports, and only
 * the config loader reads the environment. `npm run lint` runs it; a test runs it too.
 *
 * Rules (folder → folders it must not import):
 * - engine/   → channels, actions, stats, triggers, app, cli, bench  (the engine knows nothing outside itself)
 * - actions/  → channels, triggers, app, cli
 * - stats/    → channels, actions, triggers, app, cli
 * - channels/ → triggers, app, cli, another channel's folder (channels share only channels/port.ts, helpers at channels/ top level, channels/storage/ and channels/rate-limit/)
 * - triggers/ → app, cli (the trigger API's core: requests, rules, the outbox; app/ mounts its routes)
 * - app/      → cli
 * `process.env` may be read only in app/config.ts, cli/main.ts and cli/io.ts (the default CliIo), bin/, tools/, test/ and bench/.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface LintProblem {
  file: string;
  line: number;
  message: string;
}

const SOURCE_DIRS = ["engine", "channels", "actions", "stats", "triggers", "app", "cli"];
const FORBIDDEN: Record<string, readonly string[]> = {
  engine: ["channels", "actions", "stats", "triggers", "app", "cli", "bench", "test"],
  actions: ["channels", "triggers", "app", "cli", "bench", "test"],
  stats: ["channels", "actions", "triggers", "app", "cli", "bench", "test"],
  channels: ["triggers", "app", "cli", "bench", "test"],
  triggers: ["app", "cli", "bench", "test"],
  app: ["cli", "bench", "test"],
  cli: ["bench", "test"],
};
/** Folders under channels/ that hold shared policies, not a channel: every channel may import them. */
const SHARED_CHANNEL_FOLDERS: readonly string[] = ["storage", "rate-limit"];
const ENV_ALLOWED = [/^app\/config\.ts$/, /^cli\/main\.ts$/, /^cli\/io\.ts$/];
const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Lints every TypeScript source under the project root; returns the problems found. */
export function lintImports(root: string): LintProblem[] {
  const files = SOURCE_DIRS.flatMap((d) => listTs(path.join(root, d))).map((f) => path.relative(root, f).split(path.sep).join("/"));
  const problems: LintProblem[] = [];
  const graph = new Map<string, { to: string; line: number }[]>();
  for (const file of files) {
    const text = readFileSync(path.join(root, file), "utf8");
    const top = file.split("/")[0] as string;
    const edges: { to: string; line: number }[] = [];
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      if (!spec || !spec.startsWith(".")) continue;
      const line = text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      const targetTop = target.split("/")[0] as string;
      if (FORBIDDEN[top]?.includes(targetTop)) {
        problems.push({ file, line, message: `${top}/ must not import ${targetTop}/ ("${spec}"): dependencies point inward; pass it in through a port instead` });
      }
      if (top === "channels" && targetTop === "channels") {
        const own = file.split("/")[1];
        const parts = target.split("/");
        if (parts.length > 2 && parts[1] !== own && !SHARED_CHANNEL_FOLDERS.includes(parts[1] as string) && file.split("/").length > 2) {
          problems.push({ file, line, message: `channel "${own}" must not import another channel's code ("${spec}"); share it through channels/ top-level modules` });
        }
      }
      edges.push({ to: target, line });
    }
    graph.set(file, edges);
    if (!ENV_ALLOWED.some((re) => re.test(file))) {
      text.split("\n").forEach((l, i) => {
        if (/\bprocess\.env\b/.test(l) && !/^\s*(\/\/|\*)/.test(l)) {
          problems.push({ file, line: i + 1, message: "only app/config.ts reads process.env; take configuration as a parameter" });
        }
      });
    }
  }
  problems.push(...findCycles(graph));
  return problems;
}

function findCycles(graph: Map<string, { to: string; line: number }[]>): LintProblem[] {
  const problems: LintProblem[] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string): void => {
    state.set(file, 1);
    stack.push(file);
    for (const { to, line } of graph.get(file) ?? []) {
      if (!graph.has(to)) continue;
      const s = state.get(to);
      if (s === 1) {
        const cycle = stack.slice(stack.indexOf(to));
        const key = [...cycle].sort().join("|");
        if (!seen.has(key)) {
          seen.add(key);
          problems.push({ file, line, message: `circular import: ${[...cycle, to].join(" → ")}` });
        }
      } else if (s === undefined) visit(to);
    }
    stack.pop();
    state.set(file, 2);
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return problems;
}

function listTs(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = path.join(dir, n);
    if (n === "node_modules") return [];
    if (statSync(p).isDirectory()) return listTs(p);
    return /\.ts$/.test(n) && !/\.d\.ts$/.test(n) ? [p] : [];
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const problems = lintImports(root);
  for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
  console.log(problems.length === 0 ? "import rules: ok" : `import rules: ${problems.length} problem(s)`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}
