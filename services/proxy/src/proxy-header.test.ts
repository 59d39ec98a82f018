// Who the client is: the socket's peer, unless the peer is trusted; then its PROXY header, which
// it must send, within the deadline and the size bound. From anyone else, header bytes are
// just bytes: forwarded as payload, never believed.
import net from 'node:net';
import { encodeProxyHeaderV1, encodeProxyHeaderV2 } from '@podgate/proxy-protocol';
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

const config = (upstreamPort: number) =>
  appEndpoint(
    upstreamPort,
    `- expressions: ['conn.k8s.pod.metadata.namespace != "payments"']\n  actions: [{type: deny}]`,
  );
const APP = 'tcp://app.payments:7000';
const PODS = [
  pod('u-worker', '127.0.0.2', 'payments', 'worker-a'),
  pod('u-intruder', '127.0.0.3', 'other', 'intruder'),
];
const header = (version: 1 | 2, source: string) =>
  (version === 1 ? encodeProxyHeaderV1 : encodeProxyHeaderV2)({
    source: { address: source, port: 40000 },
    destination: { address: '127.0.0.1', port: 7000 },
  });

/** Trusts only 127.0.0.10 (a stand-in for a load balancer). */
const TRUSTED = { contains: (ip: string) => ip === '127.0.0.10' };

describe('proxy: PROXY headers', () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  it.each([1, 2] as const)(
    'a trusted peer’s v%i header names the client; the upstream sees only the payload',
    async (v) => {
      upstream = await startUpstream();
      proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, { trusted: TRUSTED });
      const port = proxy.port(APP);
      const allowed = await exchange(
        port,
        '127.0.0.10',
        Buffer.concat([header(v, '127.0.0.2'), Buffer.from('payload')]),
      );
      expect(allowed.received.toString()).toBe('payload');
      expect(upstream.received.map(String)).toEqual(['payload']);
      expect(proxy.records[0]).toMatchObject({
        client: { ip: '127.0.0.2', port: 40000, from: `proxy_v${v}` },
        peer: { ip: '127.0.0.10' },
        end: 'closed',
      });
      const refused = await exchange(
        port,
        '127.0.0.10',
        Buffer.concat([header(v, '127.0.0.3'), Buffer.from('x')]),
      );
      expect(refused.received.length).toBe(0);
      expect(upstream.accepted).toBe(1);
    },
  );

  it('an untrusted peer’s PROXY header is payload: its own address decides, the bytes go upstream as sent', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, { trusted: TRUSTED });
    const port = proxy.port(APP);
    // The intruder claims to be the worker: refused as itself.
    const spoof = await exchange(
      port,
      '127.0.0.3',
      Buffer.concat([header(2, '127.0.0.2'), Buffer.from('hi')]),
    );
    expect(spoof.received.length).toBe(0);
    expect(proxy.records[0]).toMatchObject({ client: { ip: '127.0.0.3', from: 'socket' }, end: 'denied' });
    // The worker sending header bytes: allowed as itself, the bytes forwarded untouched.
    const bytes = Buffer.concat([header(1, '127.0.0.3'), Buffer.from('data')]);
    const worker = await exchange(port, '127.0.0.2', bytes);
    expect(worker.received.equals(bytes)).toBe(true);
    expect(proxy.records[1]).toMatchObject({ client: { ip: '127.0.0.2', from: 'socket' }, end: 'closed' });
  });

  it('a trusted peer that sends no header, a bad one, or an oversized one is closed; nothing goes upstream', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, {
      trusted: TRUSTED,
      proxyHeaderTimeoutMs: 300,
    });
    const port = proxy.port(APP);
    const plain = await exchange(port, '127.0.0.10', 'GET / HTTP/1.1\r\n\r\n');
    const longV1 = await exchange(
      port,
      '127.0.0.10',
      `PROXY TCP4 127.0.0.2 127.0.0.1 40000 7000${' '.repeat(100)}\r\n`,
    );
    const hugeV2 = header(2, '127.0.0.2');
    hugeV2.writeUInt16BE(60_000, 14); // claims a 60 kB address block
    const oversized = await exchange(port, '127.0.0.10', hugeV2);
    for (const r of [plain, longV1, oversized]) expect(r.received.length).toBe(0);
    expect(upstream.accepted).toBe(0);
    expect(proxy.records.map((r) => r.end)).toEqual([
      'proxy_header_refused',
      'proxy_header_refused',
      'proxy_header_refused',
    ]);
  });

  it('a trusted peer that goes silent, or trickles, is closed at the header deadline', async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, {
      trusted: TRUSTED,
      proxyHeaderTimeoutMs: 300,
    });
    const started = performance.now();
    const closed = await new Promise<number>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: proxy.port(APP), localAddress: '127.0.0.10' });
      const h = header(1, '127.0.0.2');
      let sent = 0;
      // A byte every 100 ms: the whole header would take seconds.
      const timer = setInterval(() => {
        if (sent < h.length && !socket.destroyed) socket.write(h.subarray(sent, ++sent));
      }, 100);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve(performance.now() - started);
      });
    });
    expect(closed).toBeGreaterThanOrEqual(250);
    expect(closed).toBeLessThan(2_000);
    expect(proxy.records[0]).toMatchObject({
      end: 'proxy_header_refused',
      error: { code: 'proxy_header_timeout' },
    });
    expect(upstream.accepted).toBe(0);
  });
});
