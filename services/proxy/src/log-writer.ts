// Writes the line per connection. pino serialises an object key by key (a stringify call per
// value, strings joined as it goes); the line per connection is the text connectionLogText
// writes directly (the identity's JSON made once per pod), framed as pino frames its lines (level, time, the logger's
// bindings first, msg last), written to the logger's own destination so lines stay in order.
// It was a tenth of the proxy's CPU per connection through pino. Where the logger is not a plain
// pino logger (hooks, formatters, a destination that wants pino's metadata), pino writes it.
import type { Logger } from '@podgate/runtime';
import type { ConnectionRecord } from './connection.js';
import { connectionLogLine, connectionLogText } from './log-line.js';

const MESSAGE = 'connection';

export function connectionLogWriter(logger: Logger): (record: ConnectionRecord) => void {
  const viaPino = (record: ConnectionRecord) => logger.info(connectionLogLine(record), MESSAGE);
  const stream = pinoInternal(logger, 'pino.stream') as { write?: (line: string) => unknown } | undefined;
  const bindings = pinoInternal(logger, 'pino.chindings');
  const plain =
    stream !== undefined &&
    typeof stream.write === 'function' &&
    (stream as Record<symbol, unknown>)[Symbol.for('pino.metadata')] === undefined &&
    typeof bindings === 'string' &&
    pinoInternal(logger, 'pino.mixin') === undefined &&
    pinoInternal(logger, 'pino.msgPrefix') === undefined &&
    noHooks(pinoInternal(logger, 'pino.hooks')) &&
    isDefault(pinoInternal(logger, 'pino.formatters')) &&
    pinoInternal(logger, 'pino.messageKey') === 'msg' &&
    logger.levels.values.info !== undefined;
  if (!plain) return viaPino;
  const head = `{"level":${logger.levels.values.info},"time":`;
  const tail = `,"msg":${JSON.stringify(MESSAGE)}}\n`;
  const write = stream.write!.bind(stream);
  return (record) => {
    const body = connectionLogText(record);
    write(`${head}${Date.now()}${bindings},${body.slice(1, -1)}${tail}`);
  };
}

/** A pino instance field, by its symbol's description (pino keeps them on the instance or its prototype). */
function pinoInternal(logger: Logger, description: string): unknown {
  for (let o: object | null = logger; o !== null; o = Object.getPrototypeOf(o)) {
    for (const s of Object.getOwnPropertySymbols(o)) {
      if (s.description === description) return (o as Record<symbol, unknown>)[s];
    }
  }
  return undefined;
}

function noHooks(hooks: unknown): boolean {
  const h = hooks as { logMethod?: unknown; streamWrite?: unknown } | undefined;
  return h === undefined || (h.logMethod === undefined && h.streamWrite === undefined);
}

/** pino's default formatters: level as a number, bindings as given, the log object untouched. */
function isDefault(formatters: unknown): boolean {
  if (typeof formatters !== 'object' || formatters === null) return false;
  const f = formatters as { level?: (label: string, n: number) => unknown; log?: (o: object) => unknown };
  const probe = { a: 1 };
  const level = f.level?.('info', 30) as { level?: unknown } | undefined;
  return (
    level?.level === 30 && Object.keys(level).length === 1 && (f.log === undefined || f.log(probe) === probe)
  );
}
