// Every YAML example of ngrok's pod identity page, verbatim, with the outcome each identity gets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadPolicyFiles } from './index.js';
import { input, missing, pod, truncated } from './test-support.js';
import type { PodVars } from './types.js';

const seedDir = new URL('../../../examples/seed/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, seedDir), 'utf8');

type Outcome =
  | { action: 'deny'; rule: number }
  | { action: 'forward-internal'; rule: number; host: string }
  | { action: 'error'; rule: number; expression: number };

const MY_SVC = 'my-service.my-namespace.svc.cluster.local';
const fwd = (rule: number, host = MY_SVC): Outcome => ({ action: 'forward-internal', rule, host });
const deny = (rule: number): Outcome => ({ action: 'deny', rule });

const ids = {
  payments: pod(),
  paymentsWorkerB: pod({ name: 'worker-b' }),
  paymentsWorkerC: pod({ name: 'worker-c' }),
  other: pod({ namespace: 'other', name: 'worker-a' }),
  myNamespace: pod({ namespace: 'my-namespace' }),
  tenant1: pod({ namespace: 'tenant1' }),
  staging: pod({ annotations: { 'k8s.ngrok.com/environment': 'staging' } }),
  noAnnotation: pod({ annotations: {} }),
  missing28001: missing,
  truncatedPayments: truncated(),
  truncatedMyNamespace: truncated({ namespace: 'my-namespace' }),
} satisfies Record<string, PodVars>;

const cases: Array<{ file: string; table: Array<[keyof typeof ids, Outcome]> }> = [
  {
    file: '01-fail-closed.yaml',
    table: [
      ['myNamespace', fwd(2)],
      ['payments', deny(1)],
      ['missing28001', deny(0)],
      ['truncatedMyNamespace', deny(0)],
    ],
  },
  {
    file: '02-fail-open.yaml',
    table: [
      ['myNamespace', fwd(1)],
      ['payments', deny(0)],
      ['missing28001', fwd(1)],
      ['truncatedPayments', fwd(1)],
    ],
  },
  ...['03-namespace-agent-endpoint.yaml', '04-namespace-cloud-endpoint.yaml'].map((file) => ({
    file,
    table: [
      ['payments', fwd(2)],
      ['other', deny(1)],
      ['missing28001', deny(0)],
      ['truncatedPayments', deny(0)],
    ] as Array<[keyof typeof ids, Outcome]>,
  })),
  {
    file: '05-pod-name-allowlist.yaml',
    table: [
      ['payments', fwd(2)],
      ['paymentsWorkerB', fwd(2)],
      ['paymentsWorkerC', deny(1)],
      ['missing28001', deny(0)],
      ['truncatedPayments', deny(0)],
    ],
  },
  {
    file: '06-annotation.yaml',
    table: [
      ['payments', fwd(2)],
      ['staging', deny(1)],
      // Strict CEL: a missing map key is an error, and an error fails closed.
      ['noAnnotation', { action: 'error', rule: 1, expression: 0 }],
      ['missing28001', deny(0)],
      ['truncatedPayments', deny(0)],
    ],
  },
  {
    file: '07-multi-tenant.yaml',
    table: [
      ['tenant1', fwd(2, 'webapp.tenant1.svc.cluster.local')],
      ['payments', deny(1)],
      ['missing28001', deny(0)],
      ['truncatedPayments', deny(0)],
    ],
  },
];

describe('seed examples', () => {
  for (const { file, table } of cases) {
    describe(file, () => {
      const result = loadPolicyFiles([{ path: file, text: read(file) }]);
      it('loads', () => {
        expect(result.ok ? [] : result.errors).toEqual([]);
      });
      if (!result.ok) return;
      const evaluate =
        result.config.endpoints[0]?.evaluateTcpConnect ?? result.config.policies[0]!.evaluateTcpConnect;
      it.each(table)('%s -> %o', (who, want) => {
        const d = evaluate(input(ids[who]));
        expect(d.action).toBe(want.action);
        expect(d.allowed).toBe(want.action === 'forward-internal');
        expect(d.rule?.index).toBe(want.rule);
        if (want.action === 'forward-internal') expect(d.target).toMatchObject({ host: want.host, port: 80 });
        if (want.action === 'error') {
          expect(d.expression?.index).toBe(want.expression);
          expect(d.error?.code).toBe('policy_eval_error');
          expect(d.error?.message).toContain('k8s.ngrok.com/environment');
        }
      });
    });
  }

  it('recovers the unquoted !(...) expression exactly and warns with its place', () => {
    const text = read('05-pod-name-allowlist.yaml');
    const result = loadPolicyFiles([{ path: 'allow.yaml', text }]);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const line = text.split('\n').findIndex((l) => l.includes('- !(')) + 1;
    const sourceText = text.split('\n')[line - 1]!.replace(/^\s*- /, '');
    expect(result.config.endpoints[0]!.rules[1]!.expressions).toEqual([sourceText]);
    expect(sourceText).toBe('!(conn.k8s.pod.metadata.name in ["worker-a", "worker-b"])');
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ file: 'allow.yaml', line, severity: 'warning' });
    expect(result.warnings[0]!.message).toMatch(/quote/i);
  });

  it('the agent endpoint keeps its own upstream and finds itself by URL', () => {
    const result = loadPolicyFiles([{ path: 'a.yaml', text: read('03-namespace-agent-endpoint.yaml') }]);
    if (!result.ok) throw new Error('load failed');
    const ep = result.config.findEndpoint('HTTPS://example-hostname.ngrok.io:443');
    expect(ep?.kind).toBe('AgentEndpoint');
    expect(ep?.binding).toBe('public');
    expect(ep?.upstream).toMatchObject({ host: 'my-service.my-namespace', port: 8080 });
  });

  it('the cloud endpoints are Kubernetes-bound', () => {
    const result = loadPolicyFiles([{ path: 'm.yaml', text: read('07-multi-tenant.yaml') }]);
    if (!result.ok) throw new Error('load failed');
    const ep = result.config.findEndpoint('http://webapp-tenant1.tenant1:80');
    expect(ep).toMatchObject({ binding: 'kubernetes', name: 'webapp-tenant1', namespace: 'tenant1' });
    expect(ep?.url.port).toBe(80);
  });
});
