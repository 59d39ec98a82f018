// Configuration reload: on SIGHUP or a change of one of its files, load the whole
// configuration again; if it is good, swap it in at once (one reference: a reader sees the
// old configuration or the new one, never a mix); if it is bad, keep the last good one and
// say why, as a log line and a metric. Reloads run one at a time; triggers that arrive
// during one are served by a single reload after it.
import { errorMessage } from '@podgate/errors';
import type { Logger } from '../logger.js';
import { createCounter, createGauge, type Registry } from '../metrics.js';
import { onSignals, type SignalSource } from '../shutdown/signals.js';
import { type FileWatcher, pollingFileWatcher } from './file-watcher.js';

export type LoadOutcome<T> = { ok: true; value: T } | { ok: false; reason: string };

export type ReloadOutcome = { applied: true } | { applied: false; reason: string };

export interface ReloaderOptions<T> {
  /** The configuration loaded at start. */
  initial: T;
  /** Loads the whole configuration; a refusal (or a throw) keeps the current one. */
  load: () => Promise<LoadOutcome<T>>;
  /** Files whose change triggers a reload. */
  files?: readonly string[];
  /** Default: stat polling every 500 ms. */
  fileWatcher?: FileWatcher;
  /** SIGHUP on this source triggers a reload. */
  signals?: SignalSource;
  logger?: Logger;
  /** Gets podgate_config_reloads_total{result}, podgate_config_last_reload_successful. */
  registry?: Registry;
  /** After a good configuration was swapped in. */
  onApplied?: (value: T, previous: T) => void;
  /** After a reload was refused (the current configuration stays). */
  onRefused?: (reason: string) => void;
}

export interface ConfigReloader<T> {
  /** The configuration in force. */
  current(): T;
  /** Reloads now (`trigger` is logged); resolves when this trigger has been served. */
  reload(trigger?: string): Promise<ReloadOutcome>;
  /**
   * Stops watching files and signals; resolves once a reload that was running has finished.
   * Nothing is applied after stop() is called: a load still running is discarded, and a
   * service that awaits this cannot see its configuration swapped (or its listeners
   * reopened) after it has stopped.
   */
  stop(): Promise<void>;
}

export function createConfigReloader<T>(options: ReloaderOptions<T>): ConfigReloader<T> {
  const { logger } = options;
  let current = options.initial;
  const metrics = options.registry ? reloadMetrics(options.registry) : undefined;
  metrics?.successful.set(1);

  let stopped = false;
  const stoppedOutcome: ReloadOutcome = { applied: false, reason: 'the service is stopping' };

  const runOnce = async (trigger: string): Promise<ReloadOutcome> => {
    if (stopped) return stoppedOutcome;
    let outcome: LoadOutcome<T>;
    try {
      outcome = await options.load();
    } catch (error) {
      outcome = { ok: false, reason: errorMessage(error) };
    }
    if (stopped) return stoppedOutcome;
    if (!outcome.ok) {
      metrics?.reloads.inc({ result: 'refused' });
      metrics?.successful.set(0);
      logger?.warn(
        { trigger, reason: outcome.reason },
        'configuration reload refused; keeping the last good configuration',
      );
      options.onRefused?.(outcome.reason);
      return { applied: false, reason: outcome.reason };
    }
    const previous = current;
    current = outcome.value;
    metrics?.reloads.inc({ result: 'applied' });
    metrics?.successful.set(1);
    logger?.info({ trigger }, 'configuration reloaded');
    options.onApplied?.(current, previous);
    return { applied: true };
  };

  let chain: Promise<unknown> = Promise.resolve();
  /** A reload queued behind the running one: later triggers join it. */
  let queued: Promise<ReloadOutcome> | null = null;
  const reload = (trigger = 'request'): Promise<ReloadOutcome> => {
    if (stopped) return Promise.resolve(stoppedOutcome);
    if (queued) return queued;
    const next = chain.then(() => {
      queued = null;
      return runOnce(trigger);
    });
    queued = next;
    chain = next;
    return next;
  };

  const stops: Array<() => void> = [];
  const watcher = options.fileWatcher ?? pollingFileWatcher();
  for (const file of options.files ?? [])
    stops.push(watcher.watch(file, () => void reload(`change of ${file}`)));
  if (options.signals) stops.push(onSignals(options.signals, ['SIGHUP'], () => void reload('SIGHUP')));

  return {
    current: () => current,
    reload,
    stop: async () => {
      stopped = true;
      for (const stop of stops.splice(0)) stop();
      await chain.then(
        () => {},
        () => {},
      );
    },
  };
}

function reloadMetrics(registry: Registry) {
  return {
    reloads: createCounter(
      registry,
      'podgate_config_reloads_total',
      'Configuration reloads, by result (applied, refused).',
      ['result'],
    ),
    successful: createGauge(
      registry,
      'podgate_config_last_reload_successful',
      '1 if the last configuration reload was applied (or none was tried), 0 if it was refused.',
    ),
  };
}
