// `podgate dev`'s demo upstreams: for every upstream of the configuration on this machine
// (127.0.0.1:PORT), a tiny server that answers whatever connects, so that a connection the
// proxy forwards gets an answer you can see. An HTTP request gets an HTTP response; anything
// else gets one line. A port already taken (your own server) is left to its owner.
import net from 'node:net';
import type { PolicyConfig } from '@podgate/policy';

export interface DemoUpstreams {
  /** `127.0.0.1:PORT` -> what answers there. */
  serving: Map<string, string>;
  /** `127.0.0.1:PORT` -> why not (address in use). */
  skipped: Map<string, string>;
  close(): Promise<void>;
}

/** Upstream addresses on this machine, with the endpoint that names them. */
export function localUpstreams(config: PolicyConfig): Map<number, string> {
  const ports = new Map<number, string>();
  for (const endpoint of config.endpoints) {
    const upstream = endpoint.upstream;
    if (upstream === undefined || upstream.host !== '127.0.0.1') continue;
    if (!ports.has(upstream.port)) ports.set(upstream.port, endpoint.url.href);
  }
  return ports;
}

export async function startDemoUpstreams(config: PolicyConfig): Promise<DemoUpstreams> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const serving = new Map<string, string>();
  const skipped = new Map<string, string>();
  for (const [port, endpoint] of localUpstreams(config)) {
    const where = `127.0.0.1:${port}`;
    const hello = `hello from ${endpoint} (podgate dev's demo upstream on ${where})\n`;
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      socket.setTimeout(10_000, () => socket.destroy());
      socket.once('data', (first) => {
        const http = /^[A-Z]{3,7} \S+ HTTP\/1\.[01]\r?\n/.test(first.subarray(0, 64).toString('latin1'));
        socket.end(
          http
            ? `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(hello)}\r\nconnection: close\r\n\r\n${hello}`
            : hello,
        );
      });
    });
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        skipped.set(
          where,
          err.code === 'EADDRINUSE' ? 'address in use (left to whatever listens there)' : err.message,
        );
        resolve(false);
      });
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      servers.push(server);
      serving.set(where, endpoint);
    }
  }
  return {
    serving,
    skipped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
