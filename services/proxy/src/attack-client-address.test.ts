// Attacks on "who is the client": a trusted peer's header followed by garbage or by a second
// header, the same pod spelled as IPv4-mapped IPv6 or uncompressed IPv6, leading zeros, and
// a dual-stack listener where every IPv4 peer arrives as ::ffff:a.b.c.d. The identity must
// come from the first header only, every spelling of an address must be that one address,
// and no spelling may turn an untrusted peer into a trusted one.
import net from 'node:net';
import { MemoryIdentityStore } from '@podgate/identity';
import { encodeProxyHeaderV1, encodeProxyHeaderV2 } from '@podgate/proxy-protocol';
import { parseCidrList } from '@podgate/runtime';
import { hasIpv6Loopback } from '@podgate/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';
import { planListeners } from './bindings.js';
import type { ConnectionRecord } from './connection.js';
import { type ProxyHandle, startProxy } from './proxy.js';

const config = (upstreamPort: number) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: app, namespace: payments}
spec:
  url: tcp://app.payments:7000
  bindings: [kubernetes]
  upstream: {url: "tcp://127.0.0.1:${upstreamPort}"}
  trafficPolicy:
    inline:
      on_tcp_connect:
        - expressions: ['conn.k8s.pod.metadata.namespace != "payments"']
          actions: [{type: deny}]
