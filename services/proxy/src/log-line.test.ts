// connectionLogText is JSON.stringify(connectionLogLine(record)), text for text: records with
// every optional field present or absent, hostile strings, odd numbers, and real decisions
// (allowed, denied, an evaluation error, a log action, identity found, not found, ambiguous).
import { MemoryIdentityStore, podVarsFromLookup } from '@podgate/identity';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloudEndpoint, ledgerConfig } from '../test/configs.js';
import { loadConfig, pod } from '../test/harness.js';
import type { ConnectionRecord } from './connection.js';
import { connectionLogLine, connectionLogText } from './log-line.js';

const EXTRA = `---
${cloudEndpoint({
  name: 'odd',
  url: 'tcp://odd.payments:7000',
  rules: `- name: "a \\"quoted\\" rule"
  expressions: ['conn.k8s.pod.metadata.annotations["k8s.ngrok.com/tier"] == "gold"']
  actions:
    - type: log
      config: {metadata: {n: 'size(conn.k8s.pod.metadata.name)', who: conn.k8s.pod.metadata.name}}
    - type: deny
- expressions: ['int(conn.k8s.pod.metadata.name) > 0']
  actions: [{type: deny}]
- actions: [{type: close-connection}]`,
})}`;

describe('connectionLogText', () => {
  it('is the text of connectionLogLine for any record', async () => {
    const config = loadConfig(ledgerConfig(5432) + EXTRA);
    const store = new MemoryIdentityStore();
    await store.heartbeat('test', 60_000);
    await store.reconcile('test', [
      pod('uid-a', '10.1.0.1', 'payments', 'worker-a', { 'k8s.ngrok.com/tier': 'gold' }),
      pod('uid-b', '10.1.0.2', 'web', 'odd\u2028"name\\', { 'k8s.ngrok.com/x': '\u0000\ud800</script>' }),
      pod('uid-c', '10.1.0.9', 'payments', 'twin-1'),
      pod('uid-d', '10.1.0.9', 'payments', 'twin-2'),
    ]);
    const endpoints = config.endpoints.filter(
      (e) => e.url.href.startsWith('tcp://') && !e.url.href.includes('.internal'),
    );
    const ips = ['10.1.0.1', '10.1.0.2', '10.1.0.9', '10.9.9.9'];
    const decided = [];
    for (const endpoint of endpoints) {
      for (const ip of ips) {
        const lookup = await store.lookup(ip, ['test']);
        const decision = endpoint.evaluateTcpConnect({
          conn: {
            clientIp: ip,
            clientPort: 1,
            serverIp: '127.0.0.1',
            serverPort: 5432,
            startedAt: new Date(0),
          },
          pod: podVarsFromLookup(lookup),
        });
        decided.push({ lookup, decision });
      }
    }
    expect(decided.some((d) => d.decision.logs.length > 0)).toBe(true);
    expect(decided.some((d) => d.decision.action === 'error')).toBe(true);

    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const number = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0),
    );
    const record = fc.record(
      {
        endpoint: text,
        listener: text,
        client: fc.record({
          ip: text,
          port: number,
          from: fc.constantFrom('socket', 'proxy_v1', 'proxy_v2'),
        }),
        peer: fc.record({ ip: text, port: number }),
        decided: fc.constantFrom(...decided),
        lookupMs: number,
        dryRun: fc.boolean(),
        upstream: text,
        bytesFromClient: number,
        bytesFromUpstream: number,
        durationMs: number,
        end: fc.constantFrom('completed', 'denied', 'client_gone', 'idle_timeout'),
        error: fc.record({ code: text, message: text }),
      },
      {
        requiredKeys: [
          'endpoint',
          'listener',
          'client',
          'bytesFromClient',
          'bytesFromUpstream',
          'durationMs',
          'end',
        ],
      },
    );
    fc.assert(
      fc.property(record, (r) => {
        const { decided: d, ...rest } = r;
        const full = { ...rest } as unknown as ConnectionRecord;
        if (d !== undefined) {
          full.lookup = d.lookup;
          full.decision = d.decision;
        }
        expect(connectionLogText(full)).toBe(JSON.stringify(connectionLogLine(full)));
      }),
      { numRuns: 2000 },
    );
  });
});
