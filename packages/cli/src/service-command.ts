// The one way a long-running subcommand runs a service: read its flags and environment (the
// only place that does), open the store, start the service, serve it until SIGTERM/SIGINT,
// drain it, close the store. `podgate watcher`, `proxy` and `decision` differ only in the spec.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ErrorCode, errorMessage, hasErrorCode } from '@podgate/errors';
import { type IdentityStore, openStore, type StoreOptions, storeKind } from '@podgate/identity';
import {
  createLogger,
  type DestinationStream,
  EXIT,
  flushLogger,
  type Logger,
  type LogLevel,
  maglevWarning,
  NO_PRETENURING_FLAG,
  nextSignal,
  type ParsedConfig,
  type ServiceHandle,
  type SignalSource,
  serveUntilStopped,
  tuneHeapForRequests,
  tuneHeapGrowth,
} from '@podgate/runtime';
import type { FlagValues } from './args.js';
import { type StoreFlags, toStoreOptions } from './store-flags.js';

/** Start-up failures that are the command line's fault (exit 2): nothing says where pods come from. */
const USAGE_CODES: readonly ErrorCode[] = ['no_pod_source'];

function exitFor(error: unknown): number {
  return hasErrorCode(error, ...USAGE_CODES) ? EXIT.usage : EXIT.invalid;
}

export interface ServiceCommandSpec<C, S extends ServiceHandle> {
  /** `watcher`, `proxy`, `decision`: the subcommand, and `podgate-<name>` in every log line. */
  name: string;
  flags: NonNullable<ParseArgsConfig['options']>;
  help: string;
  parse(values: FlagValues, env: Readonly<Record<string, string | undefined>>): ParsedConfig<C>;
  logLevel(config: C): LogLevel;
  /**
   * Answers connections or requests, a log line each: stdout written in batches (runtime's
   * createLogger) and V8 tuned for short-lived per-request state (runtime's heap-tuning.ts).
   */
  perRequest?: boolean;
  /**
   * Warn at start when node runs V8's Maglev compiler where it was measured to keep finished
   * connections alive (the proxy on Node.js 24; the decision service showed no difference).
   */
  maglevWarning?: boolean;
  /**
   * Let V8's old generation grow 4x between full collections (runtime's tuneHeapGrowth): fewer
   * mark-compact pauses under load for more memory. The decision service, where those pauses set
   * the p99 (measured); the proxy promotes far less and reached one in about 50 s either way.
   */
  heapGrowth?: boolean;
  /** Checks what can be checked before the store is opened (files named by flags); throws to refuse. */
  precheck?(config: C): Promise<void>;
  storeOptions(config: C, onError: (error: unknown) => void): StoreOptions;
  /** Logged when the store is the embedded one, visible to this process only. */
  memoryStoreWarning: string;
  start(config: C, deps: { store: IdentityStore; logger: Logger; signals?: SignalSource }): Promise<S>;
  /** How long the stop may take before it is forced. */
  drainTimeoutMs(config: C): number;
}

export interface RunServiceOptions<S> {
  /** Resolves when the command should stop; default: SIGTERM or SIGINT. */
  stopSignal?: Promise<unknown>;
  /** SIGHUP (reload) and a second stop signal (force); default: the process's, unless stopSignal is given. */
  signals?: SignalSource;
  /** Log destination; default stdout. */
  logDestination?: DestinationStream;
  /** Error output; default stderr. */
  err?: (text: string) => void;
  /** Normal output (the help); default stdout. */
  out?: (text: string) => void;
  /** Called once serving (tests listen on port 0). */
  onListening?: (service: S) => void;
}

