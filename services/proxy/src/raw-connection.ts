// connection.ts on raw TCP handles, for a peer that is not a trusted proxy (so no PROXY header to
// read): the same steps, outcomes and record. Until the decision the client is read into at most
// PRE_READ_LIMIT bytes in PRE_READ_CHUNKS reads (so a reset during the lookup is seen, and a
// flood is not read into memory); a refused connection is closed with what it sent unread or
// dropped, never forwarded.
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import type { Decision, ForwardTarget } from '@podgate/policy';
import { formatHostPort } from '@podgate/runtime';
import { afterConnectFailure } from './after-connect-failure.js';
import {
  type ConnectionContext,
  type ConnectionDeps,
  type ConnectionEnd,
  type ConnectionRecord,
  headerFor,
  socketIp,
} from './connection.js';
import { decideConnection } from './decide-connection.js';
import { rawSplice } from './raw-splice.js';
import { type RawTcp, rawConnect } from './raw-tcp.js';
import type { TimerWheel } from './timer-wheel.js';
import type { UpstreamFailure } from './upstream.js';

/** Bytes read from a client before its decision; past it, reading stops until the splice. */
export const PRE_READ_LIMIT = 64 * 1024;
/**
 * Reads before the decision; past it, reading stops too. Each read is held as its own buffer
 * (a few hundred bytes of bookkeeping however small it is): a client sending one byte per
 * segment during a slow lookup would otherwise make the proxy hold 64 Ki of them.
 */
export const PRE_READ_CHUNKS = 64;

export interface RawConnectionDeps extends Omit<ConnectionDeps, 'trusted' | 'proxyHeaderTimeoutMs'> {
  wheel: TimerWheel;
}

type Connected = { ok: true; conn: RawTcp } | { ok: false; code: UpstreamFailure; message: string };

