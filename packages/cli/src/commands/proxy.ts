// `podgate proxy`: reads its flags and environment (the only place that does), opens the store,
// starts the proxy service and serves it until SIGTERM/SIGINT, then drains it.
import { parseArgs } from 'node:util';
import { errorMessage } from '@podgate/errors';
import { type IdentityStore, openStore, storeKind } from '@podgate/identity';
import { type ProxyService, startProxyService } from '@podgate/proxy';
import {
  createLogger,
  type DestinationStream,
  EXIT,
  flushLogger,
  nextSignal,
  type SignalSource,
  serveUntilStopped,
} from '@podgate/runtime';
import type { FlagValues } from '../args.js';
import type { Command } from '../io.js';
import { toStoreOptions } from '../store-flags.js';
import { PROXY_FLAGS, PROXY_HELP, parseProxyFlags } from './proxy-flags.js';

export interface RunProxyOptions {
  /** Resolves when the command should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /** SIGHUP (reload) and a second stop signal (force); default: the process's, unless stopSignal is given. */
  signals?: SignalSource;
  logDestination?: DestinationStream;
  err?: (text: string) => void;
  out?: (text: string) => void;
  /** Called once serving (tests listen on port 0). */
  onListening?: (service: ProxyService) => void;
}

export async function runProxyCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunProxyOptions = {},
): Promise<number> {
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let values: FlagValues;
  try {
    values = parseArgs({ args: argv, options: PROXY_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err(`podgate proxy: ${errorMessage(error)}\nRun 'podgate proxy --help' for usage.`);
    return EXIT.usage;
  }
  if (values.help) {
    (options.out ?? ((text: string) => process.stdout.write(`${text}\n`)))(PROXY_HELP);
    return EXIT.ok;
  }
  const parsed = parseProxyFlags(values, env);
  if (!parsed.ok) {
    err(`podgate proxy: invalid configuration:\n${parsed.message}`);
    return EXIT.invalid;
  }
  const config = parsed.config;
  // One line per connection: gathered and written 16 KB at a time (see createLogger).
  const logger = createLogger({
    service: 'podgate-proxy',
    level: config.logLevel,
    ...(options.logDestination !== undefined
      ? { destination: options.logDestination }
      : { bufferBytes: 16_384 }),
  });
  const stopRequested = options.stopSignal ?? nextSignal(process);
  const signals = options.signals ?? (options.stopSignal ? undefined : process);
  const storeOptions = toStoreOptions(config, {
    clusters: config.clusters,
    lookupTimeoutMs: config.lookupTimeoutMs,
    onError: (error) => logger.debug({ err: errorMessage(error) }, 'redis connection error'),
  });

  let store: IdentityStore;
  try {
    store = await openStore(storeOptions);
  } catch (error) {
    err(`podgate proxy: ${errorMessage(error)}`);
    return EXIT.invalid;
  }
  if (storeKind(storeOptions) === 'memory') {
    logger.warn(
      'no --redis/REDIS_URL: the embedded in-memory store is empty in this process (every identity is ERR_NGROK_28001); give --redis to read the watcher’s store',
    );
  }
  let service: ProxyService;
  try {
    service = await startProxyService(config, {
      store,
      clusters: config.clusters,
      logger,
      ...(signals !== undefined ? { signals } : {}),
    });
  } catch (error) {
    err(`podgate proxy: ${errorMessage(error)}`);
    await store.close();
    return EXIT.invalid;
  }
  options.onListening?.(service);

  const code = await serveUntilStopped(service, {
    stopRequested,
    ...(signals !== undefined ? { signals } : {}),
    drainTimeoutMs: config.drainTimeoutMs + 5_000,
    logger,
  });
  await store.close();
  logger.info('stopped');
  await flushLogger(logger);
  return code;
}

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'TCP front proxy: identity lookup and on_tcp_connect at connect time, then close or forward',
  help: PROXY_HELP,
  run: (argv, io) =>
    runProxyCommand(argv, io.env as NodeJS.ProcessEnv, {
      stopSignal: io.stopSignal,
      signals: io.signals,
      err: io.err,
      out: io.out,
    }),
};
