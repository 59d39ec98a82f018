// A log destination for a service that writes a line per request or connection: lines are
// gathered and written in one asynchronous write per batch, in order, one write in flight at a
// time. A batch is written when it reaches `bytes`, or every `intervalMs`, or on flush: never
// merely because the previous write finished (under load that wrote a handful of lines at a
// time, each write a trip through libuv's thread pool). O(1) per line: pino's own buffered
// destination measured the whole pending buffer on every line.
import fs from 'node:fs';
import type { DestinationStream } from 'pino';

/** Writes one batch and calls back (with or without an error) when it is done. */
export type BatchWrite = (batch: string, done: () => void) => void;

export type BatchedWriter = DestinationStream & { flush(cb?: () => void): void };

/** To stdout through the thread pool, so a stalled reader never blocks the event loop. */
export const stdoutBatchWrite: BatchWrite = (batch, done) => {
  // A failed write (stdout closed) loses its lines; logging must not take the service down.
  fs.write(1, batch, () => done());
};

export function batchedWriter(write: BatchWrite, bytes: number, intervalMs: number): BatchedWriter {
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
    write(batch, () => {
      writing = false;
      if (size >= bytes || waiting.length > 0) drain();
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
