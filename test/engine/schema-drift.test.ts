import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderScenarioJsonSchema } from "../../engine/schema/scenario-schema.ts";

describe("scenario.schema.json", () => {
  it("is exactly what the TypeBox schema renders (run `npm run schema` after changing engine/schema)", () => {
    const file = path.resolve(import.meta.dirname, "../../scenario.schema.json");
    const onDisk = JSON.parse(readFileSync(file, "utf8")) as unknown;
    expect(onDisk).toEqual(renderScenarioJsonSchema());
  });

  it("declares JSON Schema draft 2020-12 for editors", () => {
    expect(renderScenarioJsonSchema().$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
});
