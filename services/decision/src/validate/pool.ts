// POST /v1/validate's work, off the thread that answers decisions. Loading a YAML text is
// synchronous and costly: a 1 MiB body took 2-5 s and 300-500 MB of heap on the request
// thread, holding every decision behind it and taking the process past its memory limit.
// Here one worker thread loads one text at a time under a heap limit of its own and a
// deadline; a text past either costs that worker (stopped, and started again for the next
// text), never the service. A few texts wait; past that the caller is told to retry.
import type { Worker } from 'node:worker_threads';
import { errorMessage } from '@podgate/errors';
import type { ValidateOutcome } from './outcome.js';
import type { FromWorker } from './protocol.js';
import { spawnValidationWorker } from './spawn.js';

export type ValidateResult =
  | { kind: 'done'; outcome: ValidateOutcome }
  /** Not taken: `queue` when as many texts wait as are allowed, `stopping` once closed. */
  | { kind: 'busy'; reason: 'queue' | 'stopping' }
  /** Stopped: the text needed more than the deadline (`time`) or the heap limit (`memory`). */
  | { kind: 'limit'; reason: 'time' | 'memory' }
  /** The worker failed in a way the text does not explain (a defect; the message says how). */
  | { kind: 'failed'; message: string };

/**
 * One text's deadline and the worker's heap unless configured (`--validate-timeout`,
 * `--validate-memory`). 32 MiB loads any policy file a person writes (585 KB of 800 endpoints
 * loads in it; 16 MiB does not); the worst YAML needs a few hundred bytes of heap a byte, so past
 * some tens of KB of it the limit answers instead of the service's memory.
 */
export const DEFAULT_VALIDATE_TIMEOUT_MS = 10_000;
export const DEFAULT_VALIDATE_MEMORY_BYTES = 32 * 1024 * 1024;

export interface ValidatorOptions {
  /** One text's deadline, from when the worker takes it. */
  timeoutMs: number;
  /** The worker's old generation, in bytes (rounded up to MiB). */
  maxHeapBytes: number;
  /** Texts waiting behind the one in the worker. Default 4. */
  maxWaiting?: number;
  /** A worker idle this long is stopped (its heap returned). Default 30 s. */
  idleMs?: number;
  /** The worker's start (the policy engine's modules). Default 30 s. */
  startTimeoutMs?: number;
  /** Default: the worker thread of spawn.ts. */
  spawn?: (limits: { maxOldGenerationSizeMb: number }) => Worker;
}

export interface Validator {
  validate(text: string): Promise<ValidateResult>;
  /** Stops the worker; a text in it or waiting is answered `busy` (`stopping`). */
  close(): Promise<void>;
  /** As many texts wait as are allowed: the next would be `busy`. */
  readonly full: boolean;
  /** Workers started so far (for tests and the log). */
  readonly workersStarted: number;
  /** What one text is given (for messages). */
  readonly limits: { readonly timeoutMs: number; readonly maxHeapBytes: number };
}

interface Job {
  id: number;
  text: string;
  resolve(result: ValidateResult): void;
  timer?: NodeJS.Timeout;
}

const MiB = 1024 * 1024;

export function createValidator(options: ValidatorOptions): Validator {
  const maxWaiting = options.maxWaiting ?? 4;
  const idleMs = options.idleMs ?? 30_000;
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const spawn = options.spawn ?? spawnValidationWorker;
  const maxOldGenerationSizeMb = Math.max(1, Math.ceil(options.maxHeapBytes / MiB));

  let worker: Worker | undefined;
  let ready = false;
  let startTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let current: Job | undefined;
  const waiting: Job[] = [];
  let nextId = 1;
  let closed = false;
  let started = 0;

  const stopWorker = (): void => {
    clearTimeout(startTimer);
    clearTimeout(idleTimer);
    const w = worker;
    worker = undefined;
    ready = false;
    if (w === undefined) return;
    w.removeAllListeners();
    w.on('error', () => {}); // whatever it still reports while terminating is already answered
    void w.terminate();
  };

  const finish = (job: Job, result: ValidateResult): void => {
    if (current !== job) return;
    clearTimeout(job.timer);
    current = undefined;
    job.resolve(result);
    const next = waiting.shift();
    if (next !== undefined) {
      begin(next);
    } else if (worker !== undefined) {
      idleTimer = setTimeout(stopWorker, idleMs);
      idleTimer.unref();
    }
  };

  /** The worker is lost (crashed, out of memory, over time): the text in it gets `result`. */
  const lose = (result: ValidateResult): void => {
    stopWorker();
    if (current !== undefined) finish(current, result);
  };

  const post = (job: Job): void => {
    clearTimeout(job.timer);
    job.timer = setTimeout(() => lose({ kind: 'limit', reason: 'time' }), options.timeoutMs);
    worker!.postMessage({ id: job.id, text: job.text });
  };

  const onMessage = (message: FromWorker): void => {
    if ('ready' in message) {
      if (ready) return; // said once; a second would post the text again
      clearTimeout(startTimer);
      ready = true;
      if (current !== undefined) post(current);
      return;
    }
    if (current === undefined || message.id !== current.id) return;
    finish(
      current,
      'outcome' in message
        ? { kind: 'done', outcome: message.outcome }
        : { kind: 'failed', message: `the validation worker failed: ${message.error}` },
    );
  };

  const startWorker = (): void => {
    started++;
    let w: Worker;
    try {
      w = spawn({ maxOldGenerationSizeMb });
    } catch (error) {
      // No thread (a pid or memory limit, the permission model): this text fails, and so does
      // each next one as it comes, instead of the pool waiting on a worker that never was.
      queueMicrotask(() => lose({ kind: 'failed', message: `no validation worker: ${errorMessage(error)}` }));
      return;
    }
    worker = w;
    // An idle worker never holds the process open.
    w.unref();
    w.on('message', onMessage);
    w.on('error', (error) => {
      if (worker !== w) return;
      lose(
        (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { kind: 'limit', reason: 'memory' }
          : { kind: 'failed', message: `the validation worker failed: ${errorMessage(error)}` },
      );
    });
    w.on('exit', (code) => {
      if (worker !== w) return;
      lose({ kind: 'failed', message: `the validation worker exited (code ${code})` });
    });
    startTimer = setTimeout(
      () => lose({ kind: 'failed', message: `the validation worker did not start in ${startTimeoutMs} ms` }),
      startTimeoutMs,
    );
  };

  const begin = (job: Job): void => {
    clearTimeout(idleTimer);
    current = job;
    if (worker === undefined) startWorker();
    else if (ready) post(job);
    // else: posted when the worker says it is ready
  };

  return {
    validate(text) {
      return new Promise<ValidateResult>((resolve) => {
        if (closed) return resolve({ kind: 'busy', reason: 'stopping' });
        const job: Job = { id: nextId++, text, resolve };
        if (current === undefined) begin(job);
        else if (waiting.length >= maxWaiting) resolve({ kind: 'busy', reason: 'queue' });
        else waiting.push(job);
      });
    },
    async close() {
      closed = true;
      const left = current === undefined ? waiting.splice(0) : [current, ...waiting.splice(0)];
      current = undefined;
      stopWorker();
      for (const job of left) {
        clearTimeout(job.timer);
        job.resolve({ kind: 'busy', reason: 'stopping' });
      }
    },
    get full() {
      return current !== undefined && waiting.length >= maxWaiting;
    },
    get workersStarted() {
      return started;
    },
    limits: { timeoutMs: options.timeoutMs, maxHeapBytes: maxOldGenerationSizeMb * MiB },
  };
}
