// A real loopback server that runs readProxyHeader on every connection it accepts, as the
// proxy will, and records what the helper left behind: listeners on the socket, timers that
// were neither cleared nor fired, and whether the socket was left paused.
import { createServer, type Server, type Socket } from 'node:net';
import {
  type DeadlineTimers,
  type ReadProxyHeaderOptions,
  type ReadProxyHeaderResult,
  readProxyHeader,
} from '../read.js';

const EVENTS = ['data', 'end', 'close', 'error', 'readable'] as const;

export interface Leftovers {
  /** Listener counts per event after the answer, minus those before the call. */
  readonly listeners: Record<string, number>;
  /** Timers started and still pending after the answer. */
  readonly pendingTimers: number;
  readonly paused: boolean;
}

export interface Accepted {
  /** The server side of the connection. */
  readonly socket: Socket;
  readonly result: Promise<ReadProxyHeaderResult>;
  readonly leftovers: Promise<Leftovers>;
  readonly startedAt: number;
}

export interface ReaderServer {
  readonly host: string;
  readonly port: number;
  /** The next connection the server accepted, in order. */
  accepted(): Promise<Accepted>;
  close(): Promise<void>;
}

/** Timers that count how many are pending: real timers, only counted. */
function countingTimers(): { timers: DeadlineTimers; pending: () => number } {
  const live = new Set<NodeJS.Timeout>();
  return {
    timers: {
      setTimeout(callback, ms) {
        const handle: NodeJS.Timeout = setTimeout(() => {
          live.delete(handle);
          callback();
        }, ms);
        live.add(handle);
        return handle;
      },
      clearTimeout(handle) {
        live.delete(handle as NodeJS.Timeout);
        clearTimeout(handle as NodeJS.Timeout);
      },
    },
    pending: () => live.size,
  };
}

export async function startReaderServer(
  options: Omit<ReadProxyHeaderOptions, 'timers'>,
  host = '127.0.0.1',
  serverOptions: { pauseOnConnect?: boolean } = {},
): Promise<ReaderServer> {
  const queue: Accepted[] = [];
  const waiters: Array<(a: Accepted) => void> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(serverOptions, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The proxy keeps an error listener of its own; so does this server.
    socket.on('error', () => {});
    const before = Object.fromEntries(EVENTS.map((e) => [e, socket.listenerCount(e)]));
    const { timers, pending } = countingTimers();
    const startedAt = performance.now();
    const result = readProxyHeader(socket, { ...options, timers });
    const leftovers = result.then(() => ({
      listeners: Object.fromEntries(EVENTS.map((e) => [e, socket.listenerCount(e) - before[e]!])),
      pendingTimers: pending(),
      paused: socket.isPaused(),
    }));
    const accepted: Accepted = { socket, result, leftovers, startedAt };
    const waiter = waiters.shift();
    if (waiter) waiter(accepted);
    else queue.push(accepted);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('reader server has no port');
  return {
    host,
    port: address.port,
    accepted: () => {
      const next = queue.shift();
      return next ? Promise.resolve(next) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Everything the socket delivers from now until the peer ends. */
export function readToEnd(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.resume();
  });
}
