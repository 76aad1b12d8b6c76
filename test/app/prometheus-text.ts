/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: every line must
 * be a HELP, a TYPE or a sample of a declared family; histogram buckets must be cumulative
 * and end in +Inf equal to _count.
 */
import { expect } from "vitest";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

export function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.slice(0, -1).split("\n").entries()) {
    if (line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (!name || !type || !["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`line ${i + 1}: bad TYPE: ${line}`);
      if (types.has(name)) throw new Error(`line ${i + 1}: ${name} declared twice`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    const name = m[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    if (!types.has(family)) throw new Error(`line ${i + 1}: sample of undeclared family: ${name}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const at = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l || l.index !== at) throw new Error(`line ${i + 1}: bad labels: ${body}`);
      labels[l[1] as string] = (l[2] as string).replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name, labels, value: Number(m[4] === "+Inf" ? Infinity : m[4]) });
  }
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(rest);
      series.set(k, [...(series.get(k) ?? []), s]);
    }
    for (const [k, buckets] of series) {
      for (let j = 1; j < buckets.length; j++) if ((buckets[j] as Sample).value < (buckets[j - 1] as Sample).value) throw new Error(`${family}${k}: buckets not cumulative`);
      const inf = buckets.at(-1);
      const count = samples.find((x) => x.name === `${family}_count` && JSON.stringify(x.labels) === k);
      if (inf?.labels.le !== "+Inf" || inf.value !== count?.value) throw new Error(`${family}${k}: +Inf bucket does not equal _count`);
    }
  }
  return { types, samples };
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/**
 * Checks botflow_survey_job_latency_seconds has its three quantiles, each ≥ 0, in order
 * (p50 ≤ p90 ≤ p99), and returns them.
 */
export function expectOrderedQuantiles(samples: readonly Sample[]): number[] {
  const q = ["0.5", "0.9", "0.99"].map((quantile) => sampleValue(samples, "botflow_survey_job_latency_seconds", { quantile }));
  expect(q.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0), `quantiles ${JSON.stringify(q)}`).toBe(true);
  const [p50, p90, p99] = q as [number, number, number];
  expect(p50).toBeLessThanOrEqual(p90);
  expect(p90).toBeLessThanOrEqual(p99);
  return [p50, p90, p99];
}
