/**
 * Readiness: the dependencies a process needs to do its work (state store, queue, statistics
 * store), each checked with a time limit. `/readyz` reports them.
 */
import { within } from "../engine/within.ts";

/** One dependency; `check` rejects (or times out) when it is not usable. */
export interface ReadinessCheck {
  name: string;
  /** A store this check proves reachable ("postgres", "redis", "pglite"): /metrics reports it as `botflow_store_up{store}`. */
  store?: string;
  check(): Promise<void>;
}

export interface ReadinessReport {
  ready: boolean;
  checks: { name: string; ok: boolean; error?: string }[];
}

/** Runs every check concurrently, each limited to `timeoutMs`. */
export async function checkReadiness(checks: readonly ReadinessCheck[], timeoutMs = 2_000): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        if (!(await within(c.check(), timeoutMs)).ok) throw new Error(`no answer within ${timeoutMs} ms`);
        return { name: c.name, ok: true };
      } catch (err) {
        return { name: c.name, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  return { ready: results.every((r) => r.ok), checks: results };
}
