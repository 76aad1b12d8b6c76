// Regenerates scenario.schema.json from the TypeBox schema: `npm run schema`.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderScenarioJsonSchema } from "./scenario-schema.ts";

const target = fileURLToPath(new URL("../../scenario.schema.json", import.meta.url));
writeFileSync(target, JSON.stringify(renderScenarioJsonSchema(), null, 2) + "\n");
console.log(`wrote ${target}`);
