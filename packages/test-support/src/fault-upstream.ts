// An upstream for the proxy that tests can turn bad: it echoes (the default), stalls (accepts,
// reads, never answers) or resets (accepts, then RST). Each connection may start with a PROXY
// protocol v1 header (the proxy sends one when the endpoint's upstream asks for it): the
// upstream records which client it names, so a test knows, independently of the proxy's own
// log, every client that was let through.
import net from 'node:net';

export type UpstreamMode = 'echo' | 'stall' | 'reset';

export interface UpstreamArrival {
  /** The client the PROXY header names; null without a header. */
  clientIp: string | null;
  clientPort: number | null;
  /** performance.now() of the test process when the header was read (or the connection accepted). */
  at: number;
}

export interface FaultUpstream {
  port: number;
  mode: UpstreamMode;
  accepted: number;
  /** Connections whose PROXY header was malformed. */
  badHeaders: number;
  onArrival(listener: (arrival: UpstreamArrival) => void): void;
  /** Connections open right now (a stalled one until the proxy ends it). */
  open(): number;
  close(): Promise<void>;
}

/** The longest PROXY v1 header (the spec's 107 bytes). */
const V1_MAX = 107;
const V1 = /^PROXY (TCP4|TCP6|UNKNOWN)(?: (\S+) (\S+) (\d+) (\d+))?$/;

export async function startFaultUpstream(
  options: { expectProxyHeader?: boolean } = {},
): Promise<FaultUpstream> {
  const expectHeader = options.expectProxyHeader ?? true;
  const sockets = new Set<net.Socket>();
  const listeners: Array<(arrival: UpstreamArrival) => void> = [];
  const arrive = (arrival: UpstreamArrival) => {
    for (const l of listeners) l(arrival);
  };
  const upstream: FaultUpstream = {
    port: 0,
    mode: 'echo',
    accepted: 0,
    badHeaders: 0,
    onArrival: (listener) => {
      listeners.push(listener);
    },
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const serve = (socket: net.Socket, rest: Buffer) => {
    if (upstream.mode === 'reset') {
      socket.resetAndDestroy();
      return;
    }
    if (upstream.mode === 'stall') {
      // Reads (so the client is not pushed back), answers nothing; lets go once the proxy has
      // (so `open()` counts the connections the proxy still holds).
      socket.on('end', () => socket.destroy());
      return;
    }
    if (rest.length > 0) socket.write(rest);
    socket.on('data', (chunk: Buffer) => {
      if (upstream.mode === 'echo') socket.write(chunk);
    });
    socket.on('end', () => socket.end());
  };

  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    upstream.accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    if (!expectHeader) {
      arrive({ clientIp: null, clientPort: null, at: performance.now() });
      serve(socket, Buffer.alloc(0));
      return;
    }
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n');
      if (end < 0) {
        if (head.length > V1_MAX) {
          upstream.badHeaders++;
          socket.removeListener('data', onData);
          socket.destroy();
        }
        return;
      }
      socket.removeListener('data', onData);
      const match = V1.exec(head.subarray(0, end).toString('latin1'));
      if (match === null) {
        upstream.badHeaders++;
        socket.destroy();
        return;
      }
      arrive({
        clientIp: match[2] ?? null,
        clientPort: match[4] !== undefined ? Number(match[4]) : null,
        at: performance.now(),
      });
      serve(socket, head.subarray(end + 2));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as net.AddressInfo).port;
  return upstream;
}
