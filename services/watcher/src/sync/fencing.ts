// Fencing (ADR 0003): before its first write, an elected watcher raises the cluster's
// writer epoch in the store to its Lease term; from then on the store refuses writes of
// earlier terms. Retried with backoff while the store fails; the watcher's writes go
// through a SwitchableWriter that starts on the store and moves to the fenced writer.

import { errorMessage } from '@podgate/errors';
import type { IdentityWriter } from '@podgate/identity';
import { type BackoffPolicy, backoffDelay, type Clock, type Logger } from '@podgate/runtime';
import type { WatcherMetrics } from '../metrics.js';

export type FenceOutcome =
  | { kind: 'fenced'; writer: IdentityWriter }
  /** The store holds a newer epoch: another writer took over. */
  | { kind: 'refused'; epoch: number }
  /** The watcher began stopping before the fence succeeded. */
  | { kind: 'closed' };

export interface FenceDeps {
  store: IdentityWriter;
  cluster: string;
  epoch: number;
  backoff: BackoffPolicy;
  clock: Clock;
  logger: Logger;
  metrics: WatcherMetrics;
  /** Cuts a retry wait short. */
  signal: AbortSignal;
  /** The watcher is stopping: give up. */
  closing: () => boolean;
}

export async function fenceStore(deps: FenceDeps): Promise<FenceOutcome> {
  const { store, cluster, epoch, clock, logger, metrics } = deps;
  for (let attempt = 1; ; attempt++) {
    try {
      const fenced = await store.fence(cluster, epoch);
      if (deps.closing()) return { kind: 'closed' };
      if (!fenced.ok) return { kind: 'refused', epoch: fenced.epoch };
      logger.info({ cluster, epoch }, 'fenced the store: writes of earlier writer epochs are refused');
      return { kind: 'fenced', writer: fenced.writer };
    } catch (error) {
      metrics.storeErrors.inc({ op: 'fence' });
      const delay = backoffDelay(attempt, deps.backoff, clock.random);
      logger.warn({ err: errorMessage(error), retryInMs: delay }, 'could not fence the store');
      await clock.sleep(delay, deps.signal);
      if (deps.closing()) return { kind: 'closed' };
    }
  }
}

/** An IdentityWriter whose writes go to `target`, which can be replaced (by the fenced writer). */
export class SwitchableWriter implements IdentityWriter {
  constructor(public target: IdentityWriter) {}
  claim: IdentityWriter['claim'] = (c, r) => this.target.claim(c, r);
  release: IdentityWriter['release'] = (c, uid, rv) => this.target.release(c, uid, rv);
  reconcile: IdentityWriter['reconcile'] = (c, records, options) =>
    this.target.reconcile(c, records, options);
  heartbeat: IdentityWriter['heartbeat'] = (c, ttl) => this.target.heartbeat(c, ttl);
  fence: IdentityWriter['fence'] = (c, epoch) => this.target.fence(c, epoch);
}
