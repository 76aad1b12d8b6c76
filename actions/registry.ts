/**
 * The action registry: scenarios name actions (`action: statistic__set`), the registry
 * runs them and tells the loader which names and config keys exist.
 */
import type { ActionSpec } from "../engine/catalog.ts";
import { ActionError } from "../engine/errors.ts";
import type { ActionContext, ActionOutcome, ActionRunner } from "../engine/ports.ts";

/**
 * One action: its spec (name, config schema, optional deeper checks) and what it does. Must be
 * idempotent. `run` may resolve to variables to save (`{ vars: { order_status: "shipped" } }`).
 */
export interface ActionDefinition extends ActionSpec {
  run(config: Readonly<Record<string, unknown>>, ctx: ActionContext): Promise<ActionOutcome | void>;
}

export class ActionRegistry implements ActionRunner {
  private readonly actions = new Map<string, ActionDefinition>();

  register(action: ActionDefinition): this {
    if (this.actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
    this.actions.set(action.name, action);
    return this;
  }

  /** Whether an action of that name is registered. */
  has(name: string): boolean {
    return this.actions.has(name);
  }

  /** The specs the loader checks scenarios against. */
  specs(): ActionSpec[] {
    // Bound: a module's action may be a class instance whose checks use `this`.
    return [...this.actions.values()].map((a) => ({
      name: a.name,
      description: a.description,
      configSchema: a.configSchema,
      ...(a.checkConfig ? { checkConfig: a.checkConfig.bind(a) } : {}),
      ...(a.savesVariables ? { savesVariables: a.savesVariables.bind(a) } : {}),
    }));
  }

  async run(name: string, config: Readonly<Record<string, unknown>>, ctx: ActionContext): Promise<ActionOutcome | void> {
    const action = this.actions.get(name);
    if (!action) throw new ActionError(name, "no such action is registered", false);
    return action.run(config, ctx);
  }
}
