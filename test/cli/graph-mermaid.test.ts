/**
 * Mermaid reads `botflow graph`'s golden files as they are meant: Mermaid itself (the npm
 * package's browser build, in headless Debian Chromium as the other page tests run) parses each
 * one and draws it, and the drawing has exactly the graph's nodes with their labels as written
 * (every escape undone, nothing taken for markup) and its edges with theirs. A mistake in an id or
 * an escape shows here as a parse error, a node too many, or a label that reads differently.
 * The drawing of the CSAT scenario is saved as test-artifacts/graph-csat.png.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scenarioGraph } from "../../engine/scenario-graph.ts";
import { ARTIFACTS, launchBrowser } from "../app/browser.ts";
import { goldenOf, GRAPHED, loadGraphed } from "./graph-goldens.ts";
import { ROOT } from "./run-cli.ts";

const MERMAID_JS = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");

interface Drawing {
  nodes: string[];
  edgeLabels: string[];
  links: number;
}

/**
 * Runs in the page (a string: this project's TypeScript has no DOM types): parses `t`, draws
 * it, and reads what a person sees, each label's text with <br/> as a newline.
 */
const DRAW = `async (t) => {
  await mermaid.parse(t);
  const out = document.getElementById("out");
  out.innerHTML = (await mermaid.render("d" + Date.now(), t)).svg;
  const texts = (selector) => [...out.querySelectorAll(selector)].map((e) => e.innerText.trim());
  return { nodes: texts("g.node span.nodeLabel"), edgeLabels: texts("span.edgeLabel").filter((s) => s !== ""), links: out.querySelectorAll("path.flowchart-link").length };
}`;

describe("Mermaid reads botflow graph's output", () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
    await page.setContent("<!doctype html><html><body><div id=out></div></body></html>");
    await page.addScriptTag({ path: MERMAID_JS });
    // strict is Mermaid's default and what GitHub uses: labels are sanitised as HTML.
    await page.evaluate(`mermaid.initialize({ startOnLoad: false, securityLevel: "strict" })`);
  });
  afterAll(async () => {
    await browser?.close();
  });

  const draw = (text: string): Promise<Drawing> => page.evaluate(`(${DRAW})(${JSON.stringify(text)})`);

  for (const file of GRAPHED) {
    const golden = goldenOf(file, "mermaid");
    it(`${golden}: parses, and the drawing has the graph's nodes and edges, labelled as written`, async () => {
      const graph = scenarioGraph(await loadGraphed(file));
      const drawing = await draw(readFileSync(path.join(ROOT, golden), "utf8"));
      // The word joiner keeps "\n" in a text from becoming a line break; it shows as nothing.
      const seen = (s: string): string => s.replace(/\u2060/g, "");
      expect(drawing.nodes.map(seen).sort()).toEqual(["start", ...graph.nodes.map((n) => n.lines.join("\n"))].sort());
      expect(drawing.edgeLabels.map(seen).sort()).toEqual(graph.edges.flatMap((e) => (e.label !== undefined ? [e.label] : [])).sort());
      expect(drawing.links).toBe(graph.edges.length + 1);
      if (file === "scenarios/csat.yaml") await page.locator("#out svg").screenshot({ path: path.join(ARTIFACTS, "graph-csat.png") });
    });
  }

  it("refuses broken text, so a pass above means the text parsed", async () => {
    await expect(draw('flowchart TD\n  a["open label] --> b\n')).rejects.toThrow(/Parse error/);
  });
});
