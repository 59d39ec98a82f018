// Reading a PROXY header off a just-accepted socket, for the proxy's trusted-peer path. The
// deadline bounds a slow or silent sender (the spec suggests at least 3 s to cover a TCP
// retransmit); the parser bounds the bytes held. Whatever happens, the helper removes its
// listeners and timer and leaves the socket paused: it never writes to it, ends it or
// destroys it; the caller does that on a refusal.
import type { Socket } from 'node:net';
import { ProxyProtocolError, type ReadRefusalCode } from './errors.js';
import { ProxyHeaderParser } from './parser.js';
import type { ParserOptions, ProxyHeader } from './types.js';

// setTimeout's largest delay; longer ones fire at once.
const MAX_DEADLINE_MS = 2 ** 31 - 1;

/** The timer functions the deadline uses; the globals unless given (tests count them). */
export interface DeadlineTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: DeadlineTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReadProxyHeaderOptions extends ParserOptions {
  /** Give up with `timeout` when the header is not complete this many ms after the call. */
  readonly deadlineMs: number;
  /** Give up with `aborted` (for example when the proxy shuts down). */
  readonly signal?: AbortSignal;
  readonly timers?: DeadlineTimers;
}

export type ReadProxyHeaderResult =
  | {
      readonly status: 'complete';
      readonly header: ProxyHeader;
      /** Bytes read after the header: write them upstream before piping the socket. */
      readonly payload: Buffer;
      readonly bytesRead: number;
    }
  | {
      readonly status: 'refused';
      readonly code: ReadRefusalCode;
      readonly message: string;
      readonly bytesRead: number;
      readonly cause?: unknown;
    };

/**
 * Read from `socket` until a PROXY header is complete or refused, the deadline passes, the
 * socket ends or fails, or `signal` aborts. Bad options and a socket with an encoding set
 * throw `invalid_options` at once; everything the peer does is an answer, never a throw.
 */
export function readProxyHeader(
  socket: Socket,
  options: ReadProxyHeaderOptions,
): Promise<ReadProxyHeaderResult> {
  const { deadlineMs, signal, timers = GLOBAL_TIMERS } = options;
  if (
    typeof deadlineMs !== 'number' ||
    !Number.isFinite(deadlineMs) ||
    deadlineMs <= 0 ||
    deadlineMs > MAX_DEADLINE_MS
  ) {
    throw new ProxyProtocolError(
      'invalid_options',
      `deadlineMs must be a number from 1 to ${MAX_DEADLINE_MS}`,
    );
  }
  if (socket.readableEncoding !== null) {
    throw new ProxyProtocolError(
      'invalid_options',
      'the socket has an encoding set; a PROXY header is bytes',
    );
  }
  const parser = new ProxyHeaderParser(options);

  return new Promise((resolve) => {
    let bytesRead = 0;
    let timer: unknown;
    let settled = false;

    const finish = (result: ReadProxyHeaderResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      // Stop the flow 'data' started, so nothing after the header is emitted to no one.
      socket.pause();
      resolve(result);
    };
    const refuse = (code: ReadRefusalCode, message: string, cause?: unknown): void =>
      finish(
        cause === undefined
          ? { status: 'refused', code, message, bytesRead }
          : { status: 'refused', code, message, bytesRead, cause },
      );

    function onData(chunk: Buffer): void {
      bytesRead += chunk.length;
      const result = parser.push(chunk);
      if (result.status === 'incomplete') return;
      if (result.status === 'refused') {
        refuse(result.code, result.message);
        return;
      }
      finish({ status: 'complete', header: result.header, payload: result.payload, bytesRead });
    }
    function onEnd(): void {
      refuse('closed', `the peer ended the connection after ${bytesRead} bytes, before a whole PROXY header`);
    }
    function onClose(): void {
      refuse('closed', `the connection closed after ${bytesRead} bytes, before a whole PROXY header`);
    }
    function onError(error: Error): void {
      refuse('socket_error', `socket error before a whole PROXY header: ${error.message}`, error);
    }
    function onAbort(): void {
      refuse('aborted', 'reading the PROXY header was aborted');
    }

    if (signal?.aborted) {
      onAbort();
      return;
    }
    if (socket.destroyed || socket.readableEnded) {
      onClose();
      return;
    }
    socket.on('error', onError);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    timer = timers.setTimeout(
      () => refuse('timeout', `no whole PROXY header within ${deadlineMs} ms (${bytesRead} bytes arrived)`),
      deadlineMs,
    );
    socket.on('data', onData);
    // A 'data' listener does not start a socket that was explicitly paused (a server with
    // pauseOnConnect): resume it, or the header would never be read.
    socket.resume();
  });
}
