/**
 * The scenario graph (engine/scenario-graph.ts) and its two renderers: which nodes and edges a
 * scenario gives, with which labels, and that the DOT text is valid to Graphviz itself (its
 * WebAssembly build, @hpcc-js/wasm-graphviz) with every node and edge where the graph says.
 * The Mermaid text is parsed and drawn by Mermaid in Chromium in test/cli/graph-mermaid.test.ts.
 */
import { readFileSync } from "node:fs";
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { beforeAll, describe, expect, it } from "vitest";
import { loadScenarioText } from "../../engine/loader.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import { quoteDot, renderDot } from "../../engine/scenario-graph-dot.ts";
import { escapeMermaid, renderMermaid } from "../../engine/scenario-graph-mermaid.ts";
import { scenarioGraph, short, type GraphEdge, type ScenarioGraph } from "../../engine/scenario-graph.ts";
import { loadTestScenario } from "../helpers/scenario.ts";

const load = (file: string): LoadedScenario => loadTestScenario(readFileSync(file, "utf8"), file);
const csat = load("scenarios/csat.yaml");
const branches = load("test/cli/fixtures/graph/branches.yaml");
const edgesFrom = (graph: ScenarioGraph, from: string): Omit<GraphEdge, "from">[] =>
  graph.edges.filter((e) => e.from === from).map(({ from: _, ...rest }) => rest);

