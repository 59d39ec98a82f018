// The proxy as a running thing: listeners, the connections they accept (counted, capped,
// tracked for drain), a configuration that reload swaps for new connections only, and stop:
// stop accepting, let open connections finish up to the drain deadline, then end the rest.
import type net from 'node:net';
import type { LookupResult } from '@podgate/identity';
import type { CompiledEndpoint } from '@podgate/policy';
import { type ConnectionRecord, handleConnection, socketIp } from './connection.js';
import { type BoundListener, type ListenerPlan, ListenerSet } from './listeners.js';
import { handleRawConnection } from './raw-connection.js';
import { RawTcp, rawTcpAvailable } from './raw-tcp.js';
import { SlotSet } from './slot-set.js';
import { createTimerWheel, tickFor } from './timer-wheel.js';

export interface ProxyOptions {
  /** Peers whose PROXY header names the client; null: none. */
  trusted: { contains(ip: string): boolean } | null;
  maxConnections: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Quiet allowed once either side has sent its FIN; 0 or absent: the idle timeout alone. */
  halfCloseTimeoutMs?: number;
  proxyHeaderTimeoutMs: number;
  /**
   * `raw` (the default): connections from peers that are not trusted proxies run on libuv TCP
   * handles (raw-tcp.ts, docs/adr/0007-raw-tcp-handles.md), falling back to `net` where this Node
   * does not offer them; `net`: every connection on `net.Socket` streams.
   */
  socketLayer?: 'raw' | 'net';
}

export interface ProxyDeps {
  /** Never rejects. */
  lookup(ip: string): Promise<LookupResult>;
  /** Every connection, once over (log line and metrics). */
  onConnection(record: ConnectionRecord): void;
  /** A connection closed at once because `maxConnections` were open. */
  onOverLimit(): void;
  /** A connection's handler threw (a bug): the connection was closed. */
  onBug?(error: unknown): void;
  now(): number;
}

export interface ProxyHandle {
  listeners(): BoundListener[];
  /** Connections open now. */
  open(): number;
  /** Serve `plans` from now on; open connections keep their endpoint and decision. */
  apply(plans: readonly ListenerPlan[]): Promise<void>;
  /**
   * Stops accepting, waits up to `drainTimeoutMs` for open connections to end, then ends the
   * rest. Resolves with how many had to be ended.
   */
  stop(drainTimeoutMs: number): Promise<{ aborted: number }>;
}

export async function startProxy(
  plans: readonly ListenerPlan[],
  options: ProxyOptions,
  deps: ProxyDeps,
): Promise<ProxyHandle> {
  // Slot sets, not Sets: see slot-set.ts (a Set here kept every connection's state alive
  // through young-generation collections).
  const open = new SlotSet<{ destroy(): void } | RawTcp>();
  const aborts = new SlotSet<() => void>();
  let idle: (() => void) | undefined;
  const halfCloseMs = options.halfCloseTimeoutMs ?? 0;
  const connectionDeps = {
    lookup: deps.lookup,
    trusted: options.trusted,
    proxyHeaderTimeoutMs: options.proxyHeaderTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    halfCloseTimeoutMs: halfCloseMs,
    now: deps.now,
    onEnd: deps.onConnection,
    track(abort: () => void) {
      const slot = aborts.add(abort);
      return () => {
        aborts.remove(slot);
      };
    },
  };
  const raw = (options.socketLayer ?? 'raw') === 'raw' && rawTcpAvailable();
  const wheel = createTimerWheel(
    tickFor(options.connectTimeoutMs, options.idleTimeoutMs, ...(halfCloseMs > 0 ? [halfCloseMs] : [])),
  );
  const rawDeps = {
    lookup: deps.lookup,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    halfCloseTimeoutMs: halfCloseMs,
    now: deps.now,
    onEnd: (record: ConnectionRecord) => {
      deps.onConnection(record);
    },
    track: connectionDeps.track,
    wheel,
  };
  const acceptRaw = (conn: RawTcp, endpoint: CompiledEndpoint, listener: string) => {
    if (open.size >= options.maxConnections) {
      conn.close();
      deps.onOverLimit();
      return;
    }
    const peer = conn.peer();
    const peerIp = peer === null ? null : peer.ipv4 ? peer.address : socketIp(peer.address);
    if (peerIp !== null && options.trusted?.contains(peerIp)) {
      // A trusted proxy's PROXY header is read by the stream path.
      accept(conn.toSocket(), endpoint, listener);
      return;
    }
    const slot = open.add(conn);
    const onEnd = rawDeps.onEnd;
    handleRawConnection(
      conn,
      peer,
      { endpoint, listener },
      {
        ...rawDeps,
        onEnd: (record) => {
          open.remove(slot);
          if (open.size === 0) idle?.();
          onEnd(record);
        },
      },
    ).catch((error: unknown) => {
      conn.close();
      if (open.remove(slot) && open.size === 0) idle?.();
      deps.onBug?.(error);
    });
  };
  const accept = (socket: net.Socket | RawTcp, endpoint: CompiledEndpoint, listener: string) => {
    if (socket instanceof RawTcp) return acceptRaw(socket, endpoint, listener);
    if (open.size >= options.maxConnections) {
      // Refused politely: closed before a byte is read or a lookup made.
      socket.on('error', () => {});
      socket.destroy();
      deps.onOverLimit();
      return;
    }
    const slot = open.add(socket);
    socket.once('close', () => {
      open.remove(slot);
      if (open.size === 0) idle?.();
    });
    // handleConnection answers every outcome itself; anything it throws is a bug, and must
    // cost this connection, never the process.
    handleConnection(socket, { endpoint, listener }, connectionDeps).catch((error: unknown) => {
      socket.destroy();
      deps.onBug?.(error);
    });
  };
  const listeners = new ListenerSet(accept, raw);
  await listeners.apply(plans);

  return {
    listeners: () => listeners.bound(),
    open: () => open.size,
    apply: (next) => listeners.apply(next),
    async stop(drainTimeoutMs) {
      await listeners.close();
      if (open.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainTimeoutMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const aborted = open.size;
      for (const abort of aborts.values()) abort();
      // Connections still deciding (a lookup, an upstream connect) have no splice to abort.
      for (const socket of open.values()) {
        if (socket instanceof RawTcp) socket.close();
        else socket.destroy();
      }
      // The wheel is left running: a connection still connecting to its upstream is ended by
      // its connect deadline (it sees its client closed), and the wheel stops itself once
      // empty. Stopping it here left such a connect pending, unrecorded, until the kernel gave up.
      return { aborted };
    },
  };
}
