/**
 * A small Prometheus registry: counters, gauges (set, or collected at scrape time) and
 * histograms, rendered in the text exposition format (version 0.0.4). Enough for the web
 * process's own metrics without a dependency.
 *
 * @example
 * const metrics = new Metrics();
 * const inbound = metrics.counter("botflow_inbound_events_total", "Inbound events", ["channel", "status"]);
 * inbound.inc({ channel: "webchat", status: "processed" });
 * reply.type(METRICS_CONTENT_TYPE).send(await metrics.render());
 */

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Readonly<Record<string, string>>;

/** One scrape, as collectors see it. */
export interface Scrape {
  /**
   * Runs `read` once per scrape however many collectors ask for it (keyed by the function),
   * so families fed by one costly read (a Redis round trip) share it.
   */
  once<T>(read: () => Promise<T>): Promise<T>;
}

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  lines(scrape: Scrape): Promise<string[]>;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

/** Default latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  private readonly families: Family[] = [];

  /** A counter; with `collect`, its series are read at every scrape (a total another object keeps). */
  counter(name: string, help: string, labelNames: readonly string[] = [], collect?: (scrape: Scrape) => Promise<[Labels, number][]>): Counter {
    const values = new Map<string, number>();
    this.add({
      name,
      help,
      type: "counter",
      lines: async (scrape) => {
        const series = collect ? new Map((await collect(scrape)).map(([labels, v]) => [key(labelNames, labels), v] as const)) : values;
        return [...series].map(([k, v]) => `${name}${k} ${v}`);
      },
    });
    return {
      inc: (labels = {}, by = 1) => {
        const k = key(labelNames, labels);
        values.set(k, (values.get(k) ?? 0) + by);
      },
    };
  }

  /**
   * A gauge; with `collect`, its series are read at every scrape instead of set, and a
   * series the collector no longer returns is gone from the next scrape.
   */
  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (scrape: Scrape) => Promise<[Labels, number][]>): Gauge {
    const values = new Map<string, number>();
    this.add({
      name,
      help,
      type: "gauge",
      lines: async (scrape) => {
        const series = collect ? new Map((await collect(scrape)).map(([labels, v]) => [key(labelNames, labels), v] as const)) : values;
        return [...series].map(([k, v]) => `${name}${k} ${v}`);
      },
    });
    return { set: (labels, value) => void values.set(key(labelNames, labels), value) };
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    this.add({
      name,
      help,
      type: "histogram",
      lines: async () =>
        [...series.values()].flatMap((s) => [
          ...buckets.map((b, i) => `${name}_bucket${key([...labelNames, "le"], { ...s.labels, le: String(b) })} ${s.counts[i]}`),
          `${name}_bucket${key([...labelNames, "le"], { ...s.labels, le: "+Inf" })} ${s.count}`,
          `${name}_sum${key(labelNames, s.labels)} ${s.sum}`,
          `${name}_count${key(labelNames, s.labels)} ${s.count}`,
        ]),
    });
    return {
      observe: (labels, value) => {
        const k = key(labelNames, labels);
        let s = series.get(k);
        if (!s) series.set(k, (s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 }));
        for (let i = 0; i < buckets.length; i++) if (value <= (buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** Every family in the text exposition format; a gauge whose collect fails is left out (and says so in a comment). */
  async render(): Promise<string> {
    const out: string[] = [];
    const reads = new Map<() => Promise<unknown>, Promise<unknown>>();
    const scrape: Scrape = {
      once<T>(read: () => Promise<T>): Promise<T> {
        let p = reads.get(read);
        if (!p) reads.set(read, (p = read()));
        return p as Promise<T>;
      },
    };
    for (const f of this.families) {
      let lines: string[];
      try {
        lines = await f.lines(scrape);
      } catch (err) {
        out.push(`# ${f.name} not collected: ${(err instanceof Error ? err.message : String(err)).replace(/\n/g, " ")}`);
        continue;
      }
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${f.name} ${f.type}`, ...lines);
    }
    return `${out.join("\n")}\n`;
  }

  private add(f: Family): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(f.name)) throw new Error(`metric name "${f.name}" is not a Prometheus name`);
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric "${f.name}" is registered twice`);
    this.families.push(f);
  }
}

function key(labelNames: readonly string[], labels: Labels): string {
  if (labelNames.length === 0) return "";
  return `{${labelNames.map((n) => `${n}="${escape(labels[n] ?? "")}"`).join(",")}}`;
}

function escape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
