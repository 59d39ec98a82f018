// The watcher's Prometheus metrics, on a registry of its own (see @podgate/runtime's
// metrics helpers): several watchers (tests, `podgate dev`) can live in one process.
import {
  type Counter,
  createCounter,
  createGauge,
  createHistogram,
  createRegistry,
  type Gauge,
  type Histogram,
  type Registry,
} from '@podgate/runtime';

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

export function createMetrics(registry: Registry = createRegistry()): WatcherMetrics {
  return {
    registry,
    events: createCounter(
      registry,
      'podgate_watcher_events_total',
      'Pod events received, by type (listing, added, modified, deleted, bookmark).',
      ['type'],
    ),
    storeWrites: createCounter(
      registry,
      'podgate_watcher_store_writes_total',
      'Store operations that succeeded, by operation.',
      ['op'],
    ),
    storeErrors: createCounter(
      registry,
      'podgate_watcher_store_errors_total',
      'Store operations that failed, by operation.',
      ['op'],
    ),
    eventToStore: createHistogram(
      registry,
      'podgate_watcher_event_to_store_seconds',
      'Time from receiving a pod event to its write completing in the store.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
    ),
    watchRestarts: createCounter(
      registry,
      'podgate_watcher_watch_restarts_total',
      'Watch restarts, by reason (error, idle, closed, gone).',
      ['reason'],
    ),
    relists: createCounter(
      registry,
      'podgate_watcher_relists_total',
      'Complete listings taken (the first one included).',
    ),
    podsTracked: createGauge(registry, 'podgate_watcher_pods_tracked', 'Pods in the watcher in-memory view.'),
    lastSync: createGauge(
      registry,
      'podgate_watcher_last_sync_timestamp_seconds',
      'When the store was last reconciled with a complete listing (Unix seconds).',
    ),
    lastHeartbeat: createGauge(
      registry,
      'podgate_watcher_last_heartbeat_timestamp_seconds',
      'When the cluster heartbeat was last written (Unix seconds).',
    ),
    leader: createGauge(
      registry,
      'podgate_watcher_leader',
      '1 while this replica holds the leader lease (or runs without election), else 0.',
    ),
  };
}
