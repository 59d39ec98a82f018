// `podgate watcher`: the watcher service, run the way every service command runs
// (service-command.ts).
import { readFile } from 'node:fs/promises';
import {
  kubeAccessOptions,
  locateKubeAccess,
  startWatcherService,
  type WatcherService,
} from '@podgate/watcher';
import type { Command } from '../io.js';
import { checkPodsFile } from '../pods-file-check.js';
import { type RunServiceOptions, runServiceCommand } from '../service-command.js';
import { toStoreOptions } from '../store-flags.js';
import { parseWatcherFlags, WATCHER_FLAGS, WATCHER_HELP, type WatcherFlags } from './watcher-flags.js';

export interface RunWatcherOptions extends Omit<RunServiceOptions<WatcherService>, 'onListening'> {
  /** Called once serving, with the bound health port (tests listen on port 0). */
  onListening?: (port: number) => void;
}

const readText = (path: string) => readFile(path, 'utf8');

export function runWatcherCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunWatcherOptions = {},
): Promise<number> {
  const { onListening, ...rest } = options;
  return runServiceCommand<WatcherFlags, WatcherService>(
    {
      name: 'watcher',
      flags: WATCHER_FLAGS,
      help: WATCHER_HELP,
      parse: parseWatcherFlags,
      logLevel: (config) => config.logLevel,
      precheck: async (config) => {
        if (config.podsFile)
          await checkPodsFile(config.podsFile, config.annotationPrefixes, readText, 'allow');
        else locateKubeAccess(kubeAccessOptions(config));
      },
      storeOptions: (config, onError) => toStoreOptions(config, { onError }),
      memoryStoreWarning:
        'no --redis/REDIS_URL: using the embedded in-memory store, visible to this process only; readers elsewhere see nothing',
      start: (config, deps) => startWatcherService(config, { store: deps.store, logger: deps.logger }),
      drainTimeoutMs: (config) => config.drainTimeoutMs,
    },
    argv,
    env,
    { ...rest, ...(onListening !== undefined ? { onListening: (s) => onListening(s.adminPort ?? 0) } : {}) },
  );
}

export const watcherCommand: Command = {
  name: 'watcher',
  summary: 'Watch pods (Kubernetes API or a pods file) and write identity records to the store',
  help: WATCHER_HELP,
  run: (argv, io) =>
    runWatcherCommand(argv, io.env as NodeJS.ProcessEnv, {
      stopSignal: io.stopSignal,
      signals: io.signals,
      err: io.err,
      out: io.out,
    }),
};
