// Serves a Hono app on HOST:PORT (port 0: a free one). close() stops accepting, ends idle
// keep-alive sockets and waits for requests in flight; forceClose() ends every socket.
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

export function listenHttp(app: Hono, listen: HostPort): Promise<HttpServerHandle> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: listen.host, port: listen.port },
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
