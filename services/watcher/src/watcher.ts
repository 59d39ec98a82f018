// startWatcher: one writer's run of the sync loop. It wires a pod source to the view
// (sync/view-sink.ts), the store writer, the heartbeat (sync/heartbeat.ts), the periodic
// resync (sync/resync.ts) and, for an elected term, the fence (sync/fencing.ts). The
// service (service.ts) runs one, or one per leader term; `podgate dev` runs one in-process.
import { errorMessage } from '@podgate/errors';
import type { IdentityWriter } from '@podgate/identity';
import { type BackoffPolicy, type Clock, DEFAULT_BACKOFF, type Logger, systemClock } from '@podgate/runtime';
import { createMetrics, type WatcherMetrics } from './metrics.js';
import type { PodSource, SourceHealth } from './sources/types.js';
import { fenceStore, SwitchableWriter } from './sync/fencing.js';
import { Heartbeat } from './sync/heartbeat.js';
import { PodView } from './sync/pod-view.js';
import { runResyncLoop } from './sync/resync.js';
import { StoreWriter } from './sync/store-writer.js';
import { createViewSink } from './sync/view-sink.js';

export interface StartWatcherConfig {
  cluster: string;
  heartbeatIntervalMs: number;
  heartbeatTtlMs: number;
  /** How long the source may fail before the heartbeat stops (readers then see a stale cluster). */
  apiGraceMs: number;
  storeBackoff?: BackoffPolicy;
  /** How long stop() waits for pending writes. */
  flushTimeoutMs?: number;
  /**
   * Reconcile the store from the in-memory view this often (0 = never): repairs what the
   * store lost without a failed command being seen (a Redis restarted empty, a FLUSHALL).
   */
  resyncIntervalMs?: number;
  /**
   * Leader election's term (ADR 0003): fence the store at this epoch before the first
   * write, so that no write of an earlier term is accepted after ours. Absent: never fence
   * (one unelected replica); once the cluster has been fenced, its writes are refused.
   */
  writerEpoch?: number;
}

export interface WatcherDeps {
  store: IdentityWriter;
  source: PodSource;
  logger: Logger;
  clock?: Clock;
  metrics?: WatcherMetrics;
  /**
   * The store refused a write: a writer of a newer epoch took over (or, unfenced, the
   * cluster is fenced). The watcher has stopped writing; leader election steps down.
   */
  onDeposed?: (storeEpoch?: number) => void;
}

export interface WatcherStatus {
  cluster: string;
  /** A complete listing has been written to the store. */
  synced: boolean;
  /** Synced, store reachable, source reachable (or failing for less than the grace). */
  healthy: boolean;
  /** The last heartbeat succeeded and is younger than its TTL. */
  heartbeating: boolean;
  lastHeartbeatAt: number | null;
  lastSyncAt: number | null;
  podsTracked: number;
  storeFailing: boolean;
  /** The store refused our writes: another writer took over; this watcher writes no more. */
  deposed: boolean;
  pendingWrites: number;
  source: SourceHealth & { kind: PodSource['kind'] };
}

export interface RunningWatcher {
  /** Resolves after the first complete sync reached the store and the first heartbeat. */
  ready: Promise<void>;
  /** Stops the source, flushes pending writes (within `flushTimeoutMs`), stops the heartbeat. */
  stop(options?: { flushTimeoutMs?: number }): Promise<void>;
  status(): WatcherStatus;
  metrics: WatcherMetrics;
}

