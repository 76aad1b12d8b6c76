/**
 * The scenarios a process runs, by id, with every version loaded since start so a
 * conversation can finish on the version it began (`on_update: finish`).
 * Reloads are atomic per file: a file that fails to load keeps its previous version.
 *
 * Versions live in memory only: after a process restart a conversation whose version is gone
 * continues on the current one when the block it waits on is still a question there, and
 * restarts on it otherwise (see Runtime). It never runs a block that does not exist.
 */
import { readdir } from "node:fs/promises";
import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import type { ScenarioProblem } from "./errors.ts";
import { ScenarioError } from "./errors.ts";
import { checkHandovers } from "./handovers.ts";
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

  /**
   * Loads (or reloads) one file. Its goto_scenario targets are checked against the scenarios
   * loaded now; a file that fails keeps its previous version.
   */
  async loadFile(file: string): Promise<LoadedScenario> {
    const scenario = await loadScenarioFile(file, this.options);
    const problems = checkHandovers([scenario], [...this.othersThan([file], [scenario.id]), scenario]);
    if (problems.length > 0) throw new ScenarioError(problems);
    this.install(file, scenario);
    return scenario;
  }

  /**
   * Loads every *.yaml / *.yml in `dir`; returns the problems of the files that failed. Handovers
   * (goto_scenario) are checked once the whole folder has loaded, so a target may sort after the
   * file that names it; a file whose target failed to load fails too.
   */
  async loadDir(dir: string): Promise<ScenarioProblem[]> {
    const problems: ScenarioProblem[] = [];
    const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
    let staged: { file: string; scenario: LoadedScenario }[] = [];
    for (const name of names) {
      const file = path.join(dir, name);
      try {
        staged.push({ file, scenario: await loadScenarioFile(file, this.options) });
      } catch (err) {
        problems.push(...problemsOf(file, err));
      }
    }
    for (let failed = true; failed; ) {
      const world = [...this.othersThan(staged.map((s) => s.file), staged.map((s) => s.scenario.id)), ...staged.map((s) => s.scenario)];
      const kept = staged.filter(({ scenario }) => {
        const found = checkHandovers([scenario], world);
        problems.push(...found);
        return found.length === 0;
      });
      failed = kept.length < staged.length;
      staged = kept;
    }
    for (const { file, scenario } of staged) {
      try {
        this.install(file, scenario);
      } catch (err) {
        problems.push(...problemsOf(file, err));
      }
    }
    return problems;
  }

  /** The current scenarios, less those of `files` and those with one of `ids` (about to be replaced). */
  private othersThan(files: readonly string[], ids: readonly string[]): LoadedScenario[] {
    return this.list().filter((s) => !ids.includes(s.id) && !files.includes(this.files.get(s.id) ?? ""));
  }

  private install(file: string, scenario: LoadedScenario): void {
    this.add(scenario);
    // The file now defines another id: its old id is no longer offered to new dialogues (and may be
    // claimed by another file). Its versions stay, so conversations on it can still finish.
    for (const [id, source] of this.files) {
      if (source === file && id !== scenario.id) {
        this.files.delete(id);
        this.current.delete(id);
      }
    }
  }

  /**
   * Reloads every file loaded so far: the production hook for a signal (SIGHUP) or an admin API
   * call. New conversations get the new versions; conversations in progress follow each scenario's
   * `on_update`. A file that fails (invalid, unreadable, deleted) keeps its previous version and its
   * problems are returned; the other files still reload.
   *
   * @example
   * process.on("SIGHUP", () => void registry.reload().then((problems) => problems.forEach((p) => log.warn(p, formatProblem(p)))));
   */
  async reload(): Promise<ScenarioProblem[]> {
    const problems: ScenarioProblem[] = [];
    for (const file of new Set(this.files.values())) {
      try {
        await this.loadFile(file);
      } catch (err) {
        problems.push(...problemsOf(file, err));
      }
    }
    return problems;
  }

  /**
   * Development: reloads a *.yaml file in `dir` when it changes (new files too). `onResult` hears of
   * every reload, good or bad; a bad one keeps the previous version. Close the returned watcher to stop.
   */
  watch(dir: string, onResult: (file: string, problems: ScenarioProblem[]) => void): FSWatcher {
    const pending = new Map<string, NodeJS.Timeout>();
    const watcher = watch(dir, (_event, name) => {
      if (!name || !/\.ya?ml$/.test(name)) return;
      const file = path.join(dir, name);
      clearTimeout(pending.get(file));
      pending.set(
        file,
        setTimeout(() => {
          pending.delete(file);
          this.loadFile(file).then(
            () => onResult(file, []),
            (err: unknown) => onResult(file, problemsOf(file, err)),
          );
        }, 50),
      );
    });
    // A change seen just before close must not reload (and report) after it.
    watcher.on("close", () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    });
    return watcher;
  }
}

/** A failed load as problems: the loader's own, or one for a file that could not be read. */
function problemsOf(file: string, err: unknown): ScenarioProblem[] {
  if (err instanceof ScenarioError) return err.problems;
  const reason = err instanceof Error ? err.message : String(err);
  return [{ file, line: 1, col: 1, severity: "error", message: `cannot load the scenario: ${reason}; the previous version stays in use` }];
}
