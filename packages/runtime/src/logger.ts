// JSON lines (pino), one per meaningful event, each carrying the service's name. The
// destination is injectable so tests (and `podgate dev`) can keep or route the lines.
import fs from 'node:fs';
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
  return pino(settings, batchedStdout(options.bufferBytes, options.flushIntervalMs ?? 100));
}

/**
 * Lines gathered in an array and written to stdout in one asynchronous write per batch (a
 * batch at `bytes`, or every `intervalMs`), in order. O(1) per line: pino's own buffered
 * destination measured the whole pending buffer on every line.
 */
function batchedStdout(
  bytes: number,
  intervalMs: number,
): DestinationStream & { flush(cb?: () => void): void } {
  let parts: string[] = [];
  let size = 0;
  let writing = false;
  const waiting: Array<() => void> = [];
  const drain = () => {
    if (writing) return;
    if (parts.length === 0) {
      for (const cb of waiting.splice(0)) cb();
      return;
    }
    const batch = parts.join('');
    parts = [];
    size = 0;
    writing = true;
    fs.write(1, batch, () => {
      // A failed write (stdout closed) loses its lines; logging must not take the service down.
      writing = false;
      drain();
    });
  };
  setInterval(drain, intervalMs).unref();
  return {
    write(line: string) {
      parts.push(line);
      size += line.length;
      if (size >= bytes) drain();
    },
    flush(cb?: () => void) {
      if (cb) waiting.push(cb);
      drain();
    },
  };
}

/** Writes what a buffered logger still holds (a no-op for others); call it at stop. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