describe("scenarioGraph", () => {
  it("gives the csat scenario's blocks in the file's order and every way between them", () => {
    const graph = scenarioGraph(csat);
    expect(graph.start).toBe("ask_rating");
    expect(graph.nodes.map((n) => [n.id, n.shape])).toEqual([
      ["ask_rating", "question"],
      ["ask_comment", "question"],
      ["save", "action"],
      ["thanks", "end"],
      ["no_rating", "end"],
      ["closed", "end"],
    ]);
    expect(graph.nodes[0]?.lines).toEqual(["ask_rating", "message_with_keyboard", "Please rate the quality of service from…", "1 · 2 · 3 · 4 · 5"]);
    expect(graph.nodes[2]?.lines).toEqual(["save", "action statistic__set", "type: quality"]);
    // An end with no text shows what its author noted about it.
    expect(graph.nodes[5]?.lines).toEqual(["closed", "end", "No answer within a day; the survey is…"]);
    expect(graph.edges).toEqual([
      { from: "ask_rating", to: "ask_comment", kind: "next" },
      { from: "ask_rating", to: "no_rating", kind: "skip", label: "skip “Skip”" },
      { from: "ask_rating", to: "no_rating", kind: "invalid", label: "invalid after 2 re-prompts" },
      { from: "ask_rating", to: "closed", kind: "timeout", label: "timeout after 24h" },
      { from: "ask_comment", to: "save", kind: "next" },
      { from: "ask_comment", to: "save", kind: "skip", label: "skip “No comment”" },
      { from: "ask_comment", to: "save", kind: "timeout", label: "timeout after 1h" },
      { from: "save", to: "thanks", kind: "next" },
    ]);
  });

  it("labels each rule, and the skip without a next of its own follows the block's rules", () => {
    const graph = scenarioGraph(branches);
    expect(edgesFrom(graph, "ask_topic")).toEqual([
      { to: "a.b", kind: "next", label: 'topic = "billing"' },
      { to: "a-b", kind: "next", label: 'topic in ["delivery", 100]' },
      { to: "ask_score", kind: "next", label: "otherwise" },
      { to: "a.b", kind: "skip", label: 'skip “Not now”, topic = "billing"' },
      { to: "a-b", kind: "skip", label: 'skip “Not now”, topic in ["delivery", 100]' },
      { to: "ask_score", kind: "skip", label: "skip “Not now”, otherwise" },
      // defaults.invalid and defaults.timeout (600 seconds) where the question sets neither.
      { to: "end", kind: "invalid", label: "invalid after 1 re-prompt" },
      { to: "end", kind: "timeout", label: "timeout after 600s" },
    ]);
    expect(edgesFrom(graph, "ask_score")).toEqual([
      { to: "ask_why", kind: "next", label: "score <= 1" },
      { to: "save", kind: "next", label: "score >= 3" },
      { to: "save", kind: "next", label: "otherwise" },
      { to: "end", kind: "skip", label: "skip “Skip”" },
      // invalid.default is recorded as the answer: with no invalid.next, the question's next rules follow.
      { to: "ask_why", kind: "invalid", label: "invalid after 2 re-prompts, records 2, score <= 1" },
      { to: "save", kind: "invalid", label: "invalid after 2 re-prompts, records 2, score >= 3" },
      { to: "save", kind: "invalid", label: "invalid after 2 re-prompts, records 2, otherwise" },
      { to: "end", kind: "timeout", label: "timeout after 2h" },
    ]);
  });

  it("draws a set block with the variables it sets", () => {
    const graph = scenarioGraph(branches);
    expect(graph.nodes.find((n) => n.id === "remember")).toEqual({ id: "remember", shape: "block", lines: ["remember", "set", "asked_at, route"] });
    expect(edgesFrom(graph, "remember")).toEqual([{ to: "ask_score", kind: "next" }]);
  });

  it("draws an action's failure branch beside its ok path, and a goto_scenario as a handover to a scenario node", () => {
    const graph = scenarioGraph(branches);
    expect(edgesFrom(graph, "save")).toEqual([
      { to: "goodbye", kind: "next", label: "ok" },
      { to: "sorry", kind: "error", label: "on error" },
    ]);
    // Defaults are for questions: a message does not get their invalid or timeout edges.
    expect(edgesFrom(graph, "sorry")).toEqual([{ to: "end", kind: "next" }]);
    expect(edgesFrom(graph, "goodbye")).toEqual([{ to: "scenario:graph_goodbye", kind: "handover" }]);
    expect(graph.nodes.find((n) => n.id === "goodbye")?.lines).toEqual(["goodbye", "goto_scenario", "to graph_goodbye with topic"]);
    expect(graph.nodes.at(-1)).toEqual({ id: "scenario:graph_goodbye", shape: "scenario", lines: ["graph_goodbye", "scenario"] });
    // An action without on_error goes on along next when it fails too: one edge, no label.
    expect(edgesFrom(scenarioGraph(csat), "save")).toEqual([{ to: "thanks", kind: "next" }]);
  });

  it("names a scenario handed over to once, however many blocks hand over to it", () => {
    const twice = loadScenarioText(
      `id: twice
start: ask
blocks:
  ask: { type: message_with_keyboard, text: Which?, buttons: [{ label: A, value: a }, { label: B, value: b }], save_to: pick,
         next: [{ var: pick, equals: a, goto: to_a }, { default: to_b }] }
  to_a: { type: goto_scenario, scenario: csat }
  to_b: { type: goto_scenario, scenario: csat, variables: { pick: "{{pick}}" } }
`,
      "twice.yaml",
    ).scenario as LoadedScenario;
    const graph = scenarioGraph(twice);
    expect(graph.nodes.filter((n) => n.shape === "scenario").map((n) => n.id)).toEqual(["scenario:csat"]);
    expect(graph.edges.filter((e) => e.kind === "handover").map((e) => e.from)).toEqual(["to_a", "to_b"]);
  });

  it("leaves out the rules after a default, which the interpreter never takes", () => {
    const result = loadScenarioText(
      `id: dead
start: ask
blocks:
  ask: { type: message_with_keyboard, text: Rate, buttons: [{ label: "1", value: 1 }], save_to: r,
         next: [{ default: bye }, { var: r, lte: 1, goto: bye }] }
  bye: { type: end }
`,
      "dead.yaml",
    );
    expect(result.problems.map((p) => p.severity)).toContain("warning");
    const graph = scenarioGraph(result.scenario as LoadedScenario);
    expect(graph.edges).toEqual([{ from: "ask", to: "bye", kind: "next", label: "otherwise" }]);
  });

  it("shows the texts of the locale asked for, falling back as the interpreter does", () => {
    const uk = scenarioGraph(csat, { locale: "uk" });
    expect(uk.nodes[0]?.lines[2]).toBe("Будь ласка, оцініть якість обслуговуван…");
    expect(uk.edges[1]?.label).toBe("skip “Пропустити”");
    expect(scenarioGraph(csat, { locale: "uk-UA" })).toEqual(uk);
    expect(scenarioGraph(csat, { locale: "de" })).toEqual(scenarioGraph(csat));
  });

  it("draws a block type it does not know with the default shape and its next, skip, invalid and timeout edges", () => {
    // A type added to the schema after this file (a `set` block, say) reaches the graph as it is.
    const scenario = structuredClone(csat);
    const blocks = scenario.def.blocks as Record<string, unknown>;
    blocks.remember = { type: "remember_me", text: { en: "Noted" }, next: "thanks" };
    blocks.ask_again = {
      type: "future_question",
      description: "asks in some new way",
      skip: { label: "Later" },
      invalid: { max_attempts: 1, default: 3, next: "thanks" },
      timeout: { after: 90, next: "closed" },
      next: [{ var: "quality_answer", gte: 3, goto: "remember" }, { default: "thanks" }],
    };
    const graph = scenarioGraph(scenario);
    expect(graph.nodes.slice(-2)).toEqual([
      { id: "remember", shape: "block", lines: ["remember", "remember_me", "Noted"] },
      { id: "ask_again", shape: "block", lines: ["ask_again", "future_question", "asks in some new way"] },
    ]);
    expect(edgesFrom(graph, "remember")).toEqual([{ to: "thanks", kind: "next" }]);
    expect(edgesFrom(graph, "ask_again")).toEqual([
      { to: "remember", kind: "next", label: "quality_answer >= 3" },
      { to: "thanks", kind: "next", label: "otherwise" },
      { to: "remember", kind: "skip", label: "skip “Later”, quality_answer >= 3" },
      { to: "thanks", kind: "skip", label: "skip “Later”, otherwise" },
      { to: "thanks", kind: "invalid", label: "invalid after 1 re-prompt, records 3" },
      { to: "closed", kind: "timeout", label: "timeout after 90s" },
    ]);
    expect(renderMermaid(graph)).toContain('  b_remember("remember<br/>remember_me<br/>Noted")\n');
    expect(renderDot(graph)).toContain('  "remember" [label="remember\\nremember_me\\nNoted", shape=ellipse];\n');
  });

  it("gives the same graph and the same text for the same scenario, every time", () => {
    const again = load("scenarios/csat.yaml");
    expect(scenarioGraph(again)).toEqual(scenarioGraph(csat));
    expect(renderMermaid(scenarioGraph(again))).toBe(renderMermaid(scenarioGraph(csat)));
    expect(renderDot(scenarioGraph(again))).toBe(renderDot(scenarioGraph(csat)));
  });
});

