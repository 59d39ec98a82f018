// JSON logs, one line per meaningful event (pino). Destination injectable for tests.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'podgate-watcher' } };
  return destination ? pino(options, destination) : pino(options);
}
