// A log destination for a service that writes a line per request or connection: lines are
// gathered and written in one asynchronous write per batch, in order, one write in flight at a
// time. A batch is written when it reaches `bytes`, or every `intervalMs`, or on flush: never
// merely because the previous write finished (under load that wrote a handful of lines at a
// time, each write a trip through libuv's thread pool).
//
// Each line is encoded into the batch's buffer as it arrives, so the line's string dies at once.
// Keeping the strings until the batch was joined cost more than building them (measured with
// 650-byte decision lines, 256 KiB batches: 2.5-4 µs a line to join and encode, 0.6-0.7 µs to
// encode each on arrival): every line built from pieces stayed alive, pieces and all, through
// the young generation's collections until its batch was written.
//
// What waits is bounded: when stdout is not read (a stalled log collector, a full pipe), the
// batches waiting for it stop growing at `maxQueuedBytes` and later lines are dropped, counted,
// and told in a line of their own (`dropNote`) written first once stdout takes lines again. A
// service that logs a line per connection would otherwise hold every line in memory until it
// ran out of it.
import fs from 'node:fs';
import type { DestinationStream } from 'pino';

/** Writes one batch and calls back (with or without an error) when it is done. */
export type BatchWrite = (batch: Buffer, done: () => void) => void;

export type BatchedWriter = DestinationStream & {
  flush(cb?: () => void): void;
  /** Lines dropped since the writer was made (what waited had reached its bound). */
  dropped(): number;
};

/** The longest wait before trying a stdout that was full again. */
const FULL_RETRY_MAX_MS = 100;

/**
 * To stdout through the thread pool, so a stalled reader never blocks the event loop. Stdout is
 * often a non-blocking pipe (Node makes it one once anything touches process.stdout): a full
 * pipe then answers EAGAIN at once, and the rest of the batch is written again a moment later
 * (1 ms, doubling to 100 ms) instead of being lost, so a slow reader holds batches back, where
 * the writer's bound applies and what it drops is counted.
 */
export const stdoutBatchWrite: BatchWrite = (batch, done) => {
  let wait = 1;
  const from = (offset: number): void => {
    fs.write(1, batch, offset, batch.length - offset, null, (error, written) => {
      if (error !== null && (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK')) {
        setTimeout(() => from(offset), wait).unref();
        wait = Math.min(wait * 2, FULL_RETRY_MAX_MS);
        return;
      }
      // A failed write (stdout closed) loses its lines; logging must not take the service down.
      if (error !== null || written <= 0 || offset + written >= batch.length) return done();
      wait = 1;
      from(offset + written);
    });
  };
  from(0);
};

/** UTF-8 takes at most 3 bytes for one UTF-16 code unit (4 for a surrogate pair, which is 2 units). */
const MAX_UTF8_PER_UNIT = 3;

export interface BatchedWriterOptions {
  /**
   * Lines waiting (in batches not yet written) past which new lines are dropped. Default
   * 64 batches' worth, at least 16 MiB (16 MiB at 256 KiB batches).
   */
  maxQueuedBytes?: number;
  /** The line (newline included) that tells how many lines were dropped, written before the next ones. */
  dropNote?: (dropped: number) => string;
}

export function batchedWriter(
  write: BatchWrite,
  bytes: number,
  intervalMs: number,
  options: BatchedWriterOptions = {},
): BatchedWriter {
  // Room for one more line past `bytes` without growing: a batch is sealed once it reaches it.
  const capacity = bytes + 16_384;
  const maxQueued = options.maxQueuedBytes ?? Math.max(64 * bytes, 16 * 1024 * 1024);
  const dropNote = options.dropNote ?? ((n: number) => `{"msg":"log lines dropped","dropped":${n}}\n`);
  /** Lines dropped since the last note was queued, and since the start. */
  let dropped = 0;
  let droppedTotal = 0;
  /** Bytes in sealed batches (what waits beside the batch being filled). */
  let queued = 0;
  // Buffers come back once written: allocating one per batch made external memory grow by a
  // batch each time, and V8 answers that growth with full collections (a worse latency tail,
  // measured).
  const spare: Buffer[] = [];
  const fresh = () => spare.pop() ?? Buffer.allocUnsafeSlow(capacity);
  let buffer = fresh();
  let used = 0;
  /** Batches that reached their size while a write was in flight, oldest first. */
  const sealed: Array<{ memory: Buffer; used: number }> = [];
  let writing = false;
  const waiting: Array<() => void> = [];
  const seal = () => {
    if (used === 0) return;
    sealed.push({ memory: buffer, used });
    queued += used;
    buffer = fresh();
    used = 0;
  };
  const drain = () => {
    noteDrops();
    if (writing) return;
    if (sealed.length === 0) seal();
    const batch = sealed.shift();
    if (batch === undefined) {
      for (const cb of waiting.splice(0)) cb();
      return;
    }
    writing = true;
    queued -= batch.used;
    write(batch.memory.subarray(0, batch.used), () => {
      writing = false;
      // A buffer grown for a long line is let go; the usual ones are used again.
      if (batch.memory.length === capacity && spare.length < 2) spare.push(batch.memory);
      if (sealed.length > 0 || waiting.length > 0) drain();
    });
  };
  setInterval(drain, intervalMs).unref();
  const append = (line: string) => {
    const room = line.length * MAX_UTF8_PER_UNIT;
    if (used + room > buffer.length) {
      // A line longer than the slack (rare: a log line is about a kilobyte).
      const bigger = Buffer.allocUnsafeSlow(Math.max(capacity, used + room));
      buffer.copy(bigger, 0, 0, used);
      buffer = bigger;
    }
    used += buffer.write(line, used);
  };
  /** The note of lines dropped, once there is room for lines again. */
  const noteDrops = () => {
    if (dropped === 0 || queued + used >= maxQueued) return;
    append(dropNote(dropped));
    dropped = 0;
  };
  return {
    write(line: string) {
      if (queued + used >= maxQueued) {
        dropped++;
        droppedTotal++;
        return;
      }
      noteDrops();
      append(line);
      if (used >= bytes) {
        seal();
        drain();
      }
    },
    dropped: () => droppedTotal,
    flush(cb?: () => void) {
      // Queued even without a callback: a flush during a write must still write the rest after it.
      waiting.push(cb ?? (() => {}));
      drain();
    },
  };
}
