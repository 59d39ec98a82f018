// `podgate watcher`: reads its flags and environment (the only place that does), opens the
// store, starts the watcher service and serves it until SIGTERM/SIGINT, then drains it.
import { parseArgs } from 'node:util';
import { errorMessage } from '@podgate/errors';
import { type IdentityStore, openStore, storeKind } from '@podgate/identity';
import {
  createLogger,
  type DestinationStream,
  EXIT,
  nextSignal,
  type SignalSource,
  serveUntilStopped,
} from '@podgate/runtime';
import { startWatcherService, type WatcherService } from '@podgate/watcher';
import type { FlagValues } from '../args.js';
import type { Command } from '../io.js';
import { toStoreOptions } from '../store-flags.js';
import { parseWatcherFlags, WATCHER_FLAGS, WATCHER_HELP } from './watcher-flags.js';

export interface RunWatcherOptions {
  /** Resolves when the command should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /** Signals that force a stop in progress; default: the process's, unless stopSignal is given. */
  signals?: SignalSource;
  /** Log destination; default stdout. */
  logDestination?: DestinationStream;
  /** Error output; default stderr. */
  err?: (text: string) => void;
  /** Normal output (the help); default stdout. */
  out?: (text: string) => void;
  /** Called once serving, with the bound health port (tests listen on port 0). */
  onListening?: (port: number) => void;
}

export async function runWatcherCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunWatcherOptions = {},
): Promise<number> {
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let values: FlagValues;
  try {
    values = parseArgs({ args: argv, options: WATCHER_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err(`podgate watcher: ${errorMessage(error)}\nRun 'podgate watcher --help' for usage.`);
    return EXIT.usage;
  }
  if (values.help) {
    (options.out ?? ((text: string) => process.stdout.write(`${text}\n`)))(WATCHER_HELP);
    return EXIT.ok;
  }
  const parsed = parseWatcherFlags(values, env);
  if (!parsed.ok) {
    err(`podgate watcher: invalid configuration:\n${parsed.message}`);
    return EXIT.invalid;
  }
  const config = parsed.config;
  const logger = createLogger({
    service: 'podgate-watcher',
    level: config.logLevel,
    destination: options.logDestination,
  });
  const stopRequested = options.stopSignal ?? nextSignal(process);
  const storeOptions = toStoreOptions(config, {
    onError: (error) => logger.debug({ err: errorMessage(error) }, 'redis connection error'),
  });

  let store: IdentityStore;
  let service: WatcherService;
  try {
    store = await openStore(storeOptions);
  } catch (error) {
    err(`podgate watcher: ${errorMessage(error)}`);
    return EXIT.invalid;
  }
  if (storeKind(storeOptions) === 'memory') {
    logger.warn(
      'no --redis/REDIS_URL: using the embedded in-memory store, visible to this process only; readers elsewhere see nothing',
    );
  }
  try {
    service = await startWatcherService(config, { store, logger });
  } catch (error) {
    err(`podgate watcher: ${errorMessage(error)}`);
    await store.close();
    return EXIT.invalid;
  }
  options.onListening?.(service.adminPort ?? 0);

  const code = await serveUntilStopped(service, {
    stopRequested,
    signals: options.signals ?? (options.stopSignal ? undefined : process),
    drainTimeoutMs: config.drainTimeoutMs,
    logger,
  });
  await store.close();
  logger.info('stopped');
  return code;
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
