// The proxy end to end on real loopback sockets: clients bind the pod IPs the store knows.
import { afterEach, describe, expect, it } from 'vitest';
import { ledgerConfig } from '../test/configs.js';
import {
  exchange,
  loadConfig,
  pod,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../test/harness.js';

const config = (upstreamPort: number, extra = '') => ledgerConfig(upstreamPort, { metadata: extra });

const PODS = [
  pod('u-worker', '127.0.0.2', 'payments', 'worker-a'),
  pod('u-intruder', '127.0.0.3', 'other', 'intruder'),
];
const LEDGER = 'tcp://ledger.payments:5432';

// Both socket layers: raw libuv handles (the default) and net.Socket streams (the fallback).
describe.each(['raw', 'net'] as const)(
  'proxy: on_tcp_connect on real connections (%s sockets)',
  (socketLayer) => {
    let upstream: Upstream;
    let proxy: TestProxy;
    afterEach(async () => {
      await proxy?.stop();
      await upstream?.close();
    });

    it('forwards an allowed pod both ways, and closes a refused one before the upstream sees it', async () => {
      upstream = await startUpstream();
      proxy = await startTestProxy(loadConfig(config(upstream.port)), PODS, { socketLayer });
      const port = proxy.port(LEDGER);

      const allowed = await exchange(port, '127.0.0.2', 'hello ledger');
      expect(allowed.received.toString()).toBe('hello ledger');
      expect(upstream.accepted).toBe(1);

      const refused = await exchange(port, '127.0.0.3', 'let me in');
      expect(refused.received.length).toBe(0);
      expect(refused.closedBy).toBe('peer');
      const unknown = await exchange(port, '127.0.0.9', 'who am i');
      expect(unknown.received.length).toBe(0);
      // Neither refused connection reached the upstream: not a byte, not a handshake.
      expect(upstream.accepted).toBe(1);
      expect(upstream.received.map(String)).toEqual(['hello ledger']);

      expect(proxy.records.map((r) => [r.client.ip, r.end, r.decision?.action])).toEqual([
        ['127.0.0.2', 'closed', 'forward-internal'],
        ['127.0.0.3', 'denied', 'deny'],
        ['127.0.0.9', 'denied', 'deny'],
      ]);
      expect(proxy.records[0]).toMatchObject({
        bytesFromClient: 12,
        bytesFromUpstream: 12,
        upstream: `127.0.0.1:${upstream.port}`,
      });
    });

    it('a dry-run endpoint lets a refused pod through and records what it would have done', async () => {
      upstream = await startUpstream();
      const dryRun = ', annotations: {podgate.io/dry-run: "true"}';
      proxy = await startTestProxy(loadConfig(config(upstream.port, dryRun)), PODS, { socketLayer });
      const through = await exchange(proxy.port(LEDGER), '127.0.0.3', 'audit me');
      expect(through.received.toString()).toBe('audit me');
      expect(proxy.records[0]).toMatchObject({
        dryRun: true,
        end: 'closed',
        decision: { allowed: false, action: 'deny' },
      });
    });

    it('an upstream that refuses closes the client and says why', async () => {
      upstream = await startUpstream();
      const port = upstream.port;
      await upstream.close();
      proxy = await startTestProxy(loadConfig(config(port)), PODS, { socketLayer });
      const r = await exchange(proxy.port(LEDGER), '127.0.0.2', 'anyone?');
      expect(r.received.length).toBe(0);
      expect(proxy.records[0]).toMatchObject({ end: 'connect_refused', error: { code: 'connect_refused' } });
    });

    it('forward-internal with on_error: continue goes on to the next rule when its upstream refuses', async () => {
      upstream = await startUpstream();
      const dead = await startUpstream();
      const deadPort = dead.port;
      await dead.close();
      const text = `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: primary, namespace: payments}
spec:
  url: tcp://primary.payments.internal:5432
  upstream: {url: "tcp://127.0.0.1:${deadPort}"}
---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: standby, namespace: payments}
spec:
  url: tcp://standby.payments.internal:5432
  upstream: {url: "tcp://127.0.0.1:${upstream.port}"}
---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: ledger, namespace: payments}
spec:
  url: tcp://ledger.payments:5432
  bindings: [kubernetes]
  trafficPolicy:
    policy:
      on_tcp_connect:
        - actions:
            - type: forward-internal
              config: {url: "tcp://primary.payments.internal:5432", on_error: continue}
        - expressions: ['actions.ngrok.forward_internal.error.code == "connect_refused"']
          actions:
            - type: forward-internal
              config: {url: "tcp://standby.payments.internal:5432"}
        - actions: [{type: deny}]
`;
      proxy = await startTestProxy(loadConfig(text), PODS, { socketLayer });
      const r = await exchange(proxy.port(LEDGER), '127.0.0.2', 'to the standby');
      expect(r.received.toString()).toBe('to the standby');
      expect(proxy.records[0]).toMatchObject({
        end: 'closed',
        upstream: `127.0.0.1:${upstream.port}`,
        decision: { allowed: true, rule: { index: 1 } },
      });
    });
  },
);
