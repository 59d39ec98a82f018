// JSON lines (pino), one per meaningful event, each carrying the service's name. The
// destination is injectable so tests (and `podgate dev`) can keep or route the lines.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import { batchedWriter, stdoutBatchWrite } from './batched-writer.js';

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
  const dropNote = droppedLinesNote(options.service);
  return pino(
    settings,
    // What waits for an unread stdout is bounded at the writer's default (16 MiB at 256 KiB).
    batchedWriter(stdoutBatchWrite, options.bufferBytes, options.flushIntervalMs ?? 100, { dropNote }),
  );
}

/**
 * The warning line a buffered logger writes when it had to drop lines, in pino's own framing
 * (level, time, the service, msg last) so that it reads like any other line.
 */
export function droppedLinesNote(serviceName: string): (dropped: number) => string {
  const service = JSON.stringify(serviceName);
  return (dropped) =>
    `{"level":${pino.levels.values.warn},"time":${Date.now()},"service":${service},"dropped":${dropped},"msg":"log lines dropped: stdout was not read fast enough"}\n`;
}

const { chindingsSym, endSym, lsCacheSym, messageKeySym, needsMetadataGsym, streamSym, timeSym } =
  pino.symbols;

/** The parts of a pino logger its own line writer reads (pino.symbols, for integrations). */
function internals(logger: Logger) {
  const at = logger as unknown as Record<symbol, unknown>;
  return {
    levelPrefix: at[lsCacheSym] as Record<number, string>,
    time: at[timeSym] as () => string,
    messageKey: at[messageKeySym] as string,
    end: at[endSym] as string,
    stream: at[streamSym] as DestinationStream & Record<symbol, unknown>,
  };
}

/**
 * What logJsonFields needs of a logger that does not change once it is made, read once per
 * logger (it runs once per connection or request), and each message's end of line, made once.
 */
interface LineParts {
  parts: ReturnType<typeof internals>;
  metadata: boolean;
  /** `,"msg":"<msg>"}` + newline, per message. */
  tails: Map<string, string>;
}
const lineParts = new WeakMap<Logger, LineParts>();

function partsOf(logger: Logger): LineParts {
  let found = lineParts.get(logger);
  if (found === undefined) {
    const parts = internals(logger);
    found = { parts, metadata: parts.stream[needsMetadataGsym] === true, tails: new Map() };
    lineParts.set(logger, found);
  }
  return found;
}

/**
 * Writes the line `logger[level](JSON.parse(`{${fields}}`), msg)` would write, with the fields
 * already serialised by the caller (`"a":1,"b":{...}`, no braces). For a line written once per
 * request whose biggest field is JSON the caller has built anyway (the decision service's
 * answer, the proxy's connection): pino would stringify it a second time, and its key-by-key
 * walk cost more than the rest of the request's logging together. The line is pino's own
 * (level, time, the bindings, the fields, the message) through pino's own destination; where
 * that destination wants the line's object as well (a multistream), the object is parsed and
 * handed to pino instead.
 */
export function logJsonFields(
  logger: Logger,
  level: Exclude<LogLevel, 'silent'>,
  fields: string,
  msg: string,
): void {
  if (!logger.isLevelEnabled(level)) return;
  const { parts, metadata, tails } = partsOf(logger);
  if (metadata) {
    logger[level](JSON.parse(`{${fields}}`) as object, msg);
    return;
  }
  let tail = tails.get(msg);
  if (tail === undefined) {
    tail = `,${JSON.stringify(parts.messageKey)}:${JSON.stringify(msg)}${parts.end}`;
    tails.set(msg, tail);
  }
  // The bindings are read each time: pino's setBindings replaces them.
  const bindings = (logger as unknown as Record<symbol, string>)[chindingsSym];
  parts.stream.write(
    `${parts.levelPrefix[logger.levels.values[level]!]}${parts.time.call(logger)}${bindings},${fields}${tail}`,
  );
}

/** Lines a buffered logger has dropped since it was made (0 for any other logger). */
export function droppedLogLines(logger: Logger): number {
  const stream = partsOf(logger).parts.stream as { dropped?: unknown };
  return typeof stream.dropped === 'function' ? Number((stream.dropped as () => number)()) : 0;
}

/** Writes what a buffered logger still holds (a no-op for others); call it at stop. */
export function flushLogger(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
