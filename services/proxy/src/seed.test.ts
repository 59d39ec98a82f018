// Every example of ngrok's pod-identity document, enforced on real connections: each file as it
// is in examples/seed/ (the two bare snippets as an endpoint's inline policy), plus the internal
// endpoint their forward-internal names, served by a local upstream. Allowed pods' bytes come
// back; refused pods are closed and the upstream sees no connection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, loadConfig, pod, startTestProxy, startUpstream, type Upstream } from '../test/harness.js';

const SEED = join(import.meta.dirname, '../../../examples/seed');
const read = (file: string) => readFileSync(join(SEED, file), 'utf8');

/** The internal endpoints the seed's forward-internal URLs name, on the test's upstream. */
const internal = (port: number) =>
  ['http://my-service.my-namespace.internal', 'http://webapp.tenant1.internal']
    .map(
      (url, i) => `---
apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: AgentEndpoint
metadata: {name: internal-${i}}
spec:
  url: ${url}
  upstream: {url: "tcp://127.0.0.1:${port}"}
`,
    )
    .join('');

const snippet = (text: string) => `apiVersion: ngrok.k8s.ngrok.com/v1alpha1
kind: CloudEndpoint
metadata: {name: snippet, namespace: my-namespace}
spec:
  url: http://snippet.my-namespace
  bindings: [kubernetes]
  trafficPolicy:
    policy:
${text.replace(/^/gm, '      ')}
`;

/** Each pod on its own loopback address. */
const PODS = {
  '127.0.0.2': pod('u-a', '127.0.0.2', 'payments', 'worker-a', { 'k8s.ngrok.com/environment': 'production' }),
  '127.0.0.3': pod('u-b', '127.0.0.3', 'other', 'worker-b'),
  '127.0.0.4': pod('u-c', '127.0.0.4', 'my-namespace', 'api', { 'k8s.ngrok.com/environment': 'staging' }),
  '127.0.0.5': pod('u-d', '127.0.0.5', 'tenant1', 'webapp-client'),
};
const UNKNOWN = '127.0.0.9';
const CLIENTS = [...Object.keys(PODS), UNKNOWN];

const CASES: Array<{ file: string; allowed: string[] }> = [
  { file: '01-fail-closed.yaml', allowed: ['127.0.0.4'] },
  { file: '02-fail-open.yaml', allowed: ['127.0.0.4', UNKNOWN] },
  { file: '03-namespace-agent-endpoint.yaml', allowed: ['127.0.0.2'] },
  { file: '04-namespace-cloud-endpoint.yaml', allowed: ['127.0.0.2'] },
  { file: '05-pod-name-allowlist.yaml', allowed: ['127.0.0.2', '127.0.0.3'] },
  // worker-b and webapp-client have no environment annotation: a run-time error, refused.
  { file: '06-annotation.yaml', allowed: ['127.0.0.2'] },
  { file: '07-multi-tenant.yaml', allowed: ['127.0.0.5'] },
];

describe('proxy: the seed examples on real connections', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it.each(CASES)('$file', async ({ file, allowed }) => {
    const text = read(file);
    const body = text.includes('kind:') ? text : snippet(text);
    const config = loadConfig(`${body}\n${internal(upstream.port)}`);
    const proxy = await startTestProxy(config, Object.values(PODS));
    try {
      const served = config.endpoints.find((e) => e.binding !== 'internal')!;
      const before = upstream.accepted;
      const results = await Promise.all(
        CLIENTS.map((ip) => exchange(proxy.port(served.url.href), ip, `from ${ip}`)),
      );
      const through = CLIENTS.filter((ip, i) => results[i]!.received.toString() === `from ${ip}`);
      expect(through).toEqual(allowed);
      // Refused clients got nothing and reached nothing.
      expect(upstream.accepted - before).toBe(allowed.length);
      for (const r of proxy.records) {
        expect(r.end).toBe(allowed.includes(r.client.ip) ? 'closed' : 'denied');
      }
    } finally {
      await proxy.stop();
    }
  });
});
