/**
 * The goto_scenario checks that need the other scenarios: every target is a loaded scenario,
 * and no scenarios hand the conversation back and forth before anything waits for the user.
 * The registry runs them over a folder once every file in it has loaded (a target may sort
 * after the file naming it), and `botflow validate` / `run` / `chat` over the file's folder.
 * Each problem stands at the block's `scenario:` value, like every scenario problem.
 *
 * @example
 * const problems = checkHandovers([support], [support, csat]); // [] when csat is among them
 */
import type { ScenarioProblem } from "./errors.ts";
import type { Handover, LoadedScenario } from "./scenario.ts";
import { suggest } from "./suggest.ts";

/** Problems of `subjects`' goto_scenario blocks, with `world` (subjects included) as the scenarios loaded beside them. */
export function checkHandovers(subjects: readonly LoadedScenario[], world: readonly LoadedScenario[]): ScenarioProblem[] {
  const byId = new Map<string, LoadedScenario>();
  for (const s of world) byId.set(s.id, s);
  for (const s of subjects) byId.set(s.id, s);
  const problems: ScenarioProblem[] = [];
  for (const s of subjects) {
    for (const h of s.handovers ?? []) {
      const at = { file: s.source, line: h.line, col: h.col, severity: "error" as const, blockId: h.blockId };
      if (!byId.has(h.target)) {
        const ids = [...byId.keys()].sort();
        const list = `${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}`;
        problems.push({
          ...at,
          message: `block "${h.blockId}": goto_scenario names no loaded scenario "${h.target.slice(0, 64)}"${suggest(h.target, ids)}; loaded: ${list}. Use a scenario's id (its id: line), or add the scenario beside this one`,
        });
        continue;
      }
      // A scenario handing over to itself is refused by its own checks (engine/scenario-checks.ts).
      if (!h.immediate || h.target === s.id) continue;
      const back = pathBack(h.target, s.id, byId);
      if (back) {
        problems.push({
          ...at,
          message: `block "${h.blockId}": hands over to "${h.target}", which hands the conversation back before anything waits for the user (${[s.id, ...back].map((id) => `"${id}"`).join(" → ")}), so it would switch scenarios forever; put a message_with_keyboard or wait_for_response block on the way in one of them`,
        });
      }
    }
  }
  return problems;
}

/** The ids from `from` to `to` following immediate handovers only (`from` first, `to` last), if there is a way. */
function pathBack(from: string, to: string, byId: ReadonlyMap<string, LoadedScenario>): string[] | undefined {
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    if (cur === to) {
      const path: string[] = [];
      for (let id: string | null | undefined = cur; id != null; id = cameFrom.get(id)) path.unshift(id);
      return path;
    }
    for (const h of immediateOf(byId.get(cur))) {
      if (!cameFrom.has(h.target)) (cameFrom.set(h.target, cur), queue.push(h.target));
    }
  }
  return undefined;
}

function immediateOf(s: LoadedScenario | undefined): readonly Handover[] {
  return (s?.handovers ?? []).filter((h) => h.immediate);
}
