// Prometheus metrics (prom-client) on a registry of each service's own, never the global
// one: several services (tests, `podgate dev`) live in one process without clashing.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { droppedLogLines, type Logger } from './logger.js';

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

/**
 * A counter (`name`, e.g. `podgate_proxy_log_lines_dropped_total`) of the lines the service's
 * buffered logger dropped because stdout was not read, read from the logger at each scrape.
 * Alert on any increase: the logs have a gap.
 */
export function registerLogDropMetric(registry: Registry, name: string, logger: Logger): void {
  new Counter({
    name,
    help: 'Log lines dropped because stdout was not read fast enough (a warning line with the count follows once it is).',
    registers: [registry],
    collect() {
      this.reset();
      const n = droppedLogLines(logger);
      if (n > 0) this.inc(n);
    },
  });
}
