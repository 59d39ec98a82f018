// splice.ts for raw TCP handles (raw-tcp.ts): the same promises, without streams. Bytes each way
// with backpressure (a write queue past WRITE_HIGH_WATER stops reading the other side until it
// drains), half-close (a FIN is passed on once what was queued before it is written), the idle
// and half-close timeouts on the shared timer wheel, and on an error the other side reset, both
// closed.
import type { RawTcp } from './raw-tcp.js';
import type { SpliceEnd, SpliceResult } from './splice.js';
import type { TimerWheel, WheelEntry } from './timer-wheel.js';

/** Bytes one side sends before it reads into a buffer of its own (a bulk transfer). */
export const OWN_BUFFER_AFTER = 1024 * 1024;

export interface RawSplice {
  /** Closes both sockets now; the result says `aborted` unless it had already ended. */
  abort(): void;
}

/**
 * `head`: bytes read from the client before the splice, written first. `clientEnded`: the client's
 * FIN was read with them. `done` is called once, when both sockets are closed.
 */
export function rawSplice(
  client: RawTcp,
  upstream: RawTcp,
  options: {
    wheel: TimerWheel;
    idleTimeoutMs: number;
    /** Quiet allowed once either side has sent its FIN; 0 or absent: the idle timeout alone. */
    halfCloseTimeoutMs?: number;
    head: readonly Buffer[];
    clientEnded: boolean;
    done: (result: SpliceResult) => void;
  },
): RawSplice {
  let fromClient = 0;
  let fromUpstream = 0;
  // Each direction: its FIN read, and passed on (shutdown done, or to be sent by the close).
  let clientEof = false;
  let upstreamEof = false;
  let clientFinSent = false;
  let upstreamFinSent = false;
  let over = false;
  let halfClosed = false;
  // One wheel entry for both deadlines: the first FIN shortens it (see halfClose below).
  const idle: WheelEntry = options.wheel.add(options.idleTimeoutMs, () =>
    finish(halfClosed ? 'half_close_timeout' : 'idle_timeout'),
  );
  const halfCloseMs = options.halfCloseTimeoutMs ?? 0;
  const halfClose = () => {
    if (halfClosed || halfCloseMs <= 0 || halfCloseMs >= options.idleTimeoutMs) return;
    halfClosed = true;
    options.wheel.retime(idle, halfCloseMs);
  };

  const finish = (end: SpliceEnd, error?: string) => {
    if (over) return;
    over = true;
    options.wheel.remove(idle);
    // A failed side is passed on as a reset, never as a clean end: a peer that reads to EOF must
    // not take a truncated stream for a whole one.
    if (end === 'client_error') {
      upstream.reset();
      client.close();
    } else if (end === 'upstream_error') {
      client.reset();
      upstream.close();
    } else {
      client.close();
      upstream.close();
    }
    options.done({
      end,
      bytesFromClient: fromClient,
      bytesFromUpstream: fromUpstream,
      ...(error !== undefined ? { error } : {}),
    });
  };
  const maybeDone = () => {
    if (clientEof && upstreamEof && clientFinSent && upstreamFinSent) finish('closed');
  };
  // Passes a FIN on to `to`. When `to` has sent its own FIN already and nothing is queued for it,
  // closing it sends the FIN: one system call instead of a shutdown and a close.
  const passFin = (to: RawTcp, toEof: boolean, sent: () => void, failed: (code: string) => void) => {
    if (toEof && to.pending === 0) {
      sent();
      maybeDone();
      return;
    }
    to.shutdown((error) => {
      if (over) return;
      if (error !== null) return failed(error);
      sent();
      maybeDone();
    });
  };

  // A chunk read into a socket's own buffer is overwritten by its next read: while a write of
  // one is queued, the reader waits for the drain.
  client.onData = (chunk) => {
    fromClient += chunk.length;
    idle.active = true;
    if (!upstream.write(chunk) || (client.readBuffer !== null && upstream.pending > 0)) client.readStop();
    if (fromClient >= OWN_BUFFER_AFTER && client.readBuffer === null) client.ownReadBuffer();
  };
  upstream.onData = (chunk) => {
    fromUpstream += chunk.length;
    idle.active = true;
    if (!client.write(chunk) || (upstream.readBuffer !== null && client.pending > 0)) upstream.readStop();
    if (fromUpstream >= OWN_BUFFER_AFTER && upstream.readBuffer === null) upstream.ownReadBuffer();
  };
  upstream.onDrain = () => {
    idle.active = true;
    if (!clientEof) client.readStart();
  };
  client.onDrain = () => {
    idle.active = true;
    if (!upstreamEof) upstream.readStart();
  };
  const onClientEnd = () => {
    clientEof = true;
    idle.active = true;
    halfClose();
    passFin(
      upstream,
      upstreamEof,
      () => {
        upstreamFinSent = true;
      },
      (code) => finish('upstream_error', code),
    );
  };
  client.onEnd = onClientEnd;
  upstream.onEnd = () => {
    upstreamEof = true;
    idle.active = true;
    halfClose();
    passFin(
      client,
      clientEof,
      () => {
        clientFinSent = true;
      },
      (code) => finish('client_error', code),
    );
  };
  client.onError = (code) => finish('client_error', code);
  upstream.onError = (code) => finish('upstream_error', code);

  let flowing = true;
  for (const chunk of options.head) {
    fromClient += chunk.length;
    if (!upstream.write(chunk)) flowing = false;
  }
  if (options.clientEnded) onClientEnd();
  else if (flowing) client.readStart();
  // Not flowing: upstream.onDrain starts the client's reads.
  else client.readStop();
  upstream.readStart();
  return { abort: () => finish('aborted') };
}
