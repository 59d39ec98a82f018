import { runWatcherCommand, WATCHER_HELP } from '@podgate/watcher';
import type { Command } from '../io.js';

export const watcherCommand: Command = {
  name: 'watcher',
  summary: 'Watch pods (Kubernetes API or a pods file) and write identity records to the store',
  help: WATCHER_HELP,
  run: (argv, io) =>
    runWatcherCommand(argv, io.env as NodeJS.ProcessEnv, { stopSignal: io.stopSignal, err: io.err }),
};
