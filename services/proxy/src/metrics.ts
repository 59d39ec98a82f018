// The proxy's Prometheus metrics. Labels are bounded: endpoints come from the configuration,
// outcomes and codes from closed sets. Children are cached per label set: a connection costs a
// few increments, not a label lookup each.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ConnectionRecord } from './connection.js';

/** What a connection came to, for `podgate_proxy_connections_total`. */
export type ConnectionOutcome = 'forwarded' | 'denied' | 'dry_run' | 'refused' | 'failed';

export function outcomeOf(record: ConnectionRecord): ConnectionOutcome {
  switch (record.end) {
    case 'denied':
      return 'denied';
    case 'proxy_header_refused':
    case 'client_gone':
      return 'refused';
    case 'connect_timeout':
    case 'connect_refused':
    case 'connect_failed':
      return 'failed';
    default:
      return record.dryRun === true ? 'dry_run' : 'forwarded';
  }
}

export class ProxyMetrics {
  private readonly connections: Counter<'endpoint' | 'outcome'>;
  private readonly bytes: Counter<'endpoint' | 'direction'>;
  private readonly errors: Counter<'code'>;
  private readonly lookupSeconds: Histogram<'endpoint'>;
  private readonly dryRunVerdicts: Counter<'endpoint' | 'verdict'>;
  readonly open: Gauge;
  readonly overLimit: Counter;
  private readonly cache = new Map<string, { inc(n?: number): void }>();
  private readonly lookupChildren = new Map<string, { observe(v: number): void }>();

  /** openConnections: read at each scrape. */
  constructor(registry: Registry, openConnections?: () => number) {
    const registers = [registry];
    this.connections = new Counter({
      name: 'podgate_proxy_connections_total',
      help: 'Connections that ended, by endpoint and outcome (forwarded, denied, dry_run, refused, failed).',
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
    this.bytes = new Counter({
      name: 'podgate_proxy_bytes_total',
      help: 'Bytes forwarded, by endpoint and direction (from_client, from_upstream).',
      labelNames: ['endpoint', 'direction'],
      registers,
    });
    this.errors = new Counter({
      name: 'podgate_proxy_errors_total',
      help: 'Connections that ended in an error, by code.',
      labelNames: ['code'],
      registers,
    });
    this.lookupSeconds = new Histogram({
      name: 'podgate_proxy_lookup_duration_seconds',
      help: 'Identity lookup time per connection.',
      labelNames: ['endpoint'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    this.dryRunVerdicts = new Counter({
      name: 'podgate_proxy_dry_run_refusals_total',
      help: 'Connections a dry-run endpoint would have refused and let through, by endpoint and the action that would have refused.',
      labelNames: ['endpoint', 'verdict'],
      registers,
    });
    this.open = new Gauge({
      name: 'podgate_proxy_open_connections',
      help: 'Connections open now.',
      registers,
      ...(openConnections !== undefined
        ? {
            collect() {
              this.set(openConnections());
            },
          }
        : {}),
    });
    this.overLimit = new Counter({
      name: 'podgate_proxy_over_limit_total',
      help: 'Connections closed at once because --max-connections were open.',
      registers,
    });
  }

  private child(kind: string, make: () => { inc(n?: number): void }, ...labels: string[]) {
    const key = `${kind}\0${labels.join('\0')}`;
    let c = this.cache.get(key);
    if (c === undefined) {
      c = make();
      this.cache.set(key, c);
    }
    return c;
  }

  record(record: ConnectionRecord): void {
    const outcome = outcomeOf(record);
    const endpoint = record.endpoint;
    this.child('c', () => this.connections.labels(endpoint, outcome), endpoint, outcome).inc();
    if (record.bytesFromClient > 0) {
      this.child('b', () => this.bytes.labels(endpoint, 'from_client'), endpoint, 'in').inc(
        record.bytesFromClient,
      );
    }
    if (record.bytesFromUpstream > 0) {
      this.child('b', () => this.bytes.labels(endpoint, 'from_upstream'), endpoint, 'out').inc(
        record.bytesFromUpstream,
      );
    }
    if (record.error !== undefined) {
      const code = record.error.code;
      this.child('e', () => this.errors.labels(code), code).inc();
    }
    if (record.lookupMs !== undefined) {
      let child = this.lookupChildren.get(endpoint);
      if (child === undefined) {
        child = this.lookupSeconds.labels(endpoint);
        this.lookupChildren.set(endpoint, child);
      }
      child.observe(record.lookupMs / 1000);
    }
    if (record.dryRun === true) {
      const verdict = record.decision?.action ?? 'deny';
      this.child('d', () => this.dryRunVerdicts.labels(endpoint, verdict), endpoint, verdict).inc();
    }
  }
}
