// Writes the line per connection: its fields as text (connectionLogFields: the identity's JSON
// made once per pod, no intermediate objects), framed by the logger as pino frames a line
// (runtime's logJsonFields). Through pino's own serialiser, key by key, it was a tenth of the
// proxy's CPU per connection.
import { type Logger, logJsonFields } from '@podgate/runtime';
import type { ConnectionRecord } from './connection.js';
import { connectionLogFields } from './log-line.js';

const MESSAGE = 'connection';

export function connectionLogWriter(logger: Logger): (record: ConnectionRecord) => void {
  return (record) => logJsonFields(logger, 'info', connectionLogFields(record), MESSAGE);
}
