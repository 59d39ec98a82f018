// The periodic resync: a full reconcile from the in-memory view every interval, which
// repairs what the store lost without a failed command being seen (a Redis restarted
// empty, a FLUSHALL). 0 = never.
import type { Clock, Logger } from '@podgate/runtime';
import type { StoreWriter } from './store-writer.js';

export interface ResyncDeps {
  intervalMs: number;
  writer: Pick<StoreWriter, 'initialSyncDone' | 'reconcilePending' | 'requestReconcile'>;
  clock: Clock;
  logger: Logger;
  /** Ends the loop. */
  signal: AbortSignal;
}

export async function runResyncLoop(deps: ResyncDeps): Promise<void> {
  const { intervalMs, writer, clock, logger, signal } = deps;
  if (intervalMs <= 0) return;
  while (!signal.aborted) {
    await clock.sleep(intervalMs, signal);
    if (!signal.aborted && writer.initialSyncDone && !writer.reconcilePending) {
      logger.debug('periodic resync from the in-memory view');
      writer.requestReconcile(clock.now());
    }
  }
}
