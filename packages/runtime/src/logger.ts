// JSON lines (pino), one per meaningful event, each carrying the service's name. The
// destination is injectable so tests (and `podgate dev`) can keep or route the lines.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export type { DestinationStream, Logger };
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface LoggerOptions {
  /** The `service` field of every line, e.g. `podgate-watcher`. */
  service: string;
  level: LogLevel;
  /** Default: stdout. */
  destination?: DestinationStream;
  /**
   * Stdout only: gather lines and write them this many bytes at a time (asynchronously),
   * flushing at least every `flushIntervalMs`. For a service that logs a line per
   * connection: one write syscall per line was a sixth of the proxy's CPU. A crash can lose
   * up to `flushIntervalMs` of lines; `flushLogger` at stop writes what is left.
   */
  bufferBytes?: number;
  /** With bufferBytes: the longest a line waits. Default 100 ms. */
  flushIntervalMs?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = { level: options.level, base: { service: options.service } };
  if (options.destination) return pino(settings, options.destination);
  if (options.bufferBytes === undefined || options.bufferBytes <= 0) return pino(settings);
  const destination = pino.destination({ dest: 1, minLength: options.bufferBytes, sync: false });
  setInterval(() => destination.flush(), options.flushIntervalMs ?? 100).unref();
  return pino(settings, destination);
}

/** Writes what a buffered logger still holds (a no-op for others); call it at stop. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