export async function handleRawConnection(
  client: RawTcp,
  peer: { address: string; port: number; ipv4: boolean } | null,
  context: ConnectionContext,
  deps: RawConnectionDeps,
): Promise<void> {
  const started = deps.now();
  const startedAt = new Date();
  // The kernel writes IPv4 peers as a canonical dotted quad: the store's spelling already.
  const peerIp = peer === null ? null : peer.ipv4 ? peer.address : socketIp(peer.address);
  const record: ConnectionRecord = {
    endpoint: context.endpoint.url.href,
    listener: context.listener,
    client: { ip: peerIp ?? String(peer?.address ?? ''), port: peer?.port ?? 0, from: 'socket' },
    bytesFromClient: 0,
    bytesFromUpstream: 0,
    durationMs: 0,
    end: 'denied',
  };
  const finish = (end: ConnectionEnd, error?: { code: string; message: string }) => {
    record.end = end;
    if (error !== undefined) record.error = error;
    record.durationMs = deps.now() - started;
    deps.onEnd(record);
  };
  const refuse = (end: ConnectionEnd, error?: { code: string; message: string }) => {
    client.close();
    finish(end, error);
  };
  // No address at all: the client reset before it could be read (getpeername answers ENOTCONN).
  if (peer === null) {
    refuse('client_gone');
    return;
  }
  if (peerIp === null) {
    refuse('client_unidentifiable', {
      code: 'client_unidentifiable',
      message: `the socket's peer address ${JSON.stringify(peer?.address ?? null)} is not an IP address`,
    });
    return;
  }

  // Read ahead while deciding, bounded: what the client sends first is forwarded first.
  const head: Buffer[] = [];
  let headBytes = 0;
  let clientEnded = false;
  let clientGone = false;
  client.onData = (chunk) => {
    head.push(chunk);
    headBytes += chunk.length;
    if (headBytes >= PRE_READ_LIMIT || head.length >= PRE_READ_CHUNKS) client.readStop();
  };
  client.onEnd = () => {
    clientEnded = true;
  };
  client.onError = () => {
    clientGone = true;
    client.close();
  };
  client.readStart();

  const local = client.local();
  const serverIp = socketIp(local?.address) ?? '0.0.0.0';
  const serverPort = local?.port ?? 0;
  const lookupStarted = deps.now();
  const lookup = await deps.lookup(peerIp);
  record.lookupMs = deps.now() - lookupStarted;
  record.lookup = lookup;
  const decided = decideConnection(
    context.endpoint,
    { clientIp: peerIp, clientPort: record.client.port, serverIp, serverPort, startedAt },
    lookup,
    record,
  );
  const decision = decided.decision;
  let target = decided.target;
  if (target === undefined) {
    refuse('denied');
    return;
  }

  let current: Decision = decision;
  let upstream: RawTcp;
  for (;;) {
    if (clientGone || client.closed) {
      refuse('client_gone');
      return;
    }
    record.upstream = formatHostPort(target);
    const connected = await connect(target, deps);
    if (connected.ok) {
      upstream = connected.conn;
      break;
    }
    const after = afterConnectFailure(current, connected);
    current = after.decision;
    record.decision = current;
    if (after.next === 'refuse') {
      refuse(after.end, { code: connected.code, message: connected.message });
      return;
    }
    target = after.target;
  }
  if (clientGone || client.closed) {
    upstream.close();
    refuse('client_gone');
    return;
  }
  const header = headerFor(target, record.client, serverIp, serverPort).header;
  if (header !== undefined) {
    // A write that fails at once (the upstream reset right after its accept) reports through
    // onError before the splice sets its own, and only once: caught here and ended as the splice
    // ends an upstream error (the client reset, so it cannot take this for a clean end).
    let failed: string | undefined;
    upstream.onError = (code) => {
      failed = code;
    };
    upstream.write(header);
    if (failed !== undefined) {
      client.reset();
      upstream.close();
      finish('upstream_error', { code: 'upstream_error', message: failed });
      return;
    }
  }
  // Not awaited: the splice calls back once both sockets are closed.
  let ended = false;
  let untrack = () => {};
  const splice = rawSplice(client, upstream, {
    wheel: deps.wheel,
    idleTimeoutMs: deps.idleTimeoutMs,
    halfCloseTimeoutMs: deps.halfCloseTimeoutMs ?? 0,
    head,
    clientEnded,
    done: (result) => {
      ended = true;
      untrack();
      record.bytesFromClient = result.bytesFromClient;
      record.bytesFromUpstream = result.bytesFromUpstream;
      finish(
        result.end,
        result.error !== undefined ? { code: result.end, message: result.error } : undefined,
      );
    },
  });
  // A write that failed at once may have ended it already.
  if (!ended) untrack = deps.track(splice.abort);
}

/** A raw connection to `target` within the connect timeout, a name's resolution included. */
function connect(target: ForwardTarget, deps: RawConnectionDeps): Promise<Connected> {
  const where = formatHostPort(target);
  return new Promise((resolve) => {
    let settled = false;
    let conn: RawTcp | undefined;
    const settle = (result: Connected) => {
      if (settled) {
        if (result.ok) result.conn.close();
        return;
      }
      settled = true;
      deps.wheel.remove(deadline);
      resolve(result);
    };
    const deadline = deps.wheel.add(deps.connectTimeoutMs, () => {
      conn?.close();
      settle({
        ok: false,
        code: 'connect_timeout',
        message: `no connection to ${where} within ${deps.connectTimeoutMs} ms`,
      });
    });
    const open = (address: string) => {
      if (settled) return;
      conn = rawConnect(address, target.port, (error, c) => {
        if (error === null) return settle({ ok: true, conn: c });
        c.close();
        settle({
          ok: false,
          code: error === 'ECONNREFUSED' ? 'connect_refused' : 'connect_failed',
          message: `cannot connect to ${where}: connect ${error}`,
        });
      });
    };
    if (net.isIP(target.host) !== 0) open(target.host);
    else {
      dnsLookup(target.host).then(
        (found) => open(found.address),
        (error: unknown) =>
          settle({
            ok: false,
            code: 'connect_failed',
            message: `cannot connect to ${where}: ${String(error)}`,
          }),
      );
    }
  });
}
