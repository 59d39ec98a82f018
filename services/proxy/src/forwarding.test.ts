// Forwarding as a pipe must be: every byte, in order, both ways, under backpressure; a FIN from
// either side passed on while the other keeps sending; many connections at once; a cap.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { appEndpoint } from '../test/configs.js';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';

const config = (upstreamPort: number) => appEndpoint(upstreamPort);
const APP = 'tcp://app.payments:7000';
const PODS = [pod('u-worker', '127.0.0.2', 'payments', 'worker-a')];

/** A deterministic, non-repeating-looking byte stream: chunk i of `size` bytes. */
function chunk(i: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < size; k += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    b.writeUInt32LE(x, k);
  }
  return b;
}

// Both socket layers: raw libuv handles (the default) and net.Socket streams (the fallback).
describe.each(['raw', 'net'] as const)('proxy: forwarding (%s sockets)', (socketLayer) => {
  let upstream: Upstream | undefined;
  let proxy: TestProxy | undefined;
  const servers: net.Server[] = [];
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
    for (const s of servers.splice(0)) s.close();
    proxy = undefined;
    upstream = undefined;
  });

  it('carries 256 MiB each way byte for byte, under backpressure', async () => {
    // An echo upstream that hashes what it gets; the client hashes what comes back.
    const CHUNK = 64 * 1024;
    const CHUNKS = 4096; // 256 MiB
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.pipe(s);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    proxy = await startTestProxy(loadConfig(config(port)), PODS, { socketLayer });
    const sent = createHash('sha256');
    const received = createHash('sha256');
    let receivedBytes = 0;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({
        host: '127.0.0.1',
        port: proxy!.port(APP),
        localAddress: '127.0.0.2',
        allowHalfOpen: true,
      });
      let i = 0;
      const pump = () => {
        while (i < CHUNKS) {
          const c = chunk(i++, CHUNK);
          sent.update(c);
          if (!socket.write(c)) return; // backpressure: wait for drain
        }
        socket.end();
      };
      socket.on('connect', pump);
      socket.on('drain', pump);
      socket.on('data', (d) => {
        received.update(d);
        receivedBytes += d.length;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    expect(receivedBytes).toBe(CHUNK * CHUNKS);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(proxy.records[0]).toMatchObject({
      end: 'closed',
      bytesFromClient: CHUNK * CHUNKS,
      bytesFromUpstream: CHUNK * CHUNKS,
    });
  }, 120_000);

  it('half-close, client first: the client’s FIN reaches the upstream, whose answer still comes back', async () => {
    // The upstream answers only after the client's FIN (like a request read to EOF).
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d) => parts.push(d));
      s.on('end', () => {
        s.end(`got ${Buffer.concat(parts).length} bytes`);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy = await startTestProxy(loadConfig(config((server.address() as net.AddressInfo).port)), PODS, {
      socketLayer,
    });
    const r = await exchange(proxy.port(APP), '127.0.0.2', 'x'.repeat(5000));
    expect(r.received.toString()).toBe('got 5000 bytes');
  });

  it('half-close, upstream first: the upstream’s FIN reaches the client, which can still send', async () => {
    let late = '';
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      s.end('banner then FIN');
      s.on('data', (d) => {
        late += d.toString();
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy = await startTestProxy(loadConfig(config((server.address() as net.AddressInfo).port)), PODS, {
      socketLayer,
    });
    const got = await new Promise<string>((resolve) => {
      const socket = net.connect({
        host: '127.0.0.1',
        port: proxy!.port(APP),
        localAddress: '127.0.0.2',
        allowHalfOpen: true,
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString();
      });
      socket.on('end', () => {
        // Our read side is done; our write side is still open.
        socket.end('after your FIN');
      });
      socket.on('close', () => resolve(text));
    });
    expect(got).toBe('banner then FIN');
    await new Promise((r) => setTimeout(r, 50));
    expect(late).toBe('after your FIN');
  });

  it('a thousand connections at once, each answered', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, { socketLayer });
    const port = proxy.port(APP);
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => exchange(port, '127.0.0.2', `message ${i}`, 20_000)),
    );
    for (const [i, r] of results.entries()) expect(r.received.toString()).toBe(`message ${i}`);
    expect(upstream.accepted).toBe(1000);
    expect(proxy.records.filter((r) => r.end === 'closed')).toHaveLength(1000);
  }, 60_000);

  it('past --max-connections, new connections are closed at once and the open ones go on', async () => {
    upstream = await startUpstream('hold');
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, { maxConnections: 2, socketLayer });
    const port = proxy.port(APP);
    const held = [0, 1].map(
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => resolve(s));
          s.on('error', () => {});
        }),
    );
    const open = await Promise.all(held);
    await expect.poll(() => upstream!.accepted).toBe(2);
    const third = await exchange(port, '127.0.0.2', 'one too many', 2_000);
    expect(third).toMatchObject({ closedBy: 'peer' });
    expect(third.received.length).toBe(0);
    expect(upstream.accepted).toBe(2);
    expect(proxy.proxy.open()).toBe(2);
    for (const s of open) s.destroy();
  });
});
