import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScenarioProblem } from "../../engine/errors.ts";
import { step } from "../../engine/interpreter.ts";
import { ScenarioRegistry } from "../../engine/registry.ts";
import { Runtime } from "../../engine/runtime.ts";
import { MemoryStateStore } from "../../engine/state/memory-store.ts";
import type { InboundEvent } from "../../engine/types.ts";
import { ofType, texts } from "../helpers/conversation.ts";
import { ManualClock } from "../helpers/manual-clock.ts";
import { RecordingDelivery, RecordingLogger } from "../helpers/recorders.ts";
import { loadTestScenario, RecordingQueue, testActions } from "../helpers/scenario.ts";

/** The survey in version `v`; `comment` names the comment block (renaming it makes the old one vanish). */
function survey(v: string, options: { onUpdate?: "finish" | "restart"; comment?: string; version?: string; timeout?: boolean } = {}): string {
  const comment = options.comment ?? "comment";
  const timeout = options.timeout ? "\n    timeout: { after: 1h, next: bye }" : "";
  return `id: vs
${options.version !== undefined ? `version: "${options.version}"\n` : ""}on_update: ${options.onUpdate ?? "finish"}
start: rate
blocks:
  rate:
    type: message_with_keyboard
    text: Rate ${v}
    buttons: [{ label: "1", value: 1 }, { label: "2", value: 2 }, { label: "3", value: 3 }]
    save_to: quality_answer${timeout}
    next: ${comment}
  ${comment}:
    type: wait_for_response
    text: Comment ${v}
    save_to: quality_comment${timeout}
    next: save
  save:
    type: action
    action: statistic__set
    config: { type: quality }
    next: bye
  bye:
    type: end
    text: Bye ${v}
`;
}

const specs = testActions().specs();
/** Dedupe keys unique across runtimes that share a store (a "restarted process"). */
let deliverySeq = 0;

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "botflow-versions-"));
  file = path.join(dir, "vs.yaml");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setup(registry: ScenarioRegistry, store = new MemoryStateStore(new ManualClock()), clock = new ManualClock()) {
  const delivery = new RecordingDelivery();
  const logger = new RecordingLogger();
  const queue = new RecordingQueue();
  const runtime = new Runtime({ scenarios: registry, store, delivery, actions: testActions(queue), logger, clock, defaultScenarioId: "vs", lockWaitMs: 1000 });
  const handle = (conversationId: string, kind: InboundEvent["kind"], extra: Partial<InboundEvent> = {}) =>
    runtime.handle({ channel: "test", conversationId, userId: "u", kind, dedupeKey: `${conversationId}:${++deliverySeq}`, ...extra });
  return { runtime, delivery, logger, queue, store, handle };
}

async function registryWith(text: string): Promise<ScenarioRegistry> {
  await writeFile(file, text);
  const registry = new ScenarioRegistry({ actions: specs });
  await registry.loadFile(file);
  return registry;
}

