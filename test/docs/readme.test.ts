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
