// A logger that keeps its JSON lines in memory, for assertions on log output.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@podgate/runtime';

export function memoryLogger(level: 'info' | 'debug' | 'warn' = 'info'): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
} {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    logger: createLogger({ service: 'podgate-test', level, destination: sink }),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
