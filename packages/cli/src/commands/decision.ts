// `podgate decision`: reads its flags and environment (the only place that does), opens the
// store, starts the decision service and serves it until SIGTERM/SIGINT, then drains it.
import { parseArgs } from 'node:util';
import { type DecisionService, startDecisionService } from '@podgate/decision';
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
import type { FlagValues } from '../args.js';
import type { Command } from '../io.js';
import { toStoreOptions } from '../store-flags.js';
import { DECISION_FLAGS, DECISION_HELP, parseDecisionFlags } from './decision-flags.js';

export interface RunDecisionOptions {
  /** Resolves when the command should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /** SIGHUP (reload) and a second stop signal (force); default: the process's, unless stopSignal is given. */
  signals?: SignalSource;
  logDestination?: DestinationStream;
  err?: (text: string) => void;
  out?: (text: string) => void;
  /** Called once serving (tests listen on port 0). */
  onListening?: (service: DecisionService) => void;
}

export async function runDecisionCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunDecisionOptions = {},
): Promise<number> {
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let values: FlagValues;
  try {
    values = parseArgs({ args: argv, options: DECISION_FLAGS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err(`podgate decision: ${errorMessage(error)}\nRun 'podgate decision --help' for usage.`);
    return EXIT.usage;
  }
  if (values.help) {
    (options.out ?? ((text: string) => process.stdout.write(`${text}\n`)))(DECISION_HELP);
    return EXIT.ok;
  }
  const parsed = parseDecisionFlags(values, env);
  if (!parsed.ok) {
    err(`podgate decision: invalid configuration:\n${parsed.message}`);
    return EXIT.invalid;
  }
  const config = parsed.config;
  const logger = createLogger({
    service: 'podgate-decision',
    level: config.logLevel,
    destination: options.logDestination,
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
    err(`podgate decision: ${errorMessage(error)}`);
    return EXIT.invalid;
  }
  if (storeKind(storeOptions) === 'memory') {
    logger.warn(
      'no --redis/REDIS_URL: the embedded in-memory store is empty in this process (every identity is ERR_NGROK_28001); give --redis to read the watcher’s store',
    );
  }
  let service: DecisionService;
  try {
    service = await startDecisionService(config, {
      store,
      clusters: config.clusters,
      logger,
      ...(signals !== undefined ? { signals } : {}),
    });
  } catch (error) {
    err(`podgate decision: ${errorMessage(error)}`);
    await store.close();
    return EXIT.invalid;
  }
  options.onListening?.(service);

  const code = await serveUntilStopped(service, {
    stopRequested,
    ...(signals !== undefined ? { signals } : {}),
    drainTimeoutMs: config.drainTimeoutMs,
    logger,
  });
  await store.close();
  logger.info('stopped');
  return code;
}

export const decisionCommand: Command = {
  name: 'decision',
  summary: 'HTTP decision service: JSON API and forward-auth for nginx, Traefik, Caddy and Envoy',
  help: DECISION_HELP,
  run: (argv, io) =>
    runDecisionCommand(argv, io.env as NodeJS.ProcessEnv, {
      stopSignal: io.stopSignal,
      signals: io.signals,
      err: io.err,
      out: io.out,
    }),
};
