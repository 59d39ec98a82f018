// One accepted connection, in the order the product promises:
// 1. who the client is: the socket's peer, or (only for a trusted peer) its PROXY header;
// 2. one identity lookup with a deadline: the snapshot for the connection's whole life;
// 3. the endpoint's on_tcp_connect rules;
// 4. close (nothing reaches the upstream, not one byte) or forward.
// It never throws: every path ends in one ConnectionRecord for the log line and metrics.
import type { Socket } from 'node:net';
import { type LookupResult, tryNormalizeIp } from '@podgate/identity';
import type { CompiledEndpoint, Decision, ForwardTarget } from '@podgate/policy';
import { encodeProxyHeader, type ProxyHeader, readProxyHeader } from '@podgate/proxy-protocol';
import { formatHostPort } from '@podgate/runtime';
import { afterConnectFailure } from './after-connect-failure.js';
import { decideConnection } from './decide-connection.js';
import { type SpliceEnd, splice } from './splice.js';
import { connectUpstream, type UpstreamFailure, type UpstreamResult } from './upstream.js';

/** How a connection ended, as logs and metrics name it. */
export type ConnectionEnd =
  | SpliceEnd
  | 'denied' // the policy closed it
  | 'proxy_header_refused' // a trusted peer sent no valid PROXY header in time
  | 'client_gone' // the client left before the decision was carried out
  | 'client_unidentifiable' // the socket reported no address Podgate can read
  | UpstreamFailure;

export interface ClientAddress {
  ip: string;
  port: number;
  /** Where the address came from: the TCP peer, or a trusted peer's PROXY header. */
  from: 'socket' | 'proxy_v1' | 'proxy_v2';
}

export interface ConnectionRecord {
  endpoint: string;
  /** `host:port` of the listener. */
  listener: string;
  client: ClientAddress;
  /** The TCP peer, when the client address came from a PROXY header. */
  peer?: { ip: string; port: number };
  lookup?: LookupResult;
  lookupMs?: number;
  decision?: Decision;
  /** The endpoint is in dry-run and its policy refused: `decision` is what it would have done. */
  dryRun?: boolean;
  upstream?: string;
  bytesFromClient: number;
  bytesFromUpstream: number;
  durationMs: number;
  end: ConnectionEnd;
  error?: { code: string; message: string };
}

export interface ConnectionContext {
  /** The endpoint as configured when the connection was accepted (a reload does not touch it). */
  endpoint: CompiledEndpoint;
  listener: string;
}

export interface ConnectionDeps {
  /** Never rejects (the store answers store_unavailable past its deadline). */
  lookup(ip: string): Promise<LookupResult>;
  /** Peers whose PROXY header names the client; null when none are trusted. */
  trusted: { contains(ip: string): boolean } | null;
  proxyHeaderTimeoutMs: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** Quiet allowed once either side has sent its FIN; 0 or absent: the idle timeout alone. */
  halfCloseTimeoutMs?: number;
  /** Monotonic milliseconds. */
  now(): number;
  /** Called once the connection is over, with everything the log line says. */
  onEnd(record: ConnectionRecord): void;
  /** Called with the splice's abort, so a drain past its deadline can end the connection. */
  track(abort: () => void): () => void;
}

