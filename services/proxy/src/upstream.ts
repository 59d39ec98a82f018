// Connecting to where an allowed connection goes, with a deadline. A PROXY header for the
// upstream (its `proxyProtocolVersion`) is written before anything of the client's.
import net from 'node:net';
import { formatHostPort } from '@podgate/runtime';

export type UpstreamFailure = 'connect_timeout' | 'connect_refused' | 'connect_failed';

export type UpstreamResult =
  | { ok: true; socket: net.Socket; connectMs: number }
  | { ok: false; code: UpstreamFailure; message: string };

export interface UpstreamOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Written first, on connect. */
  header?: Buffer;
  now: () => number;
}

export function connectUpstream(options: UpstreamOptions): Promise<UpstreamResult> {
  const started = options.now();
  return new Promise((resolve) => {
    // allowHalfOpen: a FIN from the upstream must not end our write side (splice.ts).
    const socket = net.connect({
      host: options.host,
      port: options.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    let settled = false;
    const fail = (code: UpstreamFailure, message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, code, message });
    };
    const timer = setTimeout(
      () =>
        fail('connect_timeout', `no connection to ${formatHostPort(options)} within ${options.timeoutMs} ms`),
      options.timeoutMs,
    );
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (options.header !== undefined) socket.write(options.header);
      resolve({ ok: true, socket, connectMs: options.now() - started });
    });
    // Stays attached: an 'error' with no listener would crash the process, and the owner's
    // own listener comes a tick later (fail() ignores errors once settled).
    const onError = (err: NodeJS.ErrnoException) => {
      fail(
        err.code === 'ECONNREFUSED' ? 'connect_refused' : 'connect_failed',
        `cannot connect to ${formatHostPort(options)}: ${err.message}`,
      );
    };
    socket.on('error', onError);
  });
}
