// Runs a started service until it is asked to stop, then drains it within a deadline:
// the handle's stop() stops accepting and finishes what is in flight; if it has not
// finished by the deadline (or a second stop signal arrives), forceStop() ends the rest.
// Returns the process exit status, so the entry point stays the only place that exits.
import { errorMessage } from '@podgate/errors';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { onSignals, type SignalSource, STOP_SIGNALS } from './signals.js';

export interface ServiceHandle {
  /** Stop accepting work, finish what is in flight, release resources. */
  stop(): Promise<void>;
  /** Called when stop() overran its deadline: end what is left now (open sockets, writes). */
  forceStop?(): Promise<void> | void;
}

export interface ServeOptions {
  /** Resolves (with the signal's name, say) when the service should stop. */
  stopRequested: Promise<unknown>;
  /** Stop signals arriving while draining force the stop at once. */
  signals?: SignalSource;
  /** How long stop() may take. */
  drainTimeoutMs: number;
  logger: Logger;
}

/** How long forceStop() may take before the process is left to exit anyway. */
const FORCE_GRACE_MS = 1_000;

export async function serveUntilStopped(handle: ServiceHandle, options: ServeOptions): Promise<ExitCode> {
  const { logger, drainTimeoutMs } = options;
  const signal = await options.stopRequested;
  logger.info({ signal: String(signal) }, 'stopping');

  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};
  const overrun = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the drain deadline (${drainTimeoutMs} ms) passed`), drainTimeoutMs);
    if (options.signals) {
      unsubscribe = onSignals(options.signals, STOP_SIGNALS, (again) =>
        resolve(`${again} arrived while draining`),
      );
    }
  });
  const stopping = handle.stop().then(
    () => ({ stopped: true as const }),
    (error: unknown) => ({ stopped: false as const, error }),
  );
  const outcome = await Promise.race([stopping, overrun]);
  clearTimeout(timer);
  unsubscribe();

  if (typeof outcome !== 'string') {
    if (outcome.stopped) return EXIT.ok;
    logger.error({ err: errorMessage(outcome.error) }, 'stop failed');
    return EXIT.invalid;
  }
  logger.error({ why: outcome, drainTimeoutMs }, 'forcing the stop: what is still in flight is cut off');
  await Promise.race([
    Promise.resolve(handle.forceStop?.()).catch((error: unknown) => {
      logger.error({ err: errorMessage(error) }, 'forced stop failed');
    }),
    new Promise<void>((resolve) => setTimeout(resolve, FORCE_GRACE_MS).unref()),
  ]);
  return EXIT.forced;
}