export async function runServiceCommand<C, S extends ServiceHandle>(
  spec: ServiceCommandSpec<C, S>,
  argv: string[],
  env: NodeJS.ProcessEnv,
  options: RunServiceOptions<S> = {},
): Promise<number> {
  const name = `podgate ${spec.name}`;
  const err = options.err ?? ((text: string) => process.stderr.write(`${text}\n`));
  let values: FlagValues;
  try {
    values = parseArgs({ args: argv, options: spec.flags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err(`${name}: ${errorMessage(error)}\nRun '${name} --help' for usage.`);
    return EXIT.usage;
  }
  if (values.help) {
    (options.out ?? ((text: string) => process.stdout.write(`${text}\n`)))(spec.help);
    return EXIT.ok;
  }
  // Flags and environment are the command line: what they get wrong is a usage error (2), like
  // an unknown flag; what is found wrong once running (files, the store, ports) is 1.
  const parsed = spec.parse(values, env);
  if (!parsed.ok) {
    err(`${name}: invalid configuration:\n${parsed.message}\nRun '${name} --help' for usage.`);
    return EXIT.usage;
  }
  const config = parsed.config;
  // V8 flags set from the running process (node flags of the same names, given by the
  // operator, win); said once serving, after the lines that say what was loaded.
  const tuned: string[] = [];
  if (spec.perRequest && tuneHeapForRequests()) tuned.push(NO_PRETENURING_FLAG);
  const growth = spec.heapGrowth ? tuneHeapGrowth() : null;
  if (growth !== null) tuned.push(growth);
  try {
    await spec.precheck?.(config);
  } catch (error) {
    err(`${name}: ${errorMessage(error)}`);
    return exitFor(error);
  }
  const logger = createLogger({
    service: `podgate-${spec.name}`,
    level: spec.logLevel(config),
    ...(options.logDestination !== undefined
      ? { destination: options.logDestination }
      : spec.perRequest
        ? // A batch costs a trip through libuv's thread pool (on the order of 100 us of the
          // process's CPU, measured): at a line of about 1 KB per request, 256 KiB batches keep
          // that well under a microsecond a line. The flush interval (100 ms), not the size,
          // bounds how long a line waits and what a crash can lose.
          { bufferBytes: 262_144 }
        : {}),
  });
  const stopRequested = options.stopSignal ?? nextSignal(process);
  const signals = options.signals ?? (options.stopSignal ? undefined : process);
  const storeOptions = spec.storeOptions(config, (error) =>
    logger.debug({ err: errorMessage(error) }, 'redis connection error'),
  );

  let store: IdentityStore;
  try {
    store = await openStore(storeOptions);
  } catch (error) {
    err(`${name}: ${errorMessage(error)}`);
    return EXIT.invalid;
  }
  if (storeKind(storeOptions) === 'memory') logger.warn(spec.memoryStoreWarning);
  let service: S;
  try {
    service = await spec.start(config, { store, logger, ...(signals !== undefined ? { signals } : {}) });
  } catch (error) {
    err(`${name}: ${errorMessage(error)}`);
    await store.close();
    return exitFor(error);
  }
  options.onListening?.(service);
  if (tuned.length > 0) logger.info({ v8: tuned }, 'V8 tuned for answering requests');
  if (spec.maglevWarning) {
    // Said once serving, after the lines that say what was loaded and where it listens.
    const warning = maglevWarning();
    if (warning !== null) logger.warn(warning);
  }

  const code = await serveUntilStopped(service, {
    stopRequested,
    ...(signals !== undefined ? { signals } : {}),
    drainTimeoutMs: spec.drainTimeoutMs(config),
    logger,
  });
  await store.close();
  logger.info('stopped');
  // What is left goes out, but a stdout nobody reads must not keep a stopping process alive.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    flushLogger(logger),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FINAL_FLUSH_MS);
    }),
  ]);
  clearTimeout(timer);
  return code;
}

/** How long a stopping service waits for its last log lines to be written. */
const FINAL_FLUSH_MS = 2_000;

/** The memory-store warning of a reader (proxy, decision). */
export const READER_MEMORY_STORE_WARNING =
  'no --redis/REDIS_URL: the embedded in-memory store is empty in this process (every identity is ERR_NGROK_28001); give --redis to read the watcher’s store';

/** The store options of a reader (proxy, decision): the clusters it consults and its lookup deadline. */
export function readerStoreOptions(
  config: StoreFlags & { clusters: string[]; lookupTimeoutMs: number },
  onError: (error: unknown) => void,
): StoreOptions {
  return toStoreOptions(config, {
    clusters: config.clusters,
    lookupTimeoutMs: config.lookupTimeoutMs,
    onError,
  });
}
