// Runs the watcher only while this replica holds the Lease. Losing it (no successful
// renewal within renewDeadline, shorter than the lease duration, so we stop before
// anyone may take over) stops the watcher without waiting for pending writes; the next
// leader starts with a complete listing and a full reconcile anyway. Each term carries a
// writer epoch (the Lease's leaseTransitions + 1) that the watcher fences the store with
// before its first write, so writes of an earlier term that land late are refused
// (ADR 0003); a watcher refused that way was deposed, and this replica steps down.

import { errorMessage } from '@podgate/errors';
import type { Clock, Logger } from '@podgate/runtime';
import type { WatcherMetrics } from '../metrics.js';
import type { RunningWatcher } from '../watcher.js';
import { type ElectorOptions, LeaseElector } from './elector.js';
import type { LeaseApi } from './lease-api.js';

export interface LeaderOptions extends ElectorOptions {
  renewIntervalMs: number;
  /** Must be shorter than leaseDurationMs: the margin is when nobody writes. */
  renewDeadlineMs: number;
}

/** What a watcher started for one term needs from the election. */
export interface LeaderTerm {
  /** Fence the store with this before the first write. */
  epoch: number;
  /** The store refused this term's writes (`storeEpoch`: the epoch it holds, when known). */
  deposed(storeEpoch?: number): void;
}

export interface LeaderRunner {
  readonly leading: boolean;
  readiness(): { ready: boolean; detail: Record<string, unknown> };
  /** The current watcher while leading. */
  watcher(): RunningWatcher | null;
  stop(): Promise<void>;
}

export function runWithLeaderElection(
  options: LeaderOptions,
  deps: { api: LeaseApi; clock: Clock; logger: Logger; metrics: WatcherMetrics },
  startWatcher: (term: LeaderTerm) => RunningWatcher,
): LeaderRunner {
  if (options.renewDeadlineMs >= options.leaseDurationMs) {
    throw new Error('renewDeadlineMs must be shorter than leaseDurationMs');
  }
  const { clock, logger, metrics } = deps;
  const elector = new LeaseElector(deps.api, clock, options);
  const stopping = new AbortController();
  let watcher: RunningWatcher | null = null;
  let lastRenewAt = 0;
  let lastAttemptOk = false;
  let lastError: string | null = null;
  metrics.leader.set(0);

  const lose = async (why: string, storeEpoch?: number) => {
    logger.warn({ identity: options.identity, why }, 'lost the leader lease; stopping the watcher');
    const running = watcher;
    watcher = null;
    elector.stepDown(storeEpoch);
    metrics.leader.set(0);
    // No flush: the next leader lists and reconciles everything anyway.
    await running?.stop({ flushTimeoutMs: 0 });
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      let held = false;
      try {
        // Bounded: a hung API server must not keep us from checking the renew deadline.
        const timeout = AbortSignal.timeout(Math.max(50, Math.min(5_000, options.renewDeadlineMs / 2)));
        held = await elector.tryAcquireOrRenew(timeout);
        lastAttemptOk = true;
        lastError = null;
      } catch (error) {
        lastAttemptOk = false;
        lastError = errorMessage(error);
        logger.debug({ err: lastError }, 'lease round failed');
      }
      if (stopping.signal.aborted) break;
      const now = clock.now();
      if (held) {
        lastRenewAt = now;
        if (watcher === null) {
          const epoch = elector.epoch;
          logger.info(
            { identity: options.identity, lease: `${options.namespace}/${options.name}`, epoch },
            'became leader',
          );
          metrics.leader.set(1);
          let term: RunningWatcher | null = null;
          term = startWatcher({
            epoch,
            deposed: (storeEpoch) => {
              // Only the current term's watcher can depose us; an old one's news is old.
              if (watcher === term && term !== null) {
                void lose(`deposed: the store is fenced above our epoch ${epoch}`, storeEpoch);
              }
            },
          });
          watcher = term;
        }
      } else if (watcher !== null && (lastAttemptOk || now - lastRenewAt > options.renewDeadlineMs)) {
        // Someone else holds it (we were too slow), or we could not renew in time.
        await lose(
          lastAttemptOk ? 'another replica holds the lease' : `no renewal for ${now - lastRenewAt} ms`,
        );
      }
      await clock.sleep(options.renewIntervalMs, stopping.signal);
    }
  })();

  return {
    get leading() {
      return watcher !== null;
    },
    watcher: () => watcher,
    readiness() {
      if (watcher !== null) {
        const status = watcher.status();
        return { ready: status.synced && status.heartbeating, detail: { role: 'leader', watcher: status } };
      }
      // A standby that can reach the Lease is ready to take over; rollouts must not stall on it.
      return { ready: lastAttemptOk, detail: { role: 'standby', leaseError: lastError } };
    },
    async stop() {
      stopping.abort();
      await loop;
      if (watcher !== null) {
        const running = watcher;
        watcher = null;
        await running.stop();
        metrics.leader.set(0);
        await elector.release().catch((error) => {
          logger.warn({ err: errorMessage(error) }, 'could not release the leader lease');
        });
      }
    },
  };
}
