// Applies the view's store operations, in order per pod, and survives a failing store.
// Pending work is coalesced per UID (the newest operation for a pod wins) and drained in
// batches by one loop, so one pod's writes can never overtake each other. When a write
// fails, the writer keeps nothing but the fact that the store may be behind: its next
// successful step is a full reconcile from the in-memory view, which converges the store
// whatever it lost (a Redis restart included) and whatever was pending.

import { errorMessage } from '@podgate/errors';
import type { IdentityWriter, PodRecord } from '@podgate/identity';
import type { Clock, Logger } from '@podgate/runtime';
import { type BackoffPolicy, backoffDelay } from '@podgate/runtime';
import { isFenced } from '../errors.js';
import type { WatcherMetrics } from '../metrics.js';
import type { StoreOp } from './pod-view.js';

/** The desired state of the whole cluster, and the version it is complete up to. */
export interface ViewSnapshot {
  records: PodRecord[];
  /** Passed to the store's reconcile: entries newer than it are kept (events after it wrote them). */
  listingVersion?: string;
}

export interface StoreWriterDeps {
  store: IdentityWriter;
  cluster: string;
  /** The view's current records and version. */
  snapshot: () => ViewSnapshot;
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
  backoff: BackoffPolicy;
  /**
   * Per-pod writes in flight at once (ioredis pipelines them onto one connection).
   * Default 64: below the 100 live objects per allocation site at which V8 starts
   * allocating a site's objects in the old generation (see the Redis store's reconcile).
   */
  concurrency?: number;
  /** Called after each successful reconcile (the heartbeat follows at once). */
  onReconciled?: () => void;
  /** The store refused a write as fenced (another writer took over): the writer has stopped. */
  onFenced?: (error: unknown) => void;
}

interface Pending {
  op: StoreOp;
  receivedAt: number;
}

export class StoreWriter {
  private pending = new Map<string, Pending>();
  /** Set when the store must be made equal to the view; the time of the oldest cause. */
  private reconcileSince: number | null = null;
  private draining: Promise<void> | null = null;
  private failures = 0;
  private synced = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private lastReconcileAt: number | null = null;

  constructor(private readonly deps: StoreWriterDeps) {}

  /** True once a complete listing has been written to the store. */
  get initialSyncDone(): boolean {
    return this.synced;
  }

  /** True while the last store operation failed (until one succeeds). */
  get failing(): boolean {
    return this.failures > 0;
  }

  get backlog(): number {
    return this.pending.size + (this.reconcileSince === null ? 0 : 1);
  }

  get reconcilePending(): boolean {
    return this.reconcileSince !== null;
  }

  get lastReconcile(): number | null {
    return this.lastReconcileAt;
  }

  enqueue(ops: readonly StoreOp[], receivedAt: number): void {
    if (this.stopped) return;
    for (const op of ops) {
      const uid = op.kind === 'claim' ? op.record.uid : op.uid;
      const earlier = this.pending.get(uid);
      this.pending.set(uid, { op, receivedAt: earlier?.receivedAt ?? receivedAt });
    }
    this.kick();
  }

  /** After a complete listing (or a store failure): make the store equal to the view. */
  requestReconcile(receivedAt: number): void {
    if (this.stopped) return;
    this.reconcileSince = Math.min(this.reconcileSince ?? receivedAt, receivedAt);
    this.kick();
  }

  /** Something else (the heartbeat) found the store failing: converge once it is back. */
  noteStoreFailure(): void {
    if (!this.synced) return;
    this.failures = Math.max(this.failures, 1);
    this.reconcileSince ??= this.deps.clock.now();
    this.kick();
  }

