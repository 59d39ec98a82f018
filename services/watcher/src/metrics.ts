// Prometheus metrics on a registry of the watcher's own, so several watchers (tests,
// `podgate dev`) can live in one process without clashing on the global registry.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface WatcherMetrics {
  registry: Registry;
  events: Counter<'type'>;
  storeWrites: Counter<'op'>;
  storeErrors: Counter<'op'>;
  eventToStore: Histogram<string>;
  watchRestarts: Counter<'reason'>;
  relists: Counter<string>;
  podsTracked: Gauge<string>;
  lastSync: Gauge<string>;
  lastHeartbeat: Gauge<string>;
  leader: Gauge<string>;
}

export function createMetrics(): WatcherMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    events: new Counter({
      name: 'podgate_watcher_events_total',
      help: 'Pod events received, by type (listing, added, modified, deleted, bookmark).',
      labelNames: ['type'],
      registers,
    }),
    storeWrites: new Counter({
      name: 'podgate_watcher_store_writes_total',
      help: 'Store operations that succeeded, by operation.',
      labelNames: ['op'],
      registers,
    }),
    storeErrors: new Counter({
      name: 'podgate_watcher_store_errors_total',
      help: 'Store operations that failed, by operation.',
      labelNames: ['op'],
      registers,
    }),
    eventToStore: new Histogram({
      name: 'podgate_watcher_event_to_store_seconds',
      help: 'Time from receiving a pod event to its write completing in the store.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers,
    }),
    watchRestarts: new Counter({
      name: 'podgate_watcher_watch_restarts_total',
      help: 'Watch restarts, by reason (error, idle, closed, gone).',
      labelNames: ['reason'],
      registers,
    }),
    relists: new Counter({
      name: 'podgate_watcher_relists_total',
      help: 'Complete listings taken (the first one included).',
      registers,
    }),
    podsTracked: new Gauge({
      name: 'podgate_watcher_pods_tracked',
      help: 'Pods in the watcher in-memory view.',
      registers,
    }),
    lastSync: new Gauge({
      name: 'podgate_watcher_last_sync_timestamp_seconds',
      help: 'When the store was last reconciled with a complete listing (Unix seconds).',
      registers,
    }),
    lastHeartbeat: new Gauge({
      name: 'podgate_watcher_last_heartbeat_timestamp_seconds',
      help: 'When the cluster heartbeat was last written (Unix seconds).',
      registers,
    }),
    leader: new Gauge({
      name: 'podgate_watcher_leader',
      help: '1 while this replica holds the leader lease (or runs without election), else 0.',
      registers,
    }),
  };
}
