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
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = { level: options.level, base: { service: options.service } };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
