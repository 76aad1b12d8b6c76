import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lintImports } from "../../tools/lint-imports.ts";

const root = path.resolve(import.meta.dirname, "../..");

describe("architecture lint", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "botflow-lint-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(tmp, file)), { recursive: true });
    writeFileSync(path.join(tmp, file), text);
  };

  it("finds no problem in the project itself", () => {
    expect(lintImports(root)).toEqual([]);
  });

  it("refuses an engine module that imports a channel, a cycle, a cross-channel import and stray process.env", () => {
    write("engine/a.ts", 'import { b } from "./b.ts";\nimport type { T } from "../channels/telegram/t.ts";\nexport const a = b;\n');
    write("engine/b.ts", 'import { a } from "./a.ts";\nexport const b = 1;\nexport const c = a;\n');
    write("channels/telegram/t.ts", 'export type T = 1;\nimport { w } from "../webchat/w.ts";\nexport const port = process.env.PORT;\n');
    write("channels/webchat/w.ts", "export const w = 1;\n");
    write("channels/port.ts", 'export type { T } from "./telegram/t.ts";\n');
    const problems = lintImports(tmp).map((p) => `${p.file}:${p.line}: ${p.message.replace(/[:;] .*$/, "")}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        'engine/a.ts:2: engine/ must not import channels/ ("../channels/telegram/t.ts")',
        'channels/telegram/t.ts:2: channel "telegram" must not import another channel\'s code ("../webchat/w.ts")',
        "channels/telegram/t.ts:3: only app/config.ts reads process.env",
        "engine/b.ts:1: circular import",
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});
