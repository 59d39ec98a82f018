// Both directions of a forwarded connection, once the decision is made: bytes each way with
// backpressure (a slow reader pauses the other side instead of growing a buffer), half-close
// honoured (a FIN from one side is passed on while the other keeps sending), an idle timeout
// and a shorter one once either side has sent its FIN, and both sockets destroyed on any error.
// Resolves once both sockets are closed; never rejects.
import type { Socket } from 'node:net';

export type SpliceEnd =
  | 'closed' // both sides finished (FIN both ways)
  | 'idle_timeout' // no byte either way for the idle timeout
  | 'half_close_timeout' // a FIN from one side, then no byte either way for the half-close timeout
  | 'client_error' // the client's socket failed (e.g. reset)
  | 'upstream_error' // the upstream's socket failed
  | 'aborted'; // abort() (drain deadline passed, shutdown)

export interface SpliceResult {
  end: SpliceEnd;
  /** Bytes read from the client and written towards the upstream. */
  bytesFromClient: number;
  /** Bytes read from the upstream and written towards the client. */
  bytesFromUpstream: number;
  error?: string;
}

export interface Splice {
  done: Promise<SpliceResult>;
  /** Destroys both sockets now; `done` resolves with `aborted` unless already ended. */
  abort(): void;
}

export interface SpliceOptions {
  idleTimeoutMs: number;
  /** Quiet allowed once either side has sent its FIN; 0 or absent: the idle timeout alone. */
  halfCloseTimeoutMs?: number;
  /** Bytes the client sent before the splice (read with a PROXY header): written first. */
  head?: Buffer;
}

/**
 * Both sockets must have been created with `allowHalfOpen: true`, or a FIN from one side
 * would close it for both directions.
 */
export function splice(client: Socket, upstream: Socket, options: SpliceOptions): Splice {
  let end: SpliceEnd | undefined;
  let error: string | undefined;
  let fromClient = options.head?.length ?? 0;
  let fromUpstream = 0;
  let closed = 0;
  let resolveDone!: (r: SpliceResult) => void;
  const done = new Promise<SpliceResult>((resolve) => {
    resolveDone = resolve;
  });

  const finish = (why: SpliceEnd, err?: unknown) => {
    if (end === undefined) {
      end = why;
      if (err !== undefined) error = err instanceof Error ? err.message : String(err);
    }
    // A failed side is passed on as a reset, never as a clean end: a peer that reads to EOF
    // must not take a truncated stream for a whole one.
    if (why === 'client_error') resetOrDestroy(upstream);
    else if (why === 'upstream_error') resetOrDestroy(client);
    client.destroy();
    upstream.destroy();
  };
  const onClose = () => {
    // The first to close is done both ways (or failed, and finish destroyed both); the other
    // follows once its own FINs are through, or at the idle timeout.
    if (++closed < 2) return;
    resolveDone({
      end: end ?? 'closed',
      bytesFromClient: fromClient,
      bytesFromUpstream: fromUpstream,
      ...(error !== undefined ? { error } : {}),
    });
  };

  // Reads of one side become writes on the other; a full write buffer pauses the reader.
  client.on('data', (chunk: Buffer) => {
    fromClient += chunk.length;
    if (!upstream.write(chunk)) client.pause();
  });
  upstream.on('data', (chunk: Buffer) => {
    fromUpstream += chunk.length;
    if (!client.write(chunk)) upstream.pause();
  });
  upstream.on('drain', () => client.resume());
  client.on('drain', () => upstream.resume());
  // Half-close: pass the FIN on, keep the other direction open. A socket closes by itself
  // once it has both read and written its FIN (and flushed what it was still writing), so a
  // clean end destroys nothing: destroying would drop bytes still queued for a slow reader.
  client.on('end', () => {
    halfClose();
    upstream.end();
  });
  upstream.on('end', () => {
    halfClose();
    client.end();
  });
  client.on('error', (err) => finish('client_error', err));
  upstream.on('error', (err) => finish('upstream_error', err));
  client.on('close', onClose);
  upstream.on('close', onClose);
  let halfClosed = false;
  const halfCloseMs = options.halfCloseTimeoutMs ?? 0;
  const onIdle = () => finish(halfClosed ? 'half_close_timeout' : 'idle_timeout');
  client.setTimeout(options.idleTimeoutMs, onIdle);
  upstream.setTimeout(options.idleTimeoutMs, onIdle);
  // Each socket's timer restarts on its own reads and writes, so in the half-closed state too
  // the deadline counts quiet, not time since the FIN (HAProxy's client-fin/server-fin).
  const halfClose = () => {
    if (halfClosed || halfCloseMs <= 0 || halfCloseMs >= options.idleTimeoutMs) return;
    halfClosed = true;
    if (!client.destroyed) client.setTimeout(halfCloseMs);
    if (!upstream.destroyed) upstream.setTimeout(halfCloseMs);
  };

  if (options.head !== undefined && options.head.length > 0) {
    if (!upstream.write(options.head)) client.pause();
  }
  // A FIN that came while someone else was reading (the PROXY header reader) was emitted
  // before these listeners: pass it on now.
  if (client.readableEnded) {
    halfClose();
    upstream.end();
  }
  client.resume();
  upstream.resume();
  return { done, abort: () => finish('aborted') };
}

function resetOrDestroy(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy throws on a socket that is not connected (already ended, say).
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
