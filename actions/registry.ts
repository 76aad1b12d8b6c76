/**
 * The action registry: scenarios name actions (`action: statistic__set`), the registry
 * runs them and tells the loader which names and config keys exist.
 */
import type { ActionSpec } from "../engine/catalog.ts";
import { ActionError } from "../engine/errors.ts";
import type { ActionContext, ActionRunner } from "../engine/ports.ts";

/** One action: its spec (name, config schema) and what it does. Must be idempotent. */
export interface ActionDefinition extends ActionSpec {
  run(config: Readonly<Record<string, unknown>>, ctx: ActionContext): Promise<void>;
}

export class ActionRegistry implements ActionRunner {
  private readonly actions = new Map<string, ActionDefinition>();

  register(action: ActionDefinition): this {
    if (this.actions.has(action.name)) throw new Error(`action "${action.name}" is registered twice`);
    this.actions.set(action.name, action);
    return this;
  }

  /** The specs the loader checks scenarios against. */
  specs(): ActionSpec[] {
    return [...this.actions.values()].map(({ name, description, configSchema }) => ({ name, description, configSchema }));
  }

  async run(name: string, config: Readonly<Record<string, unknown>>, ctx: ActionContext): Promise<void> {
    const action = this.actions.get(name);
    if (!action) throw new ActionError(name, "no such action is registered", false);
    await action.run(config, ctx);
  }
}
