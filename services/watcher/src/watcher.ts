// startWatcher: wires a pod source to the view, the store writer and the heartbeat.
// Used by `podgate watcher` (Kubernetes API or pods file, Redis) and in-process by
// `podgate dev` (pods file, memory store).
import type { IdentityWriter, PodRecord } from '@podgate/identity';
import type { Logger } from 'pino';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { type Clock, systemClock } from './clock.js';
import { errorMessage, isFenced } from './errors.js';
import { createMetrics, type WatcherMetrics } from './metrics.js';
import type { PodSink, PodSource, SourceHealth } from './sources/types.js';
import { PodView } from './sync/pod-view.js';
import { AFTER_EVERY_REVISION, newest } from './sync/resource-version.js';
import { StoreWriter } from './sync/store-writer.js';

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
  const { cluster } = config;
  const view = new PodView();
  /** The version the view is complete up to: the listing's, then each event's. */
  let viewVersion: string | undefined;
  const stopping = new AbortController();
  let stopped = false;
  let lastHeartbeatAt: number | null = null;
  let heartbeating = false;
  let beating: Promise<void> | null = null;
  let stopPromise: Promise<void> | null = null;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });

  let closing = false;
  let deposed = false;
  /** Our writes go through `target`: the store, or the fenced writer once we fenced it. */
  let target: IdentityWriter = store;
  const writes: IdentityWriter = {
    claim: (c, r) => target.claim(c, r),
    release: (c, uid, rv) => target.release(c, uid, rv),
    reconcile: (c, records, options) => target.reconcile(c, records, options),
    heartbeat: (c, ttl) => target.heartbeat(c, ttl),
    fence: (c, epoch) => target.fence(c, epoch),
  };

  const writer = new StoreWriter({
    store: writes,
    cluster,
    snapshot: () => ({ records: view.records(), listingVersion: listingVersion() }),
    clock,
    logger,
    metrics,
    backoff: config.storeBackoff ?? DEFAULT_BACKOFF,
    onReconciled: () => void beat(),
    onFenced: (error) => depose(errorMessage(error)),
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

  /**
   * The reconcile's bound. From the API: the version the view is complete up to. A pods
   * file has none, but once read it is the whole truth and no event ever follows it, so
   * every unlisted entry is stale: a version after every etcd revision says so. Passing
   * nothing would bound by the newest pod in the file, and a pod that was newer than all
   * that remain, removed from the file while no watcher ran, would keep its claim.
   */
  const listingVersion = () => viewVersion ?? (source.kind === 'file' ? AFTER_EVERY_REVISION : undefined);

  const sourceHealthy = () => {
    const failingSince = source.health().failingSince;
    return failingSince === null || clock.now() - failingSince < config.apiGraceMs;
  };
  const healthy = () => !deposed && writer.initialSyncDone && !writer.failing && sourceHealthy();
  const isHeartbeating = () =>
    heartbeating && lastHeartbeatAt !== null && clock.now() - lastHeartbeatAt < config.heartbeatTtlMs;

  const beatOnce = async () => {
    if (stopped) return;
    if (!healthy()) {
      if (heartbeating) {
        heartbeating = false;
        const s = source.health();
        logger.warn(
          { storeFailing: writer.failing, sourceError: s.lastError, sourceFailingSince: s.failingSince },
          'heartbeat stopped: readers will treat this cluster as stale once the last one expires',
        );
      }
      return;
    }
    try {
      await writes.heartbeat(cluster, config.heartbeatTtlMs);
      lastHeartbeatAt = clock.now();
      metrics.lastHeartbeat.set(lastHeartbeatAt / 1000);
      if (!heartbeating) logger.info({ cluster, ttlMs: config.heartbeatTtlMs }, 'heartbeat started');
      heartbeating = true;
      resolveReady();
    } catch (error) {
      metrics.storeErrors.inc({ op: 'heartbeat' });
      if (isFenced(error)) return depose(errorMessage(error));
      if (heartbeating) logger.warn({ err: errorMessage(error) }, 'heartbeat failed');
      heartbeating = false;
      writer.noteStoreFailure();
    }
  };
  // One heartbeat at a time; a request while one runs is served by that one.
  const beat = () => {
    beating ??= beatOnce().finally(() => {
      beating = null;
    });
    return beating;
  };

  const heartbeatLoop = (async () => {
    while (!stopping.signal.aborted) {
      await clock.sleep(config.heartbeatIntervalMs, stopping.signal);
      if (!stopping.signal.aborted) await beat();
    }
  })();

  const resyncLoop = (async () => {
    const interval = config.resyncIntervalMs ?? 0;
    if (interval <= 0) return;
    while (!stopping.signal.aborted) {
      await clock.sleep(interval, stopping.signal);
      if (!stopping.signal.aborted && writer.initialSyncDone && !writer.reconcilePending) {
        logger.debug('periodic resync from the in-memory view');
        writer.requestReconcile(clock.now());
      }
    }
  })();

  const advance = (version: string) => {
    if (viewVersion !== undefined) viewVersion = newest(viewVersion, version);
  };
  const track = () => metrics.podsTracked.set(view.size);
  const sink: PodSink = {
    listing(records: PodRecord[], resourceVersion?: string) {
      const now = clock.now();
      const vanished = view.replaceAll(records, resourceVersion);
      viewVersion = resourceVersion;
      track();
      writer.requestReconcile(now);
      if (vanished.length > 0) writer.enqueue(vanished, now);
    },
    upsert(record: PodRecord) {
      const { outcome, ops } = view.upsert(record);
      advance(record.resourceVersion);
      if (outcome === 'replaced') {
        logger.info(
          { namespace: record.namespace, name: record.name, uid: record.uid },
          'pod recreated under the same name',
        );
      }
      track();
      if (ops.length > 0) writer.enqueue(ops, clock.now());
    },
    remove(record: PodRecord) {
      const ops = view.remove(record);
      advance(record.resourceVersion);
      track();
      writer.enqueue(ops, clock.now());
    },
  };

  /** Fences the store at our epoch (retrying while the store fails), then starts the source. */
  const start = async () => {
    const epoch = config.writerEpoch;
    for (let attempt = 1; epoch !== undefined; attempt++) {
      try {
        const fenced = await store.fence(cluster, epoch);
        if (closing) return;
        if (!fenced.ok) return depose(`the store is fenced at epoch ${fenced.epoch}`, fenced.epoch);
        target = fenced.writer;
        logger.info({ cluster, epoch }, 'fenced the store: writes of earlier writer epochs are refused');
        break;
      } catch (error) {
        metrics.storeErrors.inc({ op: 'fence' });
        const delay = backoffDelay(attempt, config.storeBackoff ?? DEFAULT_BACKOFF, clock.random);
        logger.warn({ err: errorMessage(error), retryInMs: delay }, 'could not fence the store');
        await clock.sleep(delay, stopping.signal);
        if (closing) return;
      }
    }
    if (!closing) source.start(sink);
  };

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
      heartbeating: isHeartbeating(),
      lastHeartbeatAt,
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
    stopped = true;
    stopping.abort();
    await heartbeatLoop;
    await resyncLoop;
    await beating;
    heartbeating = false;
    metrics.leader.set(0);
    logger.info({ flushed, pending: writer.backlog }, 'watcher stopped');
  }
}