export function startWatcher(config: StartWatcherConfig, deps: WatcherDeps): RunningWatcher {
  const { store, source, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const backoff = config.storeBackoff ?? DEFAULT_BACKOFF;
  const { cluster } = config;
  const view = new PodView();
  const stopping = new AbortController();
  let stopPromise: Promise<void> | null = null;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  let closing = false;
  let deposed = false;
  /** Our writes: to the store, then to the fenced writer once we fenced it. */
  const writes = new SwitchableWriter(store);

  const writer = new StoreWriter({
    store: writes,
    cluster,
    snapshot: () => ({ records: view.records(), listingVersion: viewSink.listingVersion() }),
    clock,
    logger,
    metrics,
    backoff,
    onReconciled: () => void heartbeat.beat(),
    onFenced: (error) => depose(errorMessage(error)),
  });
  const viewSink = createViewSink({ view, writer, sourceKind: source.kind, clock, logger, metrics });

  const sourceHealthy = () => {
    const failingSince = source.health().failingSince;
    return failingSince === null || clock.now() - failingSince < config.apiGraceMs;
  };
  const healthy = () => !deposed && writer.initialSyncDone && !writer.failing && sourceHealthy();

  const heartbeat = new Heartbeat({
    writes,
    cluster,
    intervalMs: config.heartbeatIntervalMs,
    ttlMs: config.heartbeatTtlMs,
    clock,
    logger,
    metrics,
    signal: stopping.signal,
    healthy,
    describeHealth: () => {
      const s = source.health();
      return { storeFailing: writer.failing, sourceError: s.lastError, sourceFailingSince: s.failingSince };
    },
    onBeat: () => resolveReady(),
    onFenced: (error) => depose(errorMessage(error)),
    onStoreFailure: () => writer.noteStoreFailure(),
  });

  /** Another writer took over: stop writing at once (no flush) and say so. */
  function depose(why: string, storeEpoch?: number): void {
    if (deposed) return;
    deposed = true;
    logger.error(
      { cluster, epoch: config.writerEpoch ?? 0, storeEpoch, why },
      config.writerEpoch === undefined
        ? 'store refused our writes: the cluster is fenced by leader-elected watchers; run this one with --leader-elect too (ADR 0003)'
        : 'deposed: a newer leader fenced the store; this watcher stops writing',
    );
    void stopWatcher(0);
    deps.onDeposed?.(storeEpoch);
  }

  /** Fences the store at our epoch when elected, then starts the source. */
  const start = async () => {
    const epoch = config.writerEpoch;
    if (epoch !== undefined) {
      const fenced = await fenceStore({
        store,
        cluster,
        epoch,
        backoff,
        clock,
        logger,
        metrics,
        signal: stopping.signal,
        closing: () => closing,
      });
      if (fenced.kind === 'closed') return;
      if (fenced.kind === 'refused')
        return depose(`the store is fenced at epoch ${fenced.epoch}`, fenced.epoch);
      writes.target = fenced.writer;
    }
    if (!closing) source.start(viewSink.sink);
  };

  heartbeat.start();
  const resync = runResyncLoop({
    intervalMs: config.resyncIntervalMs ?? 0,
    writer,
    clock,
    logger,
    signal: stopping.signal,
  });
  metrics.leader.set(1);
  logger.info({ cluster, source: source.kind, epoch: config.writerEpoch }, 'watcher starting');
  void start();

  return {
    ready,
    metrics,
    status: () => ({
      cluster,
      synced: writer.initialSyncDone,
      healthy: healthy(),
      heartbeating: heartbeat.isHeartbeating(),
      lastHeartbeatAt: heartbeat.lastHeartbeatAt,
      lastSyncAt: writer.lastReconcile,
      podsTracked: view.size,
      storeFailing: writer.failing,
      deposed,
      pendingWrites: writer.backlog,
      source: { kind: source.kind, ...source.health() },
    }),
    stop: (options) => stopWatcher(options?.flushTimeoutMs ?? config.flushTimeoutMs ?? 5_000),
  };

  function stopWatcher(flushTimeoutMs: number): Promise<void> {
    stopPromise ??= shutdown(flushTimeoutMs);
    return stopPromise;
  }

  async function shutdown(flushTimeoutMs: number): Promise<void> {
    closing = true;
    // Order: no new events, then what is pending reaches the store, then no heartbeat.
    await source.stop();
    const flushed = await writer.stop(flushTimeoutMs);
    stopping.abort();
    await heartbeat.stop();
    await resync;
    metrics.leader.set(0);
    logger.info({ flushed, pending: writer.backlog }, 'watcher stopped');
  }
}
