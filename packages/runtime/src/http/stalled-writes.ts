// Connections whose answers stopped moving are closed.
//
// A client that stops reading keeps what was written for it: in the kernel's send buffer, and
// past it in the process. Node has no deadline for that once a request has arrived (its
// request timeouts stop at the request). The pipelining bound (server.ts) keeps it to a few
// answers a connection, but connections are not counted, so many of them still add up, on
// ports that need no token (/metrics, /openapi.json). A per-socket timer would say when a
// socket goes quiet, but Node refreshes it on every read and write: it cost about 5% more CPU
// per answer, measured. So a sweep instead: every half interval, a connection with bytes still
// waiting to go out that has handed nothing more to the kernel since the last sweep is closed.
// It costs a set entry per connection and nothing per request.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** How long an answer may sit unsent, with no progress, before its connection is closed. */
export const DEFAULT_STALLED_WRITE_MS = 60_000;

/** Bytes handed to the kernel (or to libuv's queue): what was written less what still waits. */
function dispatched(socket: Socket): number {
  return socket.bytesWritten - socket.writableLength;
}

/**
 * Starts the sweep on `server`'s connections; returns its stop. A connection is closed once its
 * answer has made no progress for between half of `stalledMs` and all of it.
 */
export function closeStalledWrites(server: Server, stalledMs = DEFAULT_STALLED_WRITE_MS): () => void {
  /** Every open connection, with what it had dispatched at the last sweep that found it waiting. */
  const connections = new Map<Socket, number | null>();
  const track = (socket: Socket) => {
    connections.set(socket, null);
    socket.once('close', () => connections.delete(socket));
  };
  server.on('connection', track);
  const timer = setInterval(
    () => {
      for (const [socket, before] of connections) {
        if (socket.writableLength === 0) {
          if (before !== null) connections.set(socket, null);
          continue;
        }
        const now = dispatched(socket);
        if (before === now) socket.destroy();
        else connections.set(socket, now);
      }
    },
    Math.max(1, Math.floor(stalledMs / 2)),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    server.off('connection', track);
    connections.clear();
  };
}
