// `podgate dev` runs the services in a terminal: their log lines (JSON for machines in
// production) are turned into one readable line each, `podgate dev: MESSAGE: ERROR`.
import type { DestinationStream } from '@podgate/runtime';

export function humanLogDestination(prefix: string, write: (line: string) => void): DestinationStream {
  return {
    write(line: string) {
      write(humanLine(prefix, line));
    },
  };
}

/** One JSON log line as text; a line that is not JSON is passed on as it is. */
export function humanLine(prefix: string, line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${prefix}: ${line.trimEnd()}`;
  }
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  const err = entry.err === undefined ? '' : String(entry.err);
  return `${prefix}: ${[msg, err].filter((part) => part !== '').join(': ')}`;
}
