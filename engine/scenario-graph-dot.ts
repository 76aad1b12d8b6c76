/**
 * Draws a {@link ScenarioGraph} as a Graphviz DOT `digraph` (`botflow graph FILE --format dot |
 * dot -Tsvg`). Every id is a quoted string (block ids may hold `.` and `-`), and labels escape
 * `"` and `\`, so any scenario gives a valid file.
 *
 * @example
 * writeFileSync("csat.dot", renderDot(scenarioGraph(scenario)));
 */
import type { EdgeKind, NodeShape, ScenarioGraph } from "./scenario-graph.ts";

/** Node attributes per shape, as close to the Mermaid drawing as Graphviz's shapes allow. */
const SHAPES: Readonly<Record<NodeShape, string>> = {
  question: "shape=parallelogram",
  message: "shape=box",
  action: "shape=box, peripheries=2",
  end: 'shape=box, style="rounded"',
  handover: "shape=hexagon",
  scenario: "shape=cds",
  block: "shape=ellipse",
};

const STYLES: Readonly<Record<EdgeKind, string | undefined>> = {
  next: undefined,
  handover: "bold",
  skip: "dashed",
  invalid: "dashed",
  timeout: "dashed",
  error: "dashed",
};

/** Where the dialogue begins. Parentheses never occur in a block id, nor `:` (the scenario nodes' prefix). */
const START_ID = "(start)";

/** The graph as DOT text, ending with a newline. Same graph, same text. */
export function renderDot(graph: ScenarioGraph): string {
  const out = [
    `digraph ${quoteDot(graph.scenarioId)} {`,
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10];',
    `  ${quoteDot(START_ID)} [label="start", shape=circle];`,
  ];
  for (const node of graph.nodes) {
    out.push(`  ${quoteDot(node.id)} [label=${quoteDot(node.lines.join("\n"))}, ${SHAPES[node.shape]}];`);
  }
  out.push(`  ${quoteDot(START_ID)} -> ${quoteDot(graph.start)};`);
  for (const edge of graph.edges) {
    const attrs = [edge.label !== undefined ? `label=${quoteDot(edge.label)}` : undefined, STYLES[edge.kind] !== undefined ? `style=${STYLES[edge.kind]}` : undefined].filter(
      (a) => a !== undefined,
    );
    out.push(`  ${quoteDot(edge.from)} -> ${quoteDot(edge.to)}${attrs.length > 0 ? ` [${attrs.join(", ")}]` : ""};`);
  }
  out.push("}");
  return `${out.join("\n")}\n`;
}

/** A DOT quoted string; a newline becomes DOT's `\n` line break, every other backslash is literal. */
export function quoteDot(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\r?\n/g, "\\n")}"`;
}