describe("scenario versions", () => {
  it("each conversation records the version it started on; a reload gives new conversations the new one", async () => {
    const registry = await registryWith(survey("v1"));
    const v1 = registry.get("vs")?.version;
    const t = setup(registry);
    const a = await t.handle("c1", "start");
    expect(a.state?.scenarioVersion).toBe(v1);

    await writeFile(file, survey("v2"));
    expect(await registry.reload()).toEqual([]);
    const v2 = registry.get("vs")?.version;
    expect(v2).not.toBe(v1);
    expect(registry.getVersion("vs", v1 as string)?.def.blocks.rate).toMatchObject({ text: "Rate v1" });

    const b = await t.handle("c2", "start");
    expect(texts(b.effects)).toEqual(["Rate v2"]);
    expect(b.state?.scenarioVersion).toBe(v2);
  });

  it("loadFile of a changed file replaces the current version too", async () => {
    const registry = await registryWith(survey("v1"));
    await writeFile(file, survey("v2"));
    const loaded = await registry.loadFile(file);
    expect(registry.get("vs")).toBe(loaded);
    expect(registry.list()).toHaveLength(1);
  });

  it("an explicit version: is what conversations record, with the content hash after it", async () => {
    const registry = await registryWith(survey("v1", { version: "2026.1" }));
    const t = setup(registry);
    expect((await t.handle("c1", "start")).state?.scenarioVersion).toMatch(/^2026\.1\+[0-9a-f]{12}$/);
  });

  it("an edit that forgot to bump version: still lets a conversation in progress finish on what it started", async () => {
    const registry = await registryWith(survey("v1", { version: "2026.1" }));
    const t = setup(registry);
    await t.handle("c1", "start");
    await writeFile(file, survey("v2", { version: "2026.1" }));
    await registry.reload();
    const tapped = await t.handle("c1", "choice", { promptId: "p1", buttonIndex: 2 });
    expect(texts(tapped.effects)).toEqual(["Comment v1"]);
    expect(texts((await t.handle("c2", "start")).effects)).toEqual(["Rate v2"]);
  });

  it("on_update: finish — a conversation in progress finishes on its old version", async () => {
    const registry = await registryWith(survey("v1"));
    const t = setup(registry);
    const started = await t.handle("c1", "start");
    const v1 = started.state?.scenarioVersion;
    await writeFile(file, survey("v2", { onUpdate: "finish" }));
    await registry.reload();

    const tapped = await t.handle("c1", "choice", { promptId: "p1", buttonIndex: 2 });
    expect(texts(tapped.effects)).toEqual(["Comment v1"]);
    const done = await t.handle("c1", "text", { text: "ok then" });
    expect(texts(done.effects)).toEqual(["Bye v1"]);
    expect(done.state).toMatchObject({ scenarioVersion: v1, ended: true, vars: { quality_answer: 3, quality_comment: "ok then" } });
    expect(t.queue.events[0]).toMatchObject({ kind: "completed", scenarioVersion: v1, score: 3 });

    // Its next dialogue runs the new version.
    const next = await t.handle("c1", "start");
    expect(texts(next.effects)).toEqual(["Rate v2"]);
    expect(next.state?.scenarioVersion).toBe(registry.get("vs")?.version);
  });

  it("on_update: restart — a conversation in progress restarts on the new version", async () => {
    const registry = await registryWith(survey("v1"));
    const t = setup(registry);
    await t.handle("c1", "start");
    await writeFile(file, survey("v2", { onUpdate: "restart" }));
    await registry.reload();

    const r = await t.handle("c1", "choice", { promptId: "p1", buttonIndex: 0 });
    expect(r.effects[0]).toEqual({ type: "close", promptId: "p1", reason: "restart" });
    expect(texts(r.effects)).toEqual(["Rate v2"]);
    expect(r.state).toMatchObject({ scenarioVersion: registry.get("vs")?.version, dialogue: 2, vars: {}, prompt: { id: "p2", blockId: "rate" } });
    expect(t.logger.lines.some((l) => l.level === "info" && (l.obj as { conversation?: string }).conversation === "test::c1")).toBe(true);
  });

  it("on_update: restart leaves an ended dialogue alone", async () => {
    const registry = await registryWith(survey("v1"));
    const t = setup(registry);
    await t.handle("c1", "start");
    await t.handle("c1", "choice", { promptId: "p1", buttonIndex: 0 });
    await t.handle("c1", "text", { text: "done" });
    await writeFile(file, survey("v2", { onUpdate: "restart" }));
    await registry.reload();
    const r = await t.handle("c1", "text", { text: "hello?" });
    expect(r.effects).toEqual([{ type: "ignored", reason: "no_dialogue", promptId: undefined }]);
    expect(r.state?.dialogue).toBe(1);
  });

  describe("no-answer timeouts across versions", () => {
    it("on_update: restart — a timeout finishes the prompt on its version and sends no new survey", async () => {
      const clock = new ManualClock();
      const registry = await registryWith(survey("v1", { timeout: true }));
      const t = setup(registry, new MemoryStateStore(clock), clock);
      await t.handle("c1", "start");
      await writeFile(file, survey("v2", { onUpdate: "restart", timeout: true }));
      await registry.reload();

      clock.advance(3_600_000);
      expect(await t.runtime.sweepTimeouts()).toBe(1);
      const batch = t.delivery.batches.at(-1);
      expect(batch?.effects[0]).toEqual({ type: "close", promptId: "p1", reason: "timeout" });
      expect(texts(batch?.effects ?? [])).toEqual(["Bye v1"]);
      expect(t.delivery.texts()).not.toContain("Rate v2");
    });

    it("after a process restart, a timeout on a vanished block ends the dialogue without a new survey", async () => {
      const clock = new ManualClock();
      const store = new MemoryStateStore(clock);
      const before = setup(await registryWith(survey("v1", { timeout: true })), store, clock);
      await before.handle("c1", "start");
      await before.handle("c1", "choice", { promptId: "p1", buttonIndex: 0 }); // waits on "comment"

      await writeFile(file, survey("v2", { comment: "feedback", onUpdate: "restart", timeout: true }));
      const fresh = new ScenarioRegistry({ actions: specs });
      await fresh.loadFile(file);
      const after = setup(fresh, store, clock);
      clock.advance(3_600_000);
      expect(await after.runtime.sweepTimeouts()).toBe(1);
      const batch = after.delivery.batches.at(-1);
      expect(texts(batch?.effects ?? [])).toEqual([]);
      expect(batch?.effects.at(-1)).toEqual({ type: "track", event: { type: "dialogue_ended" } });
      expect(await after.runtime.sweepTimeouts()).toBe(0);
      // The next start runs the new version.
      expect(texts((await after.handle("c1", "start")).effects)).toEqual(["Rate v2"]);
    });
  });

  describe("after a process restart (the old version is gone)", () => {
    it("the block waited on vanished: the dialogue restarts cleanly on the new version", async () => {
      const store = new MemoryStateStore(new ManualClock());
      const before = setup(await registryWith(survey("v1")), store);
      await before.handle("c1", "start");
      await before.handle("c1", "choice", { promptId: "p1", buttonIndex: 1 }); // waits on "comment"

      // A new process: a new registry that only knows v2, where "comment" is now "feedback".
      await writeFile(file, survey("v2", { comment: "feedback" }));
      const fresh = new ScenarioRegistry({ actions: specs });
      await fresh.loadFile(file);
      const after = setup(fresh, store);
      const r = await after.handle("c1", "text", { text: "my comment" });
      expect(r.effects[0]).toEqual({ type: "close", promptId: "p2", reason: "restart" });
      expect(texts(r.effects)).toEqual(["Rate v2"]);
      expect(r.state).toMatchObject({ scenarioVersion: fresh.get("vs")?.version, dialogue: 2, vars: {}, prompt: { blockId: "rate" } });
    });

    it("the block waited on still asks a question: the dialogue continues on the new version", async () => {
      const store = new MemoryStateStore(new ManualClock());
      const before = setup(await registryWith(survey("v1")), store);
      await before.handle("c1", "start");

      await writeFile(file, survey("v2"));
      const fresh = new ScenarioRegistry({ actions: specs });
      await fresh.loadFile(file);
      const after = setup(fresh, store);
      const r = await after.handle("c1", "choice", { promptId: "p1", buttonIndex: 1 });
      expect(texts(r.effects)).toEqual(["Comment v2"]);
      expect(r.state).toMatchObject({ scenarioVersion: fresh.get("vs")?.version, dialogue: 1, vars: { quality_answer: 2 } });
    });

    it("the scenario itself is gone: the dialogue ends, logged, nothing thrown", async () => {
      const store = new MemoryStateStore(new ManualClock());
      const before = setup(await registryWith(survey("v1")), store);
      await before.handle("c1", "start");

      const other = new ScenarioRegistry({ actions: specs });
      other.add(loadTestScenario(survey("x").replace("id: vs", "id: other")));
      const after = setup(other, store);
      const r = await after.handle("c1", "choice", { promptId: "p1", buttonIndex: 1 });
      expect(r.effects).toEqual([{ type: "ignored", reason: "no_dialogue" }]);
      expect(r.state).toMatchObject({ scenarioId: "vs", ended: true, prompt: null });
      expect(after.logger.lines.filter((l) => l.level === "warn").map((l) => l.obj)).toEqual([{ conversation: "test::c1", scenario: "vs" }]);
    });
  });

  it("the interpreter itself never crashes on a prompt whose block vanished: it ends the dialogue", () => {
    const v1 = loadTestScenario(survey("v1"));
    const v2 = loadTestScenario(survey("v2", { comment: "feedback" }));
    const event = { channel: "t", conversationId: "c", userId: "u", dedupeKey: "k", at: 1 };
    const started = step(v1, null, { ...event, kind: "start" });
    const waiting = step(v1, started.state, { ...event, kind: "choice", promptId: "p1", buttonIndex: 0 }).state;
    expect(waiting?.prompt?.blockId).toBe("comment");
    for (const e of [
      { ...event, kind: "text" as const, text: "hi" },
      { ...event, kind: "choice" as const, promptId: "p2", buttonIndex: 0 },
    ]) {
      const r = step(v2, waiting, e);
      expect(r.state).toMatchObject({ ended: true, prompt: null });
    }
    // A due deadline on the vanished block ends it too.
    const timedOut = step(v2, { ...(waiting as NonNullable<typeof waiting>), prompt: { id: "p2", blockId: "comment", attempts: 0, deadline: 5 } }, { ...event, kind: "timeout", at: 10 });
    expect(timedOut.state).toMatchObject({ ended: true });
    expect(ofType(timedOut.effects, "track").at(-1)?.event).toEqual({ type: "dialogue_ended" });
  });

  describe("reload failures", () => {
    it("a file that fails to reload keeps the previous version and reports its problems", async () => {
      const registry = await registryWith(survey("v1"));
      const v1 = registry.get("vs");
      await writeFile(file, survey("v2").replace("next: save", "next: nowhere"));
      const problems = await registry.reload();
      expect(problems.filter((p) => p.severity === "error")).toEqual([
        expect.objectContaining({ file, line: expect.any(Number), col: expect.any(Number), message: expect.stringContaining('no block "nowhere"') }),
      ]);
      expect(registry.get("vs")).toBe(v1);
      const t = setup(registry);
      expect(texts((await t.handle("c1", "start")).effects)).toEqual(["Rate v1"]);
    });

    it("a YAML syntax error is reported with its position", async () => {
      const registry = await registryWith(survey("v1"));
      await writeFile(file, "id: vs\nstart: [\n");
      const problems = await registry.reload();
      expect(problems.length).toBeGreaterThan(0);
      expect(problems[0]).toMatchObject({ file, severity: "error" });
      expect(problems[0]?.line).toBeGreaterThanOrEqual(2);
      expect(registry.get("vs")?.def.blocks.rate).toMatchObject({ text: "Rate v1" });
    });

    it("a deleted file is reported and the other files still reload", async () => {
      const other = path.join(dir, "other.yaml");
      await writeFile(file, survey("v1"));
      await writeFile(other, survey("o1").replace("id: vs", "id: other"));
      const registry = new ScenarioRegistry({ actions: specs });
      expect(await registry.loadDir(dir)).toEqual([]);
      expect(registry.list().map((s) => s.id).sort()).toEqual(["other", "vs"]);

      await unlink(file);
      await writeFile(other, survey("o2").replace("id: vs", "id: other"));
      const problems = await registry.reload();
      expect(problems).toEqual([expect.objectContaining({ file, severity: "error", message: expect.stringContaining("previous version stays in use") })]);
      expect(registry.get("other")?.def.blocks.rate).toMatchObject({ text: "Rate o2" });
      expect(registry.get("vs")?.def.blocks.rate).toMatchObject({ text: "Rate v1" });
    });

    it("a file that renames its scenario frees the old id; conversations on it finish on their version", async () => {
      const registry = await registryWith(survey("v1"));
      const t = setup(registry);
      await t.handle("c1", "start");
      await writeFile(file, survey("r1").replace("id: vs", "id: renamed"));
      expect(await registry.reload()).toEqual([]);
      expect(registry.get("vs")).toBeUndefined();
      expect(registry.list().map((s) => s.id)).toEqual(["renamed"]);

      const r = await t.handle("c1", "choice", { promptId: "p1", buttonIndex: 0 });
      expect(texts(r.effects)).toEqual(["Comment v1"]);
      // Another file may now use the id.
      const other = path.join(dir, "other.yaml");
      await writeFile(other, survey("o1"));
      await registry.loadFile(other);
      expect(registry.get("vs")?.source).toBe(other);
    });

    it("two files may not claim one scenario id", async () => {
      const registry = await registryWith(survey("v1"));
      const twin = path.join(dir, "twin.yaml");
      await writeFile(twin, survey("twin"));
      await expect(registry.loadFile(twin)).rejects.toThrow('scenario id "vs" is already used by');
      expect(registry.get("vs")?.source).toBe(file);
    });
  });

  describe("watch", () => {
    type Report = { file: string; problems: ScenarioProblem[] };

    /** Collects reload reports; `next(match)` waits for the first one that matches, at most `ms`. */
    function reports() {
      const waiting: { match: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];
      return {
        onResult(file: string, problems: ScenarioProblem[]) {
          const r = { file, problems };
          const i = waiting.findIndex((w) => w.match(r));
          if (i >= 0) waiting.splice(i, 1)[0]?.resolve(r);
        },
        next(match: (r: Report) => boolean, ms = 5000): Promise<Report> {
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no matching reload report within ${ms} ms`)), ms);
            waiting.push({ match, resolve: (r) => (clearTimeout(timer), resolve(r)) });
          });
        },
      };
    }

    it("reloads a changed file, keeps the previous version when the change is broken, and picks up new files", async () => {
      const registry = await registryWith(survey("v1"));
      const seen = reports();
      const watcher = registry.watch(dir, (f, problems) => seen.onResult(f, problems));
      try {
        // A write can be seen half-done (an empty file); wait for the report of the finished one.
        const changed = seen.next((r) => r.file === file && r.problems.length === 0);
        await writeFile(file, survey("v2"));
        await changed;
        expect(registry.get("vs")?.def.blocks.rate).toMatchObject({ text: "Rate v2" });

        const broken = seen.next((r) => r.file === file && r.problems.length > 0);
        await writeFile(file, "id: vs\nstart: rate\nblocks: 3\n");
        const report = await broken;
        expect(report.problems.every((p) => p.file === file)).toBe(true);
        expect(report.problems.some((p) => p.severity === "error")).toBe(true);
        expect(registry.get("vs")?.def.blocks.rate).toMatchObject({ text: "Rate v2" });

        const added = path.join(dir, "new.yaml");
        const loaded = seen.next((r) => r.file === added && r.problems.length === 0);
        await writeFile(added, survey("n1").replace("id: vs", "id: fresh"));
        await loaded;
        expect(registry.get("fresh")?.source).toBe(added);
      } finally {
        watcher.close();
      }
    });

    it("ignores files that are not YAML", async () => {
      const registry = await registryWith(survey("v1"));
      const seen = reports();
      const watcher = registry.watch(dir, (f, problems) => seen.onResult(f, problems));
      try {
        const any = seen.next(() => true, 300);
        await writeFile(path.join(dir, "notes.txt"), "not a scenario");
        await expect(any).rejects.toThrow("no matching reload report");
      } finally {
        watcher.close();
      }
    });
  });
});
