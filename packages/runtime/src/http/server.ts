// Serves a Hono app on HOST:PORT (port 0: a free one). close() stops accepting, ends idle
// keep-alive sockets and waits for requests in flight; forceClose() ends every socket.
// Clients are untrusted: a request head must arrive within headersTimeoutMs and the whole
// request within requestTimeoutMs (Node answers 408 and closes), so a slowloris client holds a
// socket for seconds, not Node's default of one to five minutes. And a client may pipeline only
// a few requests behind an unfinished answer (boundPipelining, below).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { HostPort } from '../parse/host-port.js';
import { closeStalledWrites, DEFAULT_STALLED_WRITE_MS } from './stalled-writes.js';

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
  /** An answer that makes no progress this long closes its connection (stalled-writes.ts; default 60 s). */
  stalledWriteMs?: number;
}

export const DEFAULT_HTTP_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  checkIntervalMs: 1_000,
  stalledWriteMs: DEFAULT_STALLED_WRITE_MS,
};

/**
 * Requests a connection may have queued behind an answer that has not gone out yet (HTTP/1.1
 * pipelining). No proxy, probe or scraper pipelines this deep; browsers that did kept to about 8.
 */
export const MAX_PIPELINED_REQUESTS = 8;

const QUEUED = Symbol('podgate.pipelinedRequests');
type CountedSocket = Socket & { [QUEUED]?: number };

/**
 * Node's parser reads a whole chunk (up to 64 KiB) before it pauses a socket whose answers are
 * not being read, and calls the handler for every request in it: 1,700 pipelined
 * `GET /openapi.json` (38 bytes each, no token) were 1,700 answers of 31 KB built and held for a
 * client that never read them, 53 MB a connection. 200 such connections (15 MB sent) took
 * `podgate decision` from 146 MB to over 3 GB and kept it from answering anything for three
 * minutes, most of it after the client had gone; the proxy's and the watcher's admin ports
 * (/metrics) the same. A request queued behind an unfinished answer (its response has no socket
 * yet) is counted until the socket is handed to it; past `max` the connection is closed, and the
 * rest of the chunk already read is dropped unanswered. A request that is not pipelined costs
 * one property read.
 */
export function boundPipelining(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  max = MAX_PIPELINED_REQUESTS,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const socket = req.socket as CountedSocket;
    if (socket.destroyed) return;
    if (res.socket === null) {
      const queued = (socket[QUEUED] ?? 0) + 1;
      if (queued > max) {
        socket.destroy();
        return;
      }
      socket[QUEUED] = queued;
      res.once('socket', () => {
        socket[QUEUED] = (socket[QUEUED] ?? 1) - 1;
      });
    }
    listener(req, res);
  };
}

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
        createServer: ((options: http.ServerOptions, listener: Parameters<typeof boundPipelining>[0]) =>
          http.createServer(options, boundPipelining(listener))) as typeof http.createServer,
      },
      (info: AddressInfo) => {
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => {
                stopSweep();
                done();
              });
              if ('closeIdleConnections' in server) server.closeIdleConnections();
            }),
          forceClose: () => {
            if ('closeAllConnections' in server) server.closeAllConnections();
          },
        });
      },
    );
    const stopSweep = closeStalledWrites(server as http.Server, t.stalledWriteMs);
    server.once('error', (error) => {
      stopSweep();
      reject(error);
    });
  });
}
