/**
 * The scenarios a process runs, by id, with every version loaded since start so a
 * conversation can finish on the version it began (`on_update: finish`).
 * Reloads are atomic per file: a file that fails to load keeps its previous version.
 */
import { readdir } from "node:fs/promises";
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { ScenarioProblem } from "./errors.ts";
import { ScenarioError } from "./errors.ts";
import { loadScenarioFile, type LoadOptions } from "./loader.ts";
import type { LoadedScenario } from "./scenario.ts";

export class ScenarioRegistry {
  private readonly current = new Map<string, LoadedScenario>();
  private readonly versions = new Map<string, Map<string, LoadedScenario>>();
  private readonly files = new Map<string, string>();

  constructor(private readonly options: LoadOptions = {}) {}

  /** Adds or replaces a scenario; earlier versions stay available to conversations that started on them. */
  add(scenario: LoadedScenario): void {
    const prev = this.current.get(scenario.id);
    if (prev && prev.source !== scenario.source && this.files.get(scenario.id) !== scenario.source) {
      throw new ScenarioError([
        { file: scenario.source, line: 1, col: 1, severity: "error", message: `scenario id "${scenario.id}" is already used by ${prev.source}` },
      ]);
    }
    this.current.set(scenario.id, scenario);
    this.files.set(scenario.id, scenario.source);
    let byVersion = this.versions.get(scenario.id);
    if (!byVersion) this.versions.set(scenario.id, (byVersion = new Map()));
    byVersion.set(scenario.version, scenario);
  }

  get(id: string): LoadedScenario | undefined {
    return this.current.get(id);
  }

  getVersion(id: string, version: string): LoadedScenario | undefined {
    return this.versions.get(id)?.get(version);
  }

  list(): LoadedScenario[] {
    return [...this.current.values()];
  }

  async loadFile(file: string): Promise<LoadedScenario> {
    const scenario = await loadScenarioFile(file, this.options);
    this.add(scenario);
    return scenario;
  }

  /** Loads every *.yaml / *.yml in `dir`; returns the problems of the files that failed. */
  async loadDir(dir: string): Promise<ScenarioProblem[]> {
    const problems: ScenarioProblem[] = [];
    const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    for (const name of names) {
      try {
        await this.loadFile(path.join(dir, name));
      } catch (err) {
        if (err instanceof ScenarioError) problems.push(...err.problems);
        else throw err;
      }
    }
    return problems;
  }

  /** Reloads every file loaded so far (a signal or an API call in production). */
  async reload(): Promise<ScenarioProblem[]> {
    const problems: ScenarioProblem[] = [];
    for (const file of new Set(this.files.values())) {
      try {
        await this.loadFile(file);
      } catch (err) {
        if (err instanceof ScenarioError) problems.push(...err.problems);
        else throw err;
      }
    }
    return problems;
  }

  /** Development: reloads a file when it changes. `onResult` hears of every reload, good or bad. */
  watch(dir: string, onResult: (file: string, problems: ScenarioProblem[]) => void): FSWatcher {
    const pending = new Map<string, NodeJS.Timeout>();
    return watch(dir, (_event, name) => {
      if (!name || !/\.ya?ml$/.test(name)) return;
      const file = path.join(dir, name);
      clearTimeout(pending.get(file));
      pending.set(
        file,
        setTimeout(() => {
          pending.delete(file);
          this.loadFile(file).then(
            () => onResult(file, []),
            (err: unknown) => onResult(file, err instanceof ScenarioError ? err.problems : [{ file, line: 1, col: 1, severity: "error", message: String(err) }]),
          );
        }, 50),
      );
    });
  }
}
