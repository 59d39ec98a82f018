// Serves a Hono app on HOST:PORT (port 0: a free one). close() stops accepting, ends idle
// keep-alive sockets and waits for requests in flight; forceClose() ends every socket.
// Clients are untrusted: a request head must arrive within headersTimeoutMs and the whole
// request within requestTimeoutMs (Node answers 408 and closes), so a slowloris client holds a
// socket for seconds, not Node's default of one to five minutes.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { HostPort } from '../parse/host-port.js';

export interface HttpServerHandle {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  close(): Promise<void>;
  forceClose(): void;
}

export interface HttpTimeouts {
  /** The request head must be complete within this (default 10 s). */
  headersTimeoutMs?: number;
  /** The whole request, body included, within this (default 30 s). */
  requestTimeoutMs?: number;
  /** How often Node checks the two above (default 1 s; Node's own is 30 s). */
  checkIntervalMs?: number;
}

export const DEFAULT_HTTP_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  checkIntervalMs: 1_000,
};

export function listenHttp(
  app: Hono,
  listen: HostPort,
  timeouts: HttpTimeouts = {},
): Promise<HttpServerHandle> {
  const t = { ...DEFAULT_HTTP_TIMEOUTS, ...timeouts };
  return new Promise((resolve, reject) => {
    const server = serve(
      {
        fetch: app.fetch,
        hostname: listen.host,
        port: listen.port,
        serverOptions: {
          headersTimeout: t.headersTimeoutMs,
          requestTimeout: t.requestTimeoutMs,
          connectionsCheckingInterval: t.checkIntervalMs,
        },
      },
      (info: AddressInfo) => {
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              if ('closeIdleConnections' in server) server.closeIdleConnections();
            }),
          forceClose: () => {
            if ('closeAllConnections' in server) server.closeAllConnections();
          },
        });
      },
    );
    server.once('error', reject);
  });
}
