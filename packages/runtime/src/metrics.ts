// Prometheus metrics (prom-client) on a registry of each service's own, never the global
// one: several services (tests, `podgate dev`) live in one process without clashing.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type { Counter, Gauge, Histogram, Registry };

export interface RegistryOptions {
  /** Also export Node's process metrics (CPU, memory, event loop lag), named with this prefix. */
  processMetricsPrefix?: string;
}

export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetricsPrefix !== undefined) {
    collectDefaultMetrics({ register: registry, prefix: options.processMetricsPrefix });
  }
  return registry;
}

export function createCounter<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function createGauge<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function createHistogram<L extends string = string>(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly L[] = [],
): Histogram<L> {
  return new Histogram({ name, help, buckets, labelNames, registers: [registry] });
}
