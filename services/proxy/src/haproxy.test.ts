// A real HAProxy in front (TCP mode, `send-proxy` and `send-proxy-v2`), as a load balancer that
// Podgate trusts: the PROXY header it sends names the pod that connected to it, and that pod's
// identity decides. The same clients straight to Podgate are decided by their own address.
import { findHaproxy, freePort, type RunningHaproxy, startHaproxy } from '@podgate/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const bin = findHaproxy();
const config = (upstreamPort: number) =>
  appEndpoint(
    upstreamPort,
    `- expressions: ['conn.k8s.pod.metadata.error_code != "" || conn.k8s.pod.metadata.namespace != "payments"']\n  actions: [{type: deny}]`,
  );
const PODS = [
  pod('u-worker', '127.0.0.2', 'payments', 'worker-a'),
  pod('u-intruder', '127.0.0.3', 'other', 'intruder'),
];

describe.skipIf(bin === null)(
  `proxy behind a real HAProxy${bin === null ? ' (SKIPPED: no haproxy on the PATH)' : ''}`,
  () => {
    let upstream: Upstream;
    let proxy: TestProxy;
    let haproxy: RunningHaproxy;
    let v1Port: number;
    let v2Port: number;
    beforeAll(async () => {
      upstream = await startUpstream();
      // HAProxy connects from 127.0.0.1; only it is trusted to name the client.
      proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, {
        trusted: { contains: (ip) => ip === '127.0.0.1' },
      });
      const target = proxy.port('tcp://app.payments:7000');
      v1Port = await freePort();
      v2Port = await freePort();
      haproxy = await startHaproxy(
        bin!,
        `global
  nbthread 1
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
listen v1
  bind 127.0.0.1:${v1Port}
  server podgate 127.0.0.1:${target} send-proxy
listen v2
  bind 127.0.0.1:${v2Port}
  server podgate 127.0.0.1:${target} send-proxy-v2
`,
      );
    });
    afterAll(async () => {
      await haproxy?.stop();
      await proxy?.stop();
      await upstream?.close();
    });

    it.each(['v1', 'v2'] as const)('send-proxy %s: the pod behind HAProxy is the client', async (v) => {
      const port = v === 'v1' ? v1Port : v2Port;
      proxy.records.length = 0;
      const allowed = await exchange(port, '127.0.0.2', `hello via ${v}`);
      expect(allowed.received.toString()).toBe(`hello via ${v}`);
      const refused = await exchange(port, '127.0.0.3', 'let me in');
      expect(refused.received.length).toBe(0);
      expect(proxy.records.map((r) => [r.client.ip, r.client.from, r.peer?.ip, r.end])).toEqual([
        ['127.0.0.2', `proxy_${v}`, '127.0.0.1', 'closed'],
        ['127.0.0.3', `proxy_${v}`, '127.0.0.1', 'denied'],
      ]);
      // The upstream got the payload only, never HAProxy's header.
      expect(upstream.received.at(-1)!.toString()).toBe(`hello via ${v}`);
    });
  },
);