export async function handleConnection(
  socket: Socket,
  context: ConnectionContext,
  deps: ConnectionDeps,
): Promise<void> {
  const started = deps.now();
  const startedAt = new Date();
  // Until the splice takes over: an error (a reset during the lookup) must not crash us.
  let clientGone = false;
  const onEarlyError = () => {
    clientGone = true;
  };
  socket.on('error', onEarlyError);
  socket.once('close', onEarlyError);
  const peerIp = socketIp(socket.remoteAddress);
  const peerPort = socket.remotePort ?? 0;
  const record: ConnectionRecord = {
    endpoint: context.endpoint.url.href,
    listener: context.listener,
    client: { ip: peerIp ?? String(socket.remoteAddress ?? ''), port: peerPort, from: 'socket' },
    bytesFromClient: 0,
    bytesFromUpstream: 0,
    durationMs: 0,
    end: 'denied',
  };
  const finish = (end: ConnectionEnd, error?: { code: string; message: string }) => {
    record.end = end;
    if (error !== undefined) record.error = error;
    record.durationMs = deps.now() - started;
    socket.removeListener('error', onEarlyError);
    socket.removeListener('close', onEarlyError);
    deps.onEnd(record);
  };
  const refuse = (end: ConnectionEnd, error?: { code: string; message: string }) => {
    // The socket may hold unread client bytes: destroy sends them nowhere.
    socket.destroy();
    finish(end, error);
  };

  // 1. Who the client is.
  // No address at all: the client reset before it could be read (getpeername answers ENOTCONN).
  if (socket.remoteAddress === undefined) {
    refuse('client_gone');
    return;
  }
  if (peerIp === null) {
    refuse('client_unidentifiable', {
      code: 'client_unidentifiable',
      message: `the socket's peer address ${JSON.stringify(socket.remoteAddress ?? null)} is not an IP address`,
    });
    return;
  }
  let head: Buffer | undefined;
  let serverIp = socketIp(socket.localAddress) ?? '0.0.0.0';
  let serverPort = socket.localPort ?? 0;
  if (deps.trusted?.contains(peerIp)) {
    const read = await readProxyHeader(socket, { deadlineMs: deps.proxyHeaderTimeoutMs });
    if (read.status === 'refused') {
      refuse('proxy_header_refused', { code: `proxy_header_${read.code}`, message: read.message });
      return;
    }
    const client = clientFromHeader(read.header);
    if (client === null) {
      refuse('proxy_header_refused', {
        code: 'proxy_header_unusable',
        message: 'the PROXY header names an AF_UNIX client, which has no IP to identify',
      });
      return;
    }
    if (client !== 'socket') {
      record.peer = { ip: peerIp, port: peerPort };
      record.client = client;
      if (read.header.addresses?.family !== 'unix' && read.header.addresses !== null) {
        serverIp = socketIp(read.header.addresses.destination.address) ?? serverIp;
        serverPort = read.header.addresses.destination.port;
      }
    }
    head = read.payload.length > 0 ? read.payload : undefined;
  }

  // 2. One lookup: the identity snapshot for the connection's life.
  const lookupStarted = deps.now();
  const lookup = await deps.lookup(record.client.ip);
  record.lookupMs = deps.now() - lookupStarted;
  record.lookup = lookup;

  // 3. The rules.
  const decided = decideConnection(
    context.endpoint,
    { clientIp: record.client.ip, clientPort: record.client.port, serverIp, serverPort, startedAt },
    lookup,
    record,
  );
  const decision = decided.decision;
  let target = decided.target;
  if (target === undefined) {
    refuse('denied');
    return;
  }

  // 4. Forward. A failed connect to a forward-internal with on_error: continue goes on with
  // the later rules (Decision.resume), which may forward elsewhere or refuse.
  let current = decision;
  let upstream: UpstreamResult;
  for (;;) {
    if (clientGone || socket.destroyed) {
      refuse('client_gone');
      return;
    }
    record.upstream = formatHostPort(target);
    upstream = await connectUpstream({
      host: target.host,
      port: target.port,
      timeoutMs: deps.connectTimeoutMs,
      now: deps.now,
      ...headerFor(target, record.client, serverIp, serverPort),
    });
    if (upstream.ok) break;
    const after = afterConnectFailure(current, upstream);
    current = after.decision;
    record.decision = current;
    if (after.next === 'refuse') {
      refuse(after.end, { code: upstream.code, message: upstream.message });
      return;
    }
    target = after.target;
  }
  if (clientGone || socket.destroyed) {
    upstream.socket.destroy();
    refuse('client_gone');
    return;
  }
  socket.removeListener('error', onEarlyError);
  socket.removeListener('close', onEarlyError);
  const piped = splice(socket, upstream.socket, {
    idleTimeoutMs: deps.idleTimeoutMs,
    halfCloseTimeoutMs: deps.halfCloseTimeoutMs ?? 0,
    ...(head !== undefined ? { head } : {}),
  });
  const untrack = deps.track(piped.abort);
  const result = await piped.done;
  untrack();
  record.bytesFromClient = result.bytesFromClient;
  record.bytesFromUpstream = result.bytesFromUpstream;
  finish(result.end, result.error !== undefined ? { code: result.end, message: result.error } : undefined);
}

/**
 * A socket address as the store keys it, or null. A link-local IPv6 peer comes with its zone
 * (`fe80::1%eth0`): the zone names our interface, not the peer, so it is dropped.
 */
export function socketIp(address: string | undefined): string | null {
  if (address === undefined) return null;
  const zone = address.indexOf('%');
  return tryNormalizeIp(zone < 0 ? address : address.slice(0, zone));
}

/** The client a trusted peer's header names: an address, 'socket' (use the peer's), or null. */
function clientFromHeader(header: ProxyHeader): ClientAddress | 'socket' | null {
  const client = header.client;
  if (client.use === 'socket') return 'socket';
  if (client.use === 'none') return null;
  return { ip: client.address, port: client.port, from: header.version === 1 ? 'proxy_v1' : 'proxy_v2' };
}

/** The PROXY header the upstream asked for, naming the original client. */
export function headerFor(
  target: ForwardTarget,
  client: ClientAddress,
  serverIp: string,
  serverPort: number,
): { header?: Buffer } {
  if (target.proxyProtocolVersion === undefined) return {};
  return {
    header: encodeProxyHeader(target.proxyProtocolVersion, {
      source: { address: client.ip, port: client.port },
      destination: { address: serverIp, port: serverPort },
    }),
  };
}