`;
const APP = 'tcp://app.payments:7000';
const PODS = [
  pod('u-worker', '127.0.0.2', 'payments', 'worker-a'),
  pod('u-intruder', '127.0.0.3', 'other', 'intruder'),
];
const LB = '127.0.0.10';
const TRUSTED = parseCidrList(`${LB}/32`);
if (!TRUSTED.ok) throw new Error('bad test CIDR');
const v1 = (source: string, destination = '127.0.0.1') =>
  encodeProxyHeaderV1({
    source: { address: source, port: 40000 },
    destination: { address: destination, port: 7000 },
  });
const v2 = (source: string, destination = '127.0.0.1') =>
  encodeProxyHeaderV2({
    source: { address: source, port: 40000 },
    destination: { address: destination, port: 7000 },
  });
const cat = (...parts: Array<Buffer | string>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

describe('attack: who the client is', () => {
  let upstream: Upstream | undefined;
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    await upstream?.close();
    proxy = undefined;
    upstream = undefined;
  });
  const start = async () => {
    upstream = await startUpstream();
    proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, {
      trusted: TRUSTED.list,
      proxyHeaderTimeoutMs: 500,
    });
    return { upstream, proxy, port: proxy.port(APP) };
  };

  it('a header, then garbage that looks like headers: the garbage is payload, byte for byte', async () => {
    const { upstream, proxy, port } = await start();
    const garbage = cat(
      '\x00\xff',
      v2('127.0.0.3'),
      'PROXY TCP4 127.0.0.3 127.0.0.1 1 2\r\n',
      '\r\n\r\n\x00',
    );
    const r = await exchange(port, LB, cat(v1('127.0.0.2'), garbage));
    expect(r.received.equals(garbage)).toBe(true);
    expect(upstream.received[0]!.equals(garbage)).toBe(true);
    expect(proxy.records[0]).toMatchObject({ client: { ip: '127.0.0.2', from: 'proxy_v1' }, end: 'closed' });
  });

  it('two headers: the first decides; a refused pod cannot hide behind an allowed second header', async () => {
    const { upstream, proxy, port } = await start();
    const hidden = await exchange(port, LB, cat(v2('127.0.0.3'), v2('127.0.0.2'), 'x'));
    expect(hidden.received.length).toBe(0);
    expect(upstream.accepted).toBe(0);
    expect(proxy.records[0]).toMatchObject({ client: { ip: '127.0.0.3' }, end: 'denied' });
    // And an allowed first header with a second one after it: the second goes upstream as data.
    const second = v1('127.0.0.3');
    const allowed = await exchange(port, LB, cat(v2('127.0.0.2'), second, 'x'));
    expect(allowed.received.equals(cat(second, 'x'))).toBe(true);
    expect(proxy.records[1]).toMatchObject({ client: { ip: '127.0.0.2', from: 'proxy_v2' } });
  });

  it.each([
    ['v2, IPv4-mapped IPv6 source', () => v2('::ffff:127.0.0.2', '::1'), '127.0.0.2', 'closed'],
    [
      'v2, IPv4-mapped IPv6 source of the refused pod',
      () => v2('::ffff:127.0.0.3', '::1'),
      '127.0.0.3',
      'denied',
    ],
    [
      'v1 TCP6, mapped address in hex groups',
      () => Buffer.from('PROXY TCP6 0:0:0:0:0:ffff:7f00:2 ::1 40000 7000\r\n'),
      '127.0.0.2',
      'closed',
    ],
    [
      'v1 TCP6, mapped address in mixed notation, upper case',
      () => Buffer.from('PROXY TCP6 ::FFFF:127.0.0.3 ::1 40000 7000\r\n'),
      '127.0.0.3',
      'denied',
    ],
  ])('%s names the IPv4 pod, canonically', async (_name, header, ip, end) => {
    const { upstream, proxy, port } = await start();
    const r = await exchange(port, LB, cat(header(), 'hello'));
    expect(proxy.records[0]).toMatchObject({ client: { ip }, end });
    expect(r.received.toString()).toBe(end === 'closed' ? 'hello' : '');
    expect(upstream.accepted).toBe(end === 'closed' ? 1 : 0);
  });

  it.each([
    ['leading zeros (octal to some parsers)', 'PROXY TCP4 127.000.000.002 127.0.0.1 40000 7000\r\n'],
    ['a zone', 'PROXY TCP6 fe80::1%eth0 ::1 40000 7000\r\n'],
    ['a family mismatch', 'PROXY TCP4 ::ffff:127.0.0.2 127.0.0.1 40000 7000\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 127.0.0.2 127.0.0.1 040000 7000\r\n'],
    ['two spaces', 'PROXY TCP4  127.0.0.2 127.0.0.1 40000 7000\r\n'],
  ])('a v1 header with %s is refused; nothing reaches the upstream', async (_name, line) => {
    const { upstream, proxy, port } = await start();
    const r = await exchange(port, LB, `${line}payload`);
    expect(r.received.length).toBe(0);
    expect(upstream.accepted).toBe(0);
    expect(proxy.records[0]).toMatchObject({ end: 'proxy_header_refused' });
  });

  it('a header split at every byte, with the payload glued to its last byte, still names the client', async () => {
    const { upstream, proxy, port } = await start();
    const bytes = cat(v2('127.0.0.2'), 'glued');
    const received = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ host: '127.0.0.1', port, localAddress: LB, allowHalfOpen: true });
      s.on('connect', async () => {
        for (let i = 0; i < bytes.length - 5; i++) {
          s.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, 2));
        }
        s.end(bytes.subarray(bytes.length - 5));
      });
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    expect(received).toBe('glued');
    expect(upstream.received.map(String)).toEqual(['glued']);
    expect(proxy.records[0]).toMatchObject({ client: { ip: '127.0.0.2', from: 'proxy_v2' } });
  });
});

describe.skipIf(!(await hasIpv6Loopback()))('attack: a dual-stack listener ([::])', () => {
  let proxy: ProxyHandle | undefined;
  let upstream: Upstream | undefined;
  afterEach(async () => {
    await proxy?.stop(0);
    await upstream?.close();
    proxy = undefined;
  });

  async function startDualStack(records: ConnectionRecord[]) {
    upstream = await startUpstream();
    const store = new MemoryIdentityStore();
    await store.heartbeat('test', 3_600_000);
    await store.reconcile('test', PODS);
    const policy = loadConfig(config(upstream.port));
    const plans = planListeners(policy, [{ url: APP, address: { host: '::', port: 0 } }]);
    proxy = await startProxy(
      plans,
      {
        trusted: TRUSTED.ok ? TRUSTED.list : null,
        maxConnections: 100,
        connectTimeoutMs: 1_000,
        idleTimeoutMs: 5_000,
        proxyHeaderTimeoutMs: 500,
      },
      {
        lookup: (ip) => store.lookup(ip, ['test']),
        onConnection: (r) => records.push(r),
        onOverLimit: () => {},
        now: () => performance.now(),
      },
    );
    return proxy.listeners()[0]!.port;
  }

  it('IPv4 peers arrive as ::ffff:a.b.c.d: a pod is still itself, and the trusted peer still trusted', async () => {
    const records: ConnectionRecord[] = [];
    const port = await startDualStack(records);
    const direct = await exchange(port, '127.0.0.2', 'direct');
    expect(direct.received.toString()).toBe('direct');
    const refused = await exchange(port, '127.0.0.3', 'refused');
    expect(refused.received.length).toBe(0);
    const viaLb = await exchange(port, LB, cat(v1('127.0.0.2'), 'via-lb'));
    expect(viaLb.received.toString()).toBe('via-lb');
    expect(records.map((r) => [r.client.ip, r.client.from, r.end])).toEqual([
      ['127.0.0.2', 'socket', 'closed'],
      ['127.0.0.3', 'socket', 'denied'],
      ['127.0.0.2', 'proxy_v1', 'closed'],
    ]);
    expect(records[2]!.peer?.ip).toBe(LB);
  });

  it('::1 is not 127.0.0.1: a peer at ::1 is neither a pod at 127.0.0.1 nor the trusted 127.0.0.10', async () => {
    const records: ConnectionRecord[] = [];
    const port = await startDualStack(records);
    const r = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ host: '::1', port, allowHalfOpen: true });
      s.on('connect', () => s.end(cat(v1('127.0.0.2'), 'spoof')));
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('error', () => {});
      s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
    // Not trusted, so its header is not read: ::1 owns no pod, and the policy refuses it.
    expect(r).toBe('');
    expect(records[0]).toMatchObject({ client: { ip: '::1', from: 'socket' }, end: 'denied' });
  });
});
