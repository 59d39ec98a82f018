// Serves the health/metrics app on HOST:PORT; close() stops accepting and ends idle sockets.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

export interface HttpServerHandle {
  port: number;
  close(): Promise<void>;
}

export function listenHttp(app: Hono, host: string, port: number): Promise<HttpServerHandle> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeIdleConnections' in server) server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
