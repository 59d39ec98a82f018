// --half-close-timeout: once either side has sent its FIN, a connection with no byte either way
// for that long is ended (`half_close_timeout`), however long --idle-timeout is; traffic in the
// direction still open keeps it alive; 0 leaves the idle timeout alone in charge.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import { loadConfig, pod, startTestProxy, type TestProxy } from '../test/harness.js';

const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];

interface Upstream {
  port: number;
  /** Bytes read, and whether the proxy passed the client's FIN on, per connection. */
  seen: { received: string; ended: boolean }[];
  close(): Promise<void>;
}

/** An upstream that never closes; `onConnection` decides what else it does. */
async function startUpstream(onConnection: (socket: net.Socket) => void = () => {}): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const seen: Upstream['seen'] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const entry = { received: '', ended: false };
    seen.push(entry);
    socket.on('data', (chunk) => {
      entry.received += chunk.toString();
    });
    socket.on('end', () => {
      entry.ended = true;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface ClientRun {
  /**
   * From the client's FIN to the proxy closing it; for a client that sends no FIN, from its
   * connect to the proxy's FIN (its close: the tests that use it never have the upstream FIN).
   */
  closedAfterMs: number;
  /** From the last byte the client received to the close; null when none came. */
  quietBeforeCloseMs: number | null;
  received: string;
}

/** A client from 127.0.0.2 that sends `text`, then its FIN unless `fin` is false. */
function runClient(port: number, text: string, fin = true): Promise<ClientRun> {
  return new Promise((resolve) => {
    let received = '';
    let from = 0;
    let lastByte: number | null = null;
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2', allowHalfOpen: true });
    s.on('connect', () => {
      s.write(text);
      if (fin) s.end();
      from = performance.now();
    });
    s.on('data', (chunk) => {
      received += chunk.toString();
      lastByte = performance.now();
    });
    s.on('error', () => {});
    const over = () => {
      const now = performance.now();
      s.destroy();
      resolve({
        closedAfterMs: now - from,
        quietBeforeCloseMs: lastByte === null ? null : now - lastByte,
        received,
      });
    };
    s.on('close', over);
    if (!fin) s.on('end', over);
  });
}

describe.each(['raw', 'net'] as const)('proxy: --half-close-timeout (%s sockets)', (socketLayer) => {
  let proxy: TestProxy | undefined;
  let upstream: Upstream | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
    proxy = undefined;
    upstream = undefined;
  });

  it('a client that sends and FINs to an upstream that never answers is ended at the half-close timeout', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
      idleTimeoutMs: 10_000,
      halfCloseTimeoutMs: 400,
      socketLayer,
    });
    const run = await runClient(proxy.port(APP), 'hello');
    // The proxy reads the FIN after the client sent it: its deadline starts no sooner.
    expect(run.closedAfterMs).toBeGreaterThanOrEqual(400);
    expect(run.closedAfterMs).toBeLessThan(3_000);
    expect(upstream.seen[0]).toEqual({ received: 'hello', ended: true });
    await expect
      .poll(() => proxy!.records[0])
      .toMatchObject({ end: 'half_close_timeout', bytesFromClient: 5, bytesFromUpstream: 0 });
    expect(proxy.records[0]?.error).toBeUndefined();
  });

  it('an upstream that FINs to a client that never answers is ended at the half-close timeout', async () => {
    // The client keeps its side open and quiet, so the end is seen at the upstream: its socket
    // closes once the proxy closes its own (the upstream's FIN was sent already).
    let upstreamOpenMs = 0;
    const upstreamClosed = new Promise<void>((resolve) => {
      void startUpstream((socket) => {
        const finAt = performance.now();
        socket.end('bye');
        socket.on('close', () => {
          upstreamOpenMs = performance.now() - finAt;
          resolve();
        });
      }).then((u) => {
        upstream = u;
      });
    });
    await expect.poll(() => upstream).toBeDefined();
    proxy = await startTestProxy(loadConfig(appEndpoint(upstream!.port)), PODS, {
      idleTimeoutMs: 10_000,
      halfCloseTimeoutMs: 400,
      socketLayer,
    });
    let received = '';
    const client = net.connect({
      host: '127.0.0.1',
      port: proxy.port(APP),
      localAddress: '127.0.0.2',
      allowHalfOpen: true,
    });
    client.on('data', (chunk) => {
      received += chunk.toString();
    });
    client.on('error', () => {});
    client.on('connect', () => client.write('hi'));
    try {
      await upstreamClosed;
    } finally {
      client.destroy();
    }
    expect(received).toBe('bye');
    expect(upstreamOpenMs).toBeGreaterThanOrEqual(400);
    expect(upstreamOpenMs).toBeLessThan(3_000);
    await expect
      .poll(() => proxy!.records[0])
      .toMatchObject({ end: 'half_close_timeout', bytesFromClient: 2, bytesFromUpstream: 3 });
  });

  it('traffic in the direction still open keeps a half-closed connection past the timeout', async () => {
    // After the client's FIN the upstream answers a byte every 100 ms for 1.2 s, then goes quiet.
    upstream = await startUpstream((socket) => {
      socket.on('end', () => {
        let sent = 0;
        const timer = setInterval(() => {
          socket.write('x');
          if (++sent === 12) clearInterval(timer);
        }, 100);
        socket.on('close', () => clearInterval(timer));
      });
    });
    proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
      idleTimeoutMs: 10_000,
      halfCloseTimeoutMs: 300,
      socketLayer,
    });
    const run = await runClient(proxy.port(APP), 'go');
    expect(run.received).toBe('x'.repeat(12));
    // Open for four times the timeout while bytes came; closed only once they stopped.
    expect(run.closedAfterMs).toBeGreaterThanOrEqual(1_200);
    expect(run.quietBeforeCloseMs).toBeGreaterThanOrEqual(280);
    expect(run.quietBeforeCloseMs).toBeLessThan(3_000);
    await expect
      .poll(() => proxy!.records[0])
      .toMatchObject({ end: 'half_close_timeout', bytesFromClient: 2, bytesFromUpstream: 12 });
  });

  it('0 disables it: the idle timeout alone ends a half-closed connection', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
      idleTimeoutMs: 800,
      halfCloseTimeoutMs: 0,
      socketLayer,
    });
    const run = await runClient(proxy.port(APP), 'hello');
    expect(run.closedAfterMs).toBeGreaterThanOrEqual(800);
    expect(run.closedAfterMs).toBeLessThan(4_000);
    await expect.poll(() => proxy!.records[0]).toMatchObject({ end: 'idle_timeout', bytesFromClient: 5 });
  });

  it('a connection that never half-closes is not touched by it', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(appEndpoint(upstream.port)), PODS, {
      idleTimeoutMs: 700,
      halfCloseTimeoutMs: 100,
      socketLayer,
    });
    const run = await runClient(proxy.port(APP), 'hello', false);
    expect(run.closedAfterMs).toBeGreaterThanOrEqual(700);
    await expect.poll(() => proxy!.records[0]).toMatchObject({ end: 'idle_timeout' });
  });
});
