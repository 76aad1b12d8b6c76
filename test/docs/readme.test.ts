/**
 * The top-level README is what a newcomer and ops read first: its environment table, its
 * pictures and the commands it promises must stay true.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../app/config.ts";
import { WORKER_VARIABLES } from "../../cli/commands/worker.ts";

const root = path.resolve(import.meta.dirname, "../..");
const readme = readFileSync(path.join(root, "README.md"), "utf8");

describe("README.md", () => {
  it("lists every variable botflow serve and botflow worker read, marked for the right process", () => {
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (✓?) \| (✓?) \|/gm)].map((m) => ({ name: m[1] as string, serve: m[2] === "✓", worker: m[3] === "✓" }));
    const names = [...new Set([...Object.keys(CONFIG_VARIABLES), ...Object.keys(WORKER_VARIABLES)])].sort();
    expect(rows.map((r) => r.name).sort()).toEqual(names);
    for (const r of rows) {
      expect(r.serve, r.name).toBe(r.name in CONFIG_VARIABLES);
      expect(r.worker, r.name).toBe(r.name in WORKER_VARIABLES);
    }
  });

  it("shows pictures that exist", () => {
    const images = [...readme.matchAll(/src="([^"]+\.png)"/g)].map((m) => m[1] as string);
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) expect(existsSync(path.join(root, img)), img).toBe(true);
  });

  it("promises the two commands, and CI runs the test one", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm test");
    expect(readFileSync(path.join(root, ".ci/run"), "utf8")).toMatch(/^npm test( |$)/m);
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe("node bin/botflow.js serve");
  });
});

describe("README.md's commands with the dialogues file", () => {
  it("run verbatim from a checkout: every line naming --dialogues, then the stats of what they recorded", { timeout: 120_000 }, async () => {
    const { mkdtemp, rm, symlink } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { runCli } = await import("../cli/run-cli.ts");
    const lines = [...readme.matchAll(/^npx botflow (.+)$/gm)].map((m) => m[1] as string);
    const withDialogues = lines.filter((l) => l.includes("--dialogues"));
    expect(withDialogues.length).toBeGreaterThanOrEqual(2);
    const stats = lines.filter((l) => l.startsWith("stats --data-dir ./data"));
    expect(stats).toHaveLength(1);
    // A working directory like a checkout's (scenarios/ in it), so ./data is the test's own.
    const cwd = await mkdtemp(path.join(tmpdir(), "botflow-readme-"));
    try {
      await symlink(path.join(root, "scenarios"), path.join(cwd, "scenarios"));
      for (const line of withDialogues) {
        const r = await runCli(line.split(/\s+/), { cwd });
        expect(r.code, `${line}\n${r.stderr}`).toBe(0);
        expect(r.stderr, line).not.toMatch(/error|cannot|not found/i);
      }
      const r = await runCli(stats[0]!.split(/\s+/), { cwd });
      expect(r.code).toBe(0);
      const f = JSON.parse(r.stdout) as { surveys: number; dialogues: number };
      expect(f.dialogues).toBe(5); // the five dialogues of scenarios/csat.dialogues.json
      expect(f.surveys).toBeGreaterThanOrEqual(3);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
