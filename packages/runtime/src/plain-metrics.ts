// Counters and histograms for a per-request hot path: a child is a few plain numbers, and
// counting is an addition; the Prometheus text is built from them when /metrics is scraped.
// prom-client's own children hash their label object on every inc() and observe(), which
// cost a decision service about as much as its whole JSON log line. The text these write is
// byte for byte prom-client's (the tests hold them together), on a prom-client Registry.
import type { Registry } from 'prom-client';

export interface PlainCounterChild {
  inc(by?: number): void;
}

export interface PlainHistogramChild {
  observe(value: number): void;
}

export interface PlainMetric<Child, L extends string> {
  /** The child for these label values, in labelNames order; keep it, it is the fast path. */
  labels(...values: string[]): Child;
  /** (prom-client's types name the label names; kept for the callers' checks.) */
  readonly labelNames: readonly L[];
}

type Labels = Record<string, string | number>;
interface ValuePair {
  labels: Labels;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

/** What a prom-client Registry asks of a metric it holds. */
abstract class RegisteredMetric<Child> {
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, { labels: Labels; child: Child }>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    readonly labelNames: readonly string[],
  ) {
    // Labelled only: every child is made by labels(), and a scrape shows the ones used.
    if (labelNames.length === 0) throw new Error(`${name}: a plain metric needs label names`);
    // registerMetric takes any object shaped like a metric (it keys on name).
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    }
    const key = values.join('\0');
    let entry = this.children.get(key);
    if (entry === undefined) {
      const labels: Labels = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i]!;
      });
      entry = { labels, child: this.newChild() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract newChild(): Child;
  protected abstract values(): ValuePair[];

  async getForPromString() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    };
  }

  /** The JSON form (Registry.getMetricsAsJSON): labels shared by a child folded into each value. */
  async get() {
    const values = this.values().map(({ labels, sharedLabels, ...rest }) => ({
      ...rest,
      labels: { ...sharedLabels, ...labels },
    }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.children.clear();
  }
}

class CounterChild implements PlainCounterChild {
  value = 0;
  inc(by = 1): void {
    if (!(by >= 0) || !Number.isFinite(by)) throw new Error(`a counter only goes up: ${by}`);
    this.value += by;
  }
}

class PlainCounterMetric<L extends string>
  extends RegisteredMetric<CounterChild>
  implements PlainMetric<PlainCounterChild, L>
{
  declare readonly labelNames: readonly L[];
  protected newChild() {
    return new CounterChild();
  }
  protected values(): ValuePair[] {
    return [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value }));
  }
}

class HistogramChild implements PlainHistogramChild {
  /** Not cumulative: counts[i] is the observations in (bounds[i-1], bounds[i]]; the last is above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

class PlainHistogramMetric<L extends string>
  extends RegisteredMetric<HistogramChild>
  implements PlainMetric<PlainHistogramChild, L>
{
  declare readonly labelNames: readonly L[];
  private readonly bounds: readonly number[];
  constructor(registry: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[]) {
    super(registry, name, help, 'histogram', labelNames);
    this.bounds = [...buckets].sort((a, b) => a - b);
  }
  protected newChild() {
    return new HistogramChild(this.bounds);
  }
  protected values(): ValuePair[] {
    const out: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += child.counts[i]!;
        out.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucket });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: child.count, metricName: bucket });
      out.push({ labels: {}, sharedLabels: labels, value: child.sum, metricName: `${this.name}_sum` });
      out.push({ labels: {}, sharedLabels: labels, value: child.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}

export type PlainCounter<L extends string> = PlainMetric<PlainCounterChild, L>;
export type PlainHistogram<L extends string> = PlainMetric<PlainHistogramChild, L>;

export function createPlainCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): PlainCounter<L> {
  return new PlainCounterMetric<L>(registry, name, help, 'counter', labelNames);
}

export function createPlainHistogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[],
): PlainHistogram<L> {
  return new PlainHistogramMetric<L>(registry, name, help, buckets, labelNames);
}
