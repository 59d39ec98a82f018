// The cluster heartbeat: written every interval while the watcher is healthy, and at once
// after each reconcile. Readers trust a cluster's claims only while its heartbeat is
// younger than its TTL, so stopping it is how an unhealthy watcher makes its cluster
// stale (fail closed) instead of serving claims it can no longer vouch for.

import { errorMessage } from '@podgate/errors';
import { type IdentityWriter, isDataLost } from '@podgate/identity';
import type { Clock, Logger } from '@podgate/runtime';
import { isFenced } from '../errors.js';
import type { WatcherMetrics } from '../metrics.js';

export interface HeartbeatDeps {
  writes: IdentityWriter;
  cluster: string;
  intervalMs: number;
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
  /** Aborted when the watcher stops: no heartbeat after it. */
  signal: AbortSignal;
  /** Synced, store writes succeeding, source within its grace, not deposed. */
  healthy: () => boolean;
  /** Why not healthy, for the log line when the heartbeat stops. */
  describeHealth: () => Record<string, unknown>;
  /** A heartbeat was written. */
  onBeat: () => void;
  /** The store refused the heartbeat as fenced: a newer writer took over. */
  onFenced: (error: unknown) => void;
  /** The heartbeat failed otherwise: the store may be behind. */
  onStoreFailure: () => void;
}

export class Heartbeat {
  private lastAt: number | null = null;
  private on = false;
  private beating: Promise<void> | null = null;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly deps: HeartbeatDeps) {}

  /** Starts the interval loop (until the signal aborts). */
  start(): void {
    const { clock, intervalMs, signal } = this.deps;
    this.loop = (async () => {
      while (!signal.aborted) {
        await clock.sleep(intervalMs, signal);
        if (!signal.aborted) await this.beat();
      }
    })();
  }

  /** One heartbeat at a time; a request while one runs is served by that one. */
  beat(): Promise<void> {
    this.beating ??= this.beatOnce().finally(() => {
      this.beating = null;
    });
    return this.beating;
  }

  get lastHeartbeatAt(): number | null {
    return this.lastAt;
  }

  /** The last heartbeat succeeded and is younger than its TTL. */
  isHeartbeating(): boolean {
    return this.on && this.lastAt !== null && this.deps.clock.now() - this.lastAt < this.deps.ttlMs;
  }

  /** After the signal aborted: waits for the loop and a heartbeat in flight. */
  async stop(): Promise<void> {
    await this.loop;
    await this.beating;
    this.on = false;
  }

  private async beatOnce(): Promise<void> {
    const { cluster, clock, logger, metrics, ttlMs } = this.deps;
    if (this.deps.signal.aborted) return;
    if (!this.deps.healthy()) {
      if (this.on) {
        this.on = false;
        logger.warn(
          this.deps.describeHealth(),
          'heartbeat stopped: readers will treat this cluster as stale once the last one expires',
        );
      }
      return;
    }
    try {
      await this.deps.writes.heartbeat(cluster, ttlMs);
      this.lastAt = clock.now();
      metrics.lastHeartbeat.set(this.lastAt / 1000);
      if (!this.on) logger.info({ cluster, ttlMs }, 'heartbeat started');
      this.on = true;
      this.deps.onBeat();
    } catch (error) {
      metrics.storeErrors.inc({ op: 'heartbeat' });
      if (isFenced(error)) return this.deps.onFenced(error);
      // The store lost the data this heartbeat would vouch for (a Redis restarted empty since
      // the last one, its client reconnected, so no write of ours failed): not refreshed, the
      // cluster goes stale, and onStoreFailure's reconcile rewrites it before the next beat.
      if (isDataLost(error)) {
        logger.warn(
          { cluster, err: errorMessage(error) },
          'heartbeat refused: the store lost this cluster’s data; rewriting it from the view',
        );
      } else if (this.on) logger.warn({ err: errorMessage(error) }, 'heartbeat failed');
      this.on = false;
      this.deps.onStoreFailure();
    }
  }
}
