import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES } from "../../app/config.ts";

describe("app/README.md", () => {
  it("documents exactly the variables the config loader reads", async () => {
    const text = await readFile(new URL("../../app/README.md", import.meta.url), "utf8");
    const table = text.slice(text.indexOf("| variable | meaning |"), text.indexOf("## Endpoints"));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(CONFIG_VARIABLES).sort());
  });
});
