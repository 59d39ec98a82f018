// Process signals as a dependency: `process` is the real source; `manualSignals()` is one a
// test (or an in-process host such as `podgate dev`) raises by hand.
import { Listeners } from '../listeners.js';

export type SignalListener = (signal: NodeJS.Signals) => void;

/** What `process` offers for signals; any EventEmitter-like object will do. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: SignalListener): unknown;
  off(signal: NodeJS.Signals, listener: SignalListener): unknown;
}

/** The signals that ask a service to stop (Kubernetes sends SIGTERM, a terminal SIGINT). */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Calls `listener` on each of `signals` until the returned function is called. */
export function onSignals(
  source: SignalSource,
  signals: readonly NodeJS.Signals[],
  listener: SignalListener,
): () => void {
  for (const signal of signals) source.on(signal, listener);
  return () => {
    for (const signal of signals) source.off(signal, listener);
  };
}

/** Resolves with the first of `signals` to arrive, then stops listening. */
export function nextSignal(
  source: SignalSource,
  signals: readonly NodeJS.Signals[] = STOP_SIGNALS,
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const off = onSignals(source, signals, (signal) => {
      off();
      resolve(signal);
    });
  });
}

export interface ManualSignals extends SignalSource {
  /** Delivers `signal` to its listeners, as the operating system would. */
  raise(signal: NodeJS.Signals): void;
  listenerCount(signal: NodeJS.Signals): number;
}

export function manualSignals(): ManualSignals {
  const listeners = new Listeners<NodeJS.Signals, [NodeJS.Signals]>();
  return {
    on: (signal, listener) => listeners.add(signal, listener),
    off: (signal, listener) => listeners.remove(signal, listener),
    raise: (signal) => listeners.emit(signal, signal),
    listenerCount: (signal) => listeners.count(signal),
  };
}
