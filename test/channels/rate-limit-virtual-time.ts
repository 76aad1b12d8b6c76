/**
 * Virtual time for pacing tests: a Clock and a sleep that never wait for real. `drive(work)`
 * lets the work run (Redis round trips included) until every unfinished piece is asleep, then
 * wakes the earliest sleeper at its time, and so on until all of it settled: the times the
 * tests assert are exact and independent of how loaded the machine is.
 */
import type { Clock } from "../../engine/ports.ts";

interface Sleeper {
  at: number;
  seq: number;
  wake: () => void;
}

export class VirtualTime implements Clock {
  private readonly sleepers: Sleeper[] = [];
  private seq = 0;

  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((wake) => {
      this.sleepers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, wake });
    });

  /** Sleepers waiting now. */
  get asleep(): number {
    return this.sleepers.length;
  }

  /** Runs `work` to the end on virtual time; resolves with their results (rejects as the first rejection). */
  async drive<T>(work: readonly Promise<T>[], realTimeoutMs = 20_000): Promise<T[]> {
    let pending = work.length;
    const all = Promise.all(work.map((w) => w.finally(() => pending--)));
    all.catch(() => {});
    const deadline = Date.now() + realTimeoutMs;
    while (pending > 0) {
      while (this.sleepers.length < pending && pending > 0) {
        if (Date.now() > deadline) throw new Error(`virtual time: ${pending} pieces of work neither finished nor slept within ${realTimeoutMs} ms of real time`);
        await new Promise((r) => setTimeout(r, 1));
      }
      if (pending === 0) break;
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.sleepers.shift();
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.wake();
      // Let the woken one take its turn (and maybe sleep again) before the count is compared.
      await new Promise((r) => setImmediate(r));
    }
    return all;
  }
}
