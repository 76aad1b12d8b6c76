/**
 * Draws a {@link ScenarioGraph} as a Mermaid `flowchart TD`, the diagram GitHub and most
 * Markdown viewers render from a ```mermaid block. Node ids are made up here (`b_` + the block
 * id with what Mermaid reads as syntax replaced), since a block may be called `end` or
 * `csat.v2`; every label is quoted and escaped with Mermaid's `#code;` entities, so no text
 * from a scenario can close a label or start markup.
 *
 * @example
 * process.stdout.write(renderMermaid(scenarioGraph(scenario)));
 */
import type { EdgeKind, NodeShape, ScenarioGraph } from "./scenario-graph.ts";

/** The Mermaid node forms: `[/"…"/]` for a question is the flowchart's input shape, `(["…"])` its terminator. */
const SHAPES: Readonly<Record<NodeShape, readonly [string, string]>> = {
  question: ['[/"', '"/]'],
  message: ['["', '"]'],
  action: ['[["', '"]]'],
  end: ['(["', '"])'],
  handover: ['{{"', '"}}'],
  scenario: ['>"', '"]'],
  block: ['("', '")'],
};

const ARROWS: Readonly<Record<EdgeKind, string>> = {
  next: "-->",
  handover: "==>",
  skip: "-.->",
  invalid: "-.->",
  timeout: "-.->",
  error: "-.->",
};

/** Where the dialogue begins: a node of its own, so the start block keeps its shape. */
const START_ID = "start";

/** The graph as Mermaid text, one statement a line, ending with a newline. Same graph, same text. */
export function renderMermaid(graph: ScenarioGraph): string {
  const ids = mermaidIds(graph);
  const id = (node: string): string => ids.get(node) ?? node;
  const out = ["flowchart TD", `  ${START_ID}(("start"))`];
  for (const node of graph.nodes) {
    const [open, close] = SHAPES[node.shape];
    // <br/> is the one tag every Mermaid renderer turns into a line break, HTML labels or not.
    out.push(`  ${id(node.id)}${open}${node.lines.map(escapeMermaid).join("<br/>")}${close}`);
  }
  out.push(`  ${START_ID} --> ${id(graph.start)}`);
  for (const edge of graph.edges) {
    const label = edge.label !== undefined ? `|"${escapeMermaid(edge.label)}"|` : "";
    out.push(`  ${id(edge.from)} ${ARROWS[edge.kind]}${label} ${id(edge.to)}`);
  }
  return `${out.join("\n")}\n`;
}

/**
 * Mermaid ids for the nodes, in the graph's order: readable (`b_ask_rating`, `s_csat`), never a
 * keyword (`end`), and distinct even where two ids differ only in characters Mermaid cannot take.
 */
function mermaidIds(graph: ScenarioGraph): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set([START_ID]);
  for (const node of graph.nodes) {
    const base = node.shape === "scenario" ? `s_${node.lines[0] ?? ""}` : `b_${node.id}`;
    const safe = base.replace(/[^A-Za-z0-9_]/g, "_");
    let candidate = safe;
    for (let n = 2; taken.has(candidate); n++) candidate = `${safe}_${n}`;
    taken.add(candidate);
    ids.set(node.id, candidate);
  }
  return ids;
}

/** Characters that mean something inside a quoted Mermaid label (or to the HTML it becomes), as entity codes. */
const ENTITIES: Readonly<Record<string, string>> = {
  "#": "#35;",
  '"': "#quot;",
  "<": "#lt;",
  ">": "#gt;",
  "&": "#amp;",
  "|": "#124;",
  "`": "#96;",
  "%": "#37;",
  "\\": "#92;",
  // Mermaid reads a backslash and n as a line break even inside quotes, escaped or not, once a
  // label has a <br/>: an invisible word joiner (U+2060) between them keeps the text as written.
  "\\n": "#92;#8288;n",
};

/** Text safe inside `"…"` in a Mermaid node or edge label. */
export function escapeMermaid(text: string): string {
  return text.replace(/\\n?|[#"<>&|`%]/g, (c) => ENTITIES[c] ?? c);
}