  /** Resolves when nothing is pending (or `deadlineMs` passed; then false). */
  async flush(deadlineMs: number): Promise<boolean> {
    const deadline = this.deps.clock.now() + deadlineMs;
    while (this.draining !== null) {
      const left = deadline - this.deps.clock.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.draining, new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    return this.backlog === 0;
  }

  /** Flushes what it can within `deadlineMs`, then stops retrying. */
  async stop(deadlineMs: number): Promise<boolean> {
    const flushed = await this.flush(deadlineMs);
    this.stopped = true;
    this.abort.abort();
    await this.draining;
    return flushed;
  }

  private kick(): void {
    if (this.draining !== null || this.stopped) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (!this.stopped && this.backlog > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const { clock, logger } = this.deps;
    while (!this.stopped && this.backlog > 0) {
      try {
        if (this.reconcileSince !== null) await this.reconcile();
        else await this.writeBatch();
        if (this.failures > 0) logger.info({ failures: this.failures }, 'store reachable again; converged');
        this.failures = 0;
      } catch (error) {
        if (isFenced(error)) {
          // Retrying cannot help, and nothing of ours may be written any more.
          this.stopped = true;
          this.abort.abort();
          this.deps.onFenced?.(error);
          return;
        }
        this.failures++;
        if (this.synced || this.reconcileSince !== null) this.reconcileSince ??= clock.now();
        const delay = backoffDelay(this.failures, this.deps.backoff, clock.random);
        const log = this.failures === 1 ? logger.warn.bind(logger) : logger.debug.bind(logger);
        log({ err: errorMessage(error), failures: this.failures, retryInMs: delay }, 'store write failed');
        await clock.sleep(delay, this.abort.signal);
      }
    }
  }

  private async reconcile(): Promise<void> {
    const { store, cluster, clock, metrics, logger } = this.deps;
    const since = this.reconcileSince!;
    // Pending claims are in the view, so the reconcile writes them. Pending releases stay
    // queued for after it: a reconcile removes a pod missing from the listing only when
    // its claim is not newer than the listing version, and it leaves no tombstone.
    const covered = new Map<string, Pending>();
    for (const [uid, p] of this.pending) if (p.op.kind === 'claim') covered.set(uid, p);
    for (const uid of covered.keys()) this.pending.delete(uid);
    this.reconcileSince = null;
    const { records, listingVersion } = this.deps.snapshot();
    const started = clock.now();
    try {
      const stats = await store.reconcile(
        cluster,
        records,
        listingVersion !== undefined ? { listingVersion } : {},
      );
      metrics.storeWrites.inc({ op: 'reconcile' });
      const done = clock.now();
      for (const p of covered.values()) metrics.eventToStore.observe((done - p.receivedAt) / 1000);
      this.lastReconcileAt = done;
      metrics.lastSync.set(done / 1000);
      logger.info(
        {
          records: records.length,
          claimed: stats.claimed,
          removed: stats.removed,
          listingVersion,
          ms: done - started,
          since,
        },
        'store reconciled with complete listing',
      );
      this.synced = true;
      this.deps.onReconciled?.();
    } catch (error) {
      metrics.storeErrors.inc({ op: 'reconcile' });
      // Keep what arrived meanwhile; a reconcile from the view covers the rest.
      this.reconcileSince = Math.min(this.reconcileSince ?? since, since);
      for (const [uid, p] of covered) if (!this.pending.has(uid)) this.pending.set(uid, p);
      throw error;
    }
  }

  private async writeBatch(): Promise<void> {
    const { store, cluster, clock, metrics } = this.deps;
    const batch = this.pending;
    this.pending = new Map();
    const limit = this.deps.concurrency ?? 64;
    const entries = [...batch.entries()];
    let firstError: unknown;
    for (let i = 0; i < entries.length; i += limit) {
      const slice = entries.slice(i, i + limit);
      const results = await Promise.allSettled(
        slice.map(([, p]) =>
          p.op.kind === 'claim'
            ? store.claim(cluster, p.op.record)
            : store.release(cluster, p.op.uid, p.op.resourceVersion),
        ),
      );
      const done = clock.now();
      results.forEach((result, j) => {
        const [uid, p] = slice[j]!;
        if (result.status === 'fulfilled') {
          metrics.storeWrites.inc({ op: p.op.kind });
          metrics.eventToStore.observe((done - p.receivedAt) / 1000);
        } else {
          metrics.storeErrors.inc({ op: p.op.kind });
          // A fenced refusal wins: it ends the writer, where others are retried.
          if (firstError === undefined || isFenced(result.reason)) firstError = result.reason;
          // A newer operation for this pod may have arrived meanwhile; it wins.
          if (!this.pending.has(uid)) this.pending.set(uid, p);
        }
      });
    }
    if (firstError !== undefined) throw firstError;
  }
}