describe("short", () => {
  it("keeps a text of 40 characters or fewer as it is, on one line", () => {
    expect(short("  Thank you\n  for   your feedback!  ")).toBe("Thank you for your feedback!");
    expect(short("x".repeat(40))).toBe("x".repeat(40));
  });

  it("cuts at a space near the end, else inside the word, and marks the cut", () => {
    expect(short("Please rate the quality of service from 1 (very dissatisfied)")).toBe("Please rate the quality of service from…");
    expect(short("y".repeat(41))).toBe(`${"y".repeat(39)}…`);
  });

  it("counts an emoji or a letter with its accent as one character and never cuts one in two", () => {
    const family = "👨‍👩‍👧‍👦";
    expect(short(family.repeat(40))).toBe(family.repeat(40));
    expect(short(family.repeat(41))).toBe(`${family.repeat(39)}…`);
    const accented = "e\u0301"; // e + combining acute
    expect(short(accented.repeat(41))).toBe(`${accented.repeat(39)}…`);
  });
});

describe("renderMermaid", () => {
  it("makes up ids Mermaid takes: prefixed (no keyword such as end), only letters, digits and _, distinct", () => {
    const text = renderMermaid(scenarioGraph(branches));
    expect(text).toContain('  b_end(["end<br/>end"])\n');
    expect(text).toContain('  b_a_b["a.b<br/>message<br/>');
    expect(text).toContain('  b_a_b_2["a-b<br/>message<br/>');
    expect(text).toContain("  b_goodbye ==> s_graph_goodbye\n");
    expect(text.split("\n")[0]).toBe("flowchart TD");
    expect(text).toContain("  start --> b_ask_topic\n");
  });

  it("escapes every character that would end a label or start markup, as Mermaid entity codes", () => {
    expect(escapeMermaid('"Hi"; <b>x</b> & |#1 %% `ok`')).toBe("#quot;Hi#quot;; #lt;b#gt;x#lt;/b#gt; #amp; #124;#35;1 #37;#37; #96;ok#96;");
    expect(escapeMermaid("C:\\new \\ path")).toBe("C:#92;#8288;new #92; path");
    expect(escapeMermaid("Оцініть 👍 {{name}}")).toBe("Оцініть 👍 {{name}}");
  });
});

describe("renderDot", () => {
  let graphviz: Graphviz;
  beforeAll(async () => {
    graphviz = await Graphviz.load();
  });

  it("quotes ids and labels so that quotes, backslashes and newlines stay text", () => {
    expect(quoteDot('a "b" \\n c')).toBe('"a \\"b\\" \\\\n c"');
    expect(quoteDot("one\ntwo")).toBe('"one\\ntwo"');
  });

  const files = ["scenarios/csat.yaml", "scenarios/csat-branching.yaml", "scenarios/csat-emoji.yaml", "scenarios/support.yaml", "test/cli/fixtures/graph/branches.yaml"];
  for (const file of files) {
    it(`${file}: Graphviz lays the DOT out with every node and edge of the graph`, () => {
      const graph = scenarioGraph(load(file));
      const svg = graphviz.dot(renderDot(graph), "svg");
      // Graphviz titles each node with its id and each edge with "from->to" (XML-escaped).
      const titles = [...svg.matchAll(/<title>(.*?)<\/title>/g)].map((m) => unxml(m[1] as string));
      const nodes = ["(start)", ...graph.nodes.map((n) => n.id)];
      const edges = [`(start)->${graph.start}`, ...graph.edges.map((e) => `${e.from}->${e.to}`)];
      expect(titles.slice(1).sort()).toEqual([...nodes, ...edges].sort());
      const texts = new Set([...svg.matchAll(/<text[^>]*>(.*?)<\/text>/g)].map((m) => unxml(m[1] as string)));
      for (const edge of graph.edges) if (edge.label !== undefined) expect(texts, edge.label).toContain(edge.label);
      for (const node of graph.nodes) for (const line of node.lines) expect(texts, node.id).toContain(line);
    });
  }

  it("refuses nothing Graphviz would choke on: a broken DOT text makes it throw, so the check above means something", () => {
    expect(() => graphviz.dot('digraph { "a" -> "b" [label="x]; }', "svg")).toThrow(/syntax error/);
  });
});

function unxml(text: string): string {
  return text.replace(/&#45;/g, "-").replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}
