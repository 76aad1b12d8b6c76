/**
 * Finds and loads the scenario a test case names, once per file and channel: `scenario: csat`
 * is an id, looked up among the scenarios in the test file's folder (then the folder above it,
 * so tests may sit in a `tests/` folder beside the scenarios); `scenario: csat.yaml` or
 * `../flows/csat.yaml` is a path relative to the test file. A case on a channel loads the
 * scenario with that channel's limits, as `botflow serve` with the channel enabled does.
 */
import path from "node:path";
import { Writable } from "node:stream";
import { readScenarioFile } from "../../engine/loader.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import type { LoadedScenario } from "../../engine/scenario.ts";
import { parseYamlSource } from "../../engine/yaml-source.ts";
import type { CliIo } from "../io.ts";
import { loadScenarioForCli } from "../load-scenario.ts";
import type { ScenarioKit } from "../scenario-kit.ts";
import { CHANNEL_LIMITS, type TestChannel } from "./channel-view.ts";
import { isTestFileName } from "./find-test-files.ts";

export type ScenarioLookup =
  | { ok: true; scenario: LoadedScenario; related: LoadedScenario[]; file: string }
  /** `details` are the loader's own lines (`file:line:col: error: …`). */
  | { ok: false; message: string; details: string[] };

export class ScenarioSource {
  private readonly loaded = new Map<string, Promise<ScenarioLookup>>();
  private readonly folders = new Map<string, Promise<{ ids: Map<string, string>; broken: number }>>();

  /** `kit` gives the actions (and so the load options) every case runs with. */
  constructor(
    private readonly io: CliIo,
    private readonly kit: ScenarioKit,
  ) {}

  /** The scenario `ref` names for a case in `testFile` (as given on the command line) on `channel`. */
  async lookup(testFile: string, ref: string, channel: TestChannel | undefined): Promise<ScenarioLookup> {
    const dir = path.dirname(path.resolve(this.io.cwd, testFile));
    let file: string;
    if (isPath(ref)) {
      file = path.resolve(dir, ref);
    } else {
      const found = await this.findId(dir, ref);
      if (typeof found !== "string") return found;
      file = found;
    }
    const key = `${file}\u0000${channel ?? ""}`;
    let pending = this.loaded.get(key);
    if (!pending) this.loaded.set(key, (pending = this.load(file, channel)));
    return pending;
  }

  private async load(file: string, channel: TestChannel | undefined): Promise<ScenarioLookup> {
    const shown = this.relative(file);
    const errors = new LineSink();
    const kit: ScenarioKit = channel ? { ...this.kit, loadOptions: { ...this.kit.loadOptions, channels: [CHANNEL_LIMITS[channel]] } } : this.kit;
    const loaded = await loadScenarioForCli(shown, { ...this.io, stderr: errors }, kit);
    if (!loaded) {
      const on = channel ? ` on ${channel}` : "";
      return { ok: false, message: `${shown} does not load${on}`, details: errors.lines() };
    }
    return { ok: true, scenario: loaded.scenario, related: loaded.related, file: shown };
  }

  /** The file of scenario `id` in `dir`, else in its parent; or why there is none. */
  private async findId(dir: string, id: string): Promise<string | ScenarioLookup> {
    const searched: string[] = [];
    const withBroken: string[] = [];
    let broken = 0;
    for (const folder of [...new Set([dir, path.dirname(dir)])]) {
      const known = await this.folder(folder);
      const file = known.ids.get(id);
      if (file) return file;
      const shown = this.relative(folder) || ".";
      searched.push(shown);
      if (known.broken > 0) withBroken.push(shown);
      broken += known.broken;
    }
    const also = broken > 0 ? `; ${broken === 1 ? "1 scenario file there does" : `${broken} scenario files there do`} not load (botflow validate ${withBroken.join(" ")})` : "";
    return { ok: false, message: `no scenario with id "${id}" in ${searched.join(" or ")}${also}: check the id, or give a path such as scenario: ${id}.yaml`, details: [] };
  }

  private folder(dir: string): Promise<{ ids: Map<string, string>; broken: number }> {
    let pending = this.folders.get(dir);
    if (!pending) {
      pending = (async () => {
        const registry = new ScenarioRegistry(this.kit.loadOptions);
        const problems = await registry.loadDir(dir).catch(() => []);
        const ids = new Map(registry.list().map((s) => [s.id, s.source]));
        // The folder's own test files are no scenarios; the registry tries them all the same.
        const broken = [...new Set(problems.filter((p) => p.severity === "error").map((p) => p.file))].filter((f) => !isTestFileName(path.basename(f)));
        // A scenario that does not load still names its id: the case then reports why it does not load.
        for (const file of broken) {
          const id = await declaredId(file);
          if (id !== undefined && !ids.has(id)) ids.set(id, file);
        }
        return { ids, broken: broken.length };
      })();
      this.folders.set(dir, pending);
    }
    return pending;
  }

  private relative(file: string): string {
    return path.relative(this.io.cwd, file);
  }
}

/** The `id:` a scenario file declares, read without checking the rest of it. */
async function declaredId(file: string): Promise<string | undefined> {
  const read = await readScenarioFile(file).catch(() => undefined);
  if (!read || !("text" in read)) return undefined;
  const value = parseYamlSource(read.text).source?.value;
  const id = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>).id : undefined;
  return typeof id === "string" ? id : undefined;
}

function isPath(ref: string): boolean {
  return /[\\/]/.test(ref) || /\.ya?ml$/i.test(ref);
}

/** Collects what the CLI loader prints, line by line, so a case can report it. */
class LineSink extends Writable {
  private text = "";

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }

  lines(): string[] {
    return this.text.split("\n").filter((l) => l !== "");
  }
}
